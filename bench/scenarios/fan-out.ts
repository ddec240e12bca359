/**
 * Fan-out, in process: a Map of 1,000 items with MaxConcurrency 40 whose processor is one Task
 * calling a local function (FC:InvokeFunction, a file in a temporary functions folder) that
 * resolves after 1 ms with `setTimeout` (no busy-waiting). Total time against the ideal:
 * 1,000 / 40 × 1 ms plus the time of the same flow over 1 item, measured in the same run.
 * `timersAloneRatio` is the ratio the timers alone would give on this machine (waves of the
 * measured `setTimeout(1 ms)`): what is left above it is flowrun's CPU time (`cpuPerItemUs`).
 * Measured in steady state, after a warm-up ({@link WARM_UP_RUNS}).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFlowText } from '../../src/flow/load.js';
import { createRuntime } from '../../src/runtime.js';
import type { Runtime } from '../../src/runtime.js';
import type { CompiledFlow } from '../../src/flow/graph.js';
import { mapDefinition } from '../flows.js';
import { round2, summarize } from '../stats.js';
import type { Scenario, ScenarioResult } from './types.js';

export const FAN_OUT_ITEMS = 1000;
export const FAN_OUT_CONCURRENCY = 40;
export const FUNCTION_DELAY_MS = 1;
const FUNCTION_NAME = 'sleep1';
/**
 * Untimed runs of the 1,000-item flow (each followed by a 1-item run) before the trials. The
 * first runs of a process compile the interpreter, the engine and the function (30–75 µs of CPU
 * per item, V8's background compiler threads included, against 3–6 once optimized) and settle
 * only after about 6 runs of 1,000 items: with 3, the first trials measured start-up rather than
 * fan-out. The ideal is fixed (waves of 1 ms) plus the 1-item run, measured after the same warm-up.
 */
const WARM_UP_RUNS = 8;
/** Runs of the 1-item flow per trial (their median is the trial's baseline). */
const BASELINE_RUNS = 5;

const FUNCTION_SOURCE = `export function handler(event) {
  return new Promise((resolve) => setTimeout(() => resolve(event), ${FUNCTION_DELAY_MS}));
}
`;

function fanOutFlow(runtime: Runtime): CompiledFlow {
  const task = { Type: 'Task', Name: 'Work', Action: 'FC:InvokeFunction', Parameters: { functionName: FUNCTION_NAME, 'body.$': '$Input' }, End: true };
  return loadFlowText(JSON.stringify(mapDefinition('fanout', [task], FAN_OUT_CONCURRENCY)), undefined, runtime.compileOptions);
}

async function timeRun(runtime: Runtime, flow: CompiledFlow, items: number): Promise<number> {
  const input = { items: Array.from({ length: items }, (_, i) => ({ v: i })) };
  const started = performance.now();
  const r = await runtime.run(flow, input);
  const ms = performance.now() - started;
  if (r.status !== 'Succeeded') throw new Error(`the fan-out flow ended ${r.status}: ${JSON.stringify(r.error)}`);
  const out = r.output?.['Items'];
  if (!Array.isArray(out) || out.length !== items) throw new Error(`the fan-out flow returned ${Array.isArray(out) ? out.length : 'no'} items`);
  return ms;
}

/** Mean time of one `setTimeout(1 ms)` here and now (context: the timer is the floor). */
async function timerFloorMs(): Promise<number> {
  const n = 25;
  const started = performance.now();
  for (let i = 0; i < n; i++) await new Promise((resolve) => setTimeout(resolve, FUNCTION_DELAY_MS));
  return (performance.now() - started) / n;
}

export const fanOut: Scenario = {
  name: 'fan-out',
  defaults: { trials: 9, ms: 0 },
  async run(options): Promise<ScenarioResult[]> {
    const functionsDir = mkdtempSync(join(tmpdir(), 'flowrun-bench-fn-'));
    writeFileSync(join(functionsDir, `${FUNCTION_NAME}.mjs`), FUNCTION_SOURCE);
    const runtime = createRuntime({ functionsDir });
    try {
      const flow = fanOutFlow(runtime);
      for (let i = 0; i < WARM_UP_RUNS; i++) {
        await timeRun(runtime, flow, FAN_OUT_ITEMS); // warm up (and load the function)
        await timeRun(runtime, flow, 1);
      }
      const waves = (FAN_OUT_ITEMS / FAN_OUT_CONCURRENCY) * FUNCTION_DELAY_MS;
      const totals: number[] = [];
      const ideals: number[] = [];
      const singles: number[] = [];
      const floors: number[] = [];
      /** CPU time of this process per item (µs): the part flowrun can shrink. */
      const cpuPerItem: number[] = [];
      for (let t = 0; t < options.trials; t++) {
        const one: number[] = [];
        for (let i = 0; i < BASELINE_RUNS; i++) one.push(await timeRun(runtime, flow, 1));
        const single = summarize(one).median;
        singles.push(single);
        ideals.push(waves + single);
        const cpu = process.cpuUsage();
        totals.push(await timeRun(runtime, flow, FAN_OUT_ITEMS));
        const used = process.cpuUsage(cpu);
        cpuPerItem.push((used.user + used.system) / FAN_OUT_ITEMS);
        floors.push(await timerFloorMs());
      }
      // The ratio the timers alone would give here: each wave lasting one measured setTimeout(1 ms).
      const timersAlone = floors.map((floor, i) => ((FAN_OUT_ITEMS / FAN_OUT_CONCURRENCY) * floor + (singles[i] as number)) / (ideals[i] as number));
      return [
        {
          name: 'fan-out',
          description: `Map of ${FAN_OUT_ITEMS} items, MaxConcurrency ${FAN_OUT_CONCURRENCY}, Task → local function resolving after ${FUNCTION_DELAY_MS} ms (setTimeout); ideal = ${FAN_OUT_ITEMS}/${FAN_OUT_CONCURRENCY} × ${FUNCTION_DELAY_MS} ms + 1-item run`,
          unit: 'ms, lower is better',
          flowrun: summarize(totals),
          baseline: { name: `ideal (${waves} ms + 1-item run)`, ...summarize(ideals) },
          ratio: summarize(totals.map((x, i) => x / (ideals[i] as number))),
          goal: { op: '<=', value: 1.2 },
          extra: {
            oneItemRunMs: summarize(singles).median,
            setTimeout1msTakesMs: summarize(floors).median,
            timersAloneRatio: round2(summarize(timersAlone).median),
            cpuPerItemUs: Math.round(summarize(cpuPerItem).median),
          },
        },
      ];
    } finally {
      await runtime.close();
      rmSync(functionsDir, { recursive: true, force: true });
    }
  },
};
