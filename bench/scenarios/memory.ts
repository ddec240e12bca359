/**
 * Memory: 1,000 sync executions parked in a Wait state at once. Each trial is a fresh child
 * process (see bench/children/memory-parked.ts) measuring the resident memory after full GCs
 * before and while the executions are parked; the extra RSS per parked execution is the delta /
 * 1,000, held against the aim (20 KB). The heap delta (V8 heap used + external) is reported too:
 * it is exact where RSS moves in whole pages, so the comparison with the baseline — 1,000
 * executions of the equivalent machine parked in a Wait state by the aws-local-stepfunctions
 * package, measured the same way in the same run — uses it.
 */
import { spawn } from 'node:child_process';
import { summarize } from '../stats.js';
import type { Scenario, ScenarioResult } from './types.js';

export const PARKED_EXECUTIONS = 1000;
/** The aim per parked execution (KB = 1,024 bytes). */
export const PARKED_AIM_KB = 20;
const CHILD = 'bench/children/memory-parked.ts';
/**
 * `--expose-gc` for the full GCs; the young generation pinned at 16 MB (its default maximum,
 * where a busy server's is anyway): otherwise V8 grows it while the executions are being parked
 * and the RSS delta measures that growth (up to 32 MB) rather than the parked executions.
 */
const CHILD_FLAGS = ['--expose-gc', '--min-semi-space-size=16', '--max-semi-space-size=16'];

interface ChildResult {
  mode: string;
  count: number;
  rss: number;
  heapUsed: number;
  external: number;
  baselineRss: number;
}

function runChild(mode: 'flowrun' | 'asl'): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CHILD_FLAGS, '--import', 'tsx', CHILD, '--mode', mode, '--count', String(PARKED_EXECUTIONS)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = out.trim().split('\n').reverse().find((l) => l.startsWith('{'));
      if (code !== 0 || !line) {
        reject(new Error(`${CHILD} --mode ${mode} exited with ${code}: ${out.slice(-500)}`));
        return;
      }
      resolve(JSON.parse(line) as ChildResult);
    });
  });
}

const kb = (bytes: number): number => bytes / PARKED_EXECUTIONS / 1024;

export const memoryParked: Scenario = {
  name: 'memory-parked',
  defaults: { trials: 5, ms: 0 },
  async run(options): Promise<ScenarioResult[]> {
    const ours: ChildResult[] = [];
    const theirs: ChildResult[] = [];
    for (let t = 0; t < options.trials; t++) {
      ours.push(await runChild('flowrun'));
      theirs.push(await runChild('asl'));
      const a = ours[ours.length - 1] as ChildResult;
      const b = theirs[theirs.length - 1] as ChildResult;
      options.log(
        `  trial ${t + 1}: flowrun ${kb(a.rss).toFixed(2)} KB RSS / ${kb(a.heapUsed).toFixed(2)} KB heap per parked execution; ` +
          `aws-local-stepfunctions ${kb(b.rss).toFixed(2)} KB RSS / ${kb(b.heapUsed).toFixed(2)} KB heap`,
      );
    }
    const rss = ours.map((r) => kb(r.rss));
    const heap = ours.map((r) => kb(r.heapUsed + r.external));
    const aslRss = theirs.map((r) => kb(r.rss));
    const aslHeap = theirs.map((r) => kb(r.heapUsed + r.external));
    // The bound: the largest RSS or heap figure of any trial, rounded up to a whole KB.
    const bound = Math.ceil(Math.max(...rss, ...heap));
    const baseline = 'aws-local-stepfunctions (same measurement, same run)';
    const what = `${PARKED_EXECUTIONS} StartSyncExecution calls parked in a 20 s Wait (FlowService defaults: window of 1,000 with history), after full GCs`;
    return [
      {
        name: 'memory-parked',
        description: `extra RSS per execution, ${what}`,
        unit: 'KB RSS per parked execution',
        flowrun: summarize(rss),
        // RSS moves in pages: the baseline's few MB land in pages its warm-up left free, so an RSS
        // ratio against it is noise. This row is held against the aim; the heap row compares.
        baseline: { name: `aim (${PARKED_AIM_KB} KB)`, ...summarize(rss.map(() => PARKED_AIM_KB)) },
        ratio: summarize(rss.map((x) => x / PARKED_AIM_KB)),
        goal: { op: '<=', value: 1 },
        extra: {
          boundKB: bound,
          baselineRssKB: summarize(aslRss).median,
          rssBeforeParkingMB: Math.round(summarize(ours.map((r) => r.baselineRss / 1024 / 1024)).median),
        },
      },
      {
        name: 'memory-parked heap',
        description: `extra V8 heap (used + external) per execution, ${what}`,
        unit: 'KB heap per parked execution',
        flowrun: summarize(heap),
        baseline: { name: baseline, ...summarize(aslHeap) },
        ratio: summarize(heap.map((x, i) => x / (aslHeap[i] as number))),
      },
    ];
  },
};
