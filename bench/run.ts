/**
 * `npm run bench [-- <scenario...>] [--trials N] [--ms N] [--log-level L] [--cpu-prof]`: runs the
 * benchmark scenarios, prints a table of medians (with min and max) and ratios against the
 * baseline measured in the same run, and writes the raw figures to bench/results/.
 *
 * Scenarios (issue 8), in the order they run:
 * - interpreter-chain, interpreter-map: the run loop in process vs aws-local-stepfunctions.
 * - http-sync (rows `http-sync`, `http-sync p99`): flowrun's server vs a bare express echo, each
 *   in its own child process, autocannon in this process, 50 connections, fixed duration.
 * - fan-out: Map of 1,000 items, concurrency 40, over a 1 ms local function vs the ideal.
 * - memory-parked: extra RSS per execution with 1,000 executions parked in a Wait state.
 * - scale-out: the real CLI, `flowrun serve --workers 2` vs `--workers 1`, same chain flow.
 * - durable: OOS StartExecution of a 3-task template to Success on SQLite vs raw durable commits.
 *
 * `--trials`/`--ms` override every selected scenario's defaults (fan-out and memory-parked do a
 * fixed amount of work per trial and ignore `--ms`). `--cpu-prof` runs both servers of http-sync
 * under `--cpu-prof`, profiles to bench/results/profiles/ (summarize one with
 * `npx tsx bench/profile-top.ts <file>`). The http-sync and scale-out servers load flowrun's code
 * from dist/ (those scenarios run `npm run build` first), or with `--source` from the TypeScript
 * sources through tsx.
 */
import { scaleOut } from './scenarios/scale-out.js';
import { durable } from './scenarios/durable.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fanOut } from './scenarios/fan-out.js';
import { httpSync } from './scenarios/http.js';
import { interpreterChain, interpreterMap } from './scenarios/interpreter.js';
import { memoryParked } from './scenarios/memory.js';
import { goalMet } from './scenarios/types.js';
import type { Scenario, ScenarioOptions, ScenarioResult } from './scenarios/types.js';

const SCENARIOS: Scenario[] = [interpreterChain, interpreterMap, httpSync, fanOut, memoryParked, scaleOut, durable];
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    trials: { type: 'string' },
    ms: { type: 'string' },
    'log-level': { type: 'string', default: 'warn' },
    'cpu-prof': { type: 'boolean', default: false },
    source: { type: 'boolean', default: false },
  },
});
const trials = values.trials === undefined ? undefined : Number(values.trials);
const ms = values.ms === undefined ? undefined : Number(values.ms);
const logLevel = values['log-level'];
const unknown = positionals.filter((p) => !SCENARIOS.some((s) => s.name === p));
if (unknown.length > 0 || (trials !== undefined && !(trials > 0)) || (ms !== undefined && !(ms > 0)) || !LOG_LEVELS.includes(logLevel)) {
  console.error(
    `usage: npm run bench -- [${SCENARIOS.map((s) => s.name).join(' | ')}]... [--trials N] [--ms N] [--log-level ${LOG_LEVELS.join('|')}] [--cpu-prof] [--source]`,
  );
  process.exit(2);
}
const selected = positionals.length > 0 ? SCENARIOS.filter((s) => positionals.includes(s.name)) : SCENARIOS;
const cpuProfDir = values['cpu-prof'] ? join('bench', 'results', 'profiles') : undefined;
const code = values.source ? 'src' : 'dist';

const fmt = (n: number): string => (Math.abs(n) >= 100 || Number.isInteger(n) ? Math.round(n).toLocaleString('en-US') : n.toFixed(2));
const log = (message: string): void => {
  process.stderr.write(`${message}\n`);
};
const began = performance.now();
log(`HTTP servers log at '${logLevel}' (pino; at 'warn' no per-request line is written)`);
const results: ScenarioResult[] = [];
const settings: Record<string, { trials: number; ms: number }> = {};
for (const scenario of selected) {
  const options: ScenarioOptions = {
    trials: trials ?? scenario.defaults.trials,
    ms: ms ?? scenario.defaults.ms,
    logLevel,
    code,
    log,
    ...(cpuProfDir ? { cpuProfDir } : {}),
  };
  settings[scenario.name] = { trials: options.trials, ms: options.ms };
  const started = performance.now();
  log(`running ${scenario.name} (${options.trials} trials${options.ms > 0 ? ` x ${options.ms} ms` : ''})...`);
  results.push(...(await scenario.run(options)));
  log(`  ${scenario.name} took ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
const seconds = (performance.now() - began) / 1000;

const goalText = (r: ScenarioResult): string => {
  if (!r.goal) return '';
  const met = goalMet(r);
  const target = r.goal.on === 'flowrun' ? `flowrun ${r.goal.op === '>=' ? '≥' : '≤'} ${r.goal.value}` : `${r.goal.op === '>=' ? '≥' : '≤'} ${r.goal.value}x`;
  return `${target}: ${met ? 'met' : '**not met**'}`;
};
console.log(`\n| scenario (unit) | flowrun median [min–max] | baseline | baseline median [min–max] | ratio median [min–max] | goal |`);
console.log('|---|---|---|---|---|---|');
for (const r of results) {
  console.log(
    `| ${r.name} (${r.unit}) | ${fmt(r.flowrun.median)} [${fmt(r.flowrun.min)}–${fmt(r.flowrun.max)}] | ${r.baseline.name} | ${fmt(r.baseline.median)} [${fmt(r.baseline.min)}–${fmt(r.baseline.max)}] | **${r.ratio.median.toFixed(2)}x** [${r.ratio.min.toFixed(2)}–${r.ratio.max.toFixed(2)}] | ${goalText(r)} |`,
  );
  if (r.extra) console.log(`|   ${Object.entries(r.extra).map(([k, v]) => `${k}: ${typeof v === 'number' ? fmt(v) : v}`).join(', ')} | | | | | |`);
}

const date = new Date().toISOString();
const machine = {
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? 'unknown',
  memoryBytes: totalmem(),
  platform: process.platform,
  arch: process.arch,
  loadAverage: loadavg(),
};
const report = { date, node: process.version, machine, options: { logLevel, code, settings }, durationSeconds: seconds, results };
const dir = join('bench', 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `bench-${date.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
const httpCode = selected.includes(httpSync) || selected.includes(scaleOut) ? `; http-sync/scale-out servers ran flowrun's code from ${code === 'dist' ? 'dist/ (compiled)' : 'src/ (tsx)'}` : '';
console.log(`\n${machine.cpus} × ${machine.cpuModel}, Node ${process.version}; servers logged at '${logLevel}'${httpCode}; took ${Math.round(seconds)} s`);
console.log(`raw figures: ${file}`);
