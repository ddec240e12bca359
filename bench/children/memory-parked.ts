/**
 * Child process of the memory-parked scenario (run with `--expose-gc`):
 * `node --expose-gc --import tsx bench/children/memory-parked.ts --mode flowrun|asl [--count 1000]`.
 *
 * flowrun: a FlowService with its default settings (execution window of 1,000 with history) on
 * the real clock; after a warm-up (count / 10, twice) on a throwaway service, `count`
 * StartSyncExecution calls of an
 * express flow parked in a 20 s Wait state; resident memory is compared after full GCs before
 * and once every execution is parked; then every execution is stopped (its signal aborted) and
 * must end Stopped.
 *
 * asl (the baseline): the same measurement of `count` executions of the equivalent Amazon States
 * Language machine parked in its 20 s Wait state by the aws-local-stepfunctions package, then
 * aborted.
 *
 * Prints one JSON line: {rss, heapUsed, external} deltas in bytes and the count.
 */
import { setImmediate as tick } from 'node:timers/promises';
import { FlowService } from '../../src/fnf/service.js';
import type { SyncExecutionView } from '../../src/fnf/types.js';
import { createRuntime } from '../../src/runtime.js';
import type { Runtime } from '../../src/runtime.js';
import { StateMachine } from 'aws-local-stepfunctions';
import { waitDefinition } from '../flows.js';
import { option } from '../servers/announce.js';

const WAIT_SECONDS = 20;
const FLOW = 'park';
const mode = option('mode', 'BENCH_MEMORY_MODE', 'flowrun');
const count = Number(option('count', 'BENCH_MEMORY_COUNT', '1000'));
/**
 * Executions parked (then stopped) to warm up, twice. Fewer than `count`: warming up with as many
 * as are measured would leave the heap grown to hold them, and the measured RSS would not grow.
 */
const warmUpCount = Math.max(1, Math.floor(count / 10));

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

interface Usage {
  rss: number;
  heapUsed: number;
  external: number;
}

async function settledUsage(): Promise<Usage> {
  for (let i = 0; i < 4; i++) {
    gc?.();
    await tick();
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external };
}

async function newService(runtime: Runtime): Promise<FlowService> {
  const service = new FlowService({ runtime });
  await service.createFlow({ Name: FLOW, Definition: JSON.stringify(waitDefinition(FLOW, WAIT_SECONDS)), Description: '', Type: 'FDL', ExecutionMode: 'Express' });
  return service;
}

/** Starts `n` executions; resolves once every one of them waits in the Wait state. */
async function park(service: FlowService, n: number): Promise<{ controllers: AbortController[]; done: Promise<SyncExecutionView[]> }> {
  const controllers = Array.from({ length: n }, () => new AbortController());
  const done = Promise.all(controllers.map((c) => service.startSyncExecution({ FlowName: FLOW }, c.signal)));
  for (let i = 0; i < 10_000; i++) {
    await tick();
    const { items } = service.window.list({ flowName: FLOW, limit: n, status: 'Running' });
    const parked = items.filter((r) => r.history?.events().some((e) => e.type === 'WaitStarted')).length;
    if (service.stats().running === n && parked === n) return { controllers, done };
  }
  throw new Error(`the executions did not all park (running ${service.stats().running} of ${n})`);
}

async function stopAll(parked: { controllers: AbortController[]; done: Promise<SyncExecutionView[]> }): Promise<void> {
  for (const c of parked.controllers) c.abort(new Error('benchmark done'));
  const views = await parked.done;
  const notStopped = views.filter((v) => v.Status !== 'Stopped');
  if (notStopped.length > 0) throw new Error(`${notStopped.length} executions ended ${notStopped[0]?.Status}, not Stopped`);
}

async function measureFlowrun(): Promise<{ before: Usage; after: Usage }> {
  const runtime = createRuntime({ functionsDir: 'bench/children' });
  // warm up (JIT, lazily built structures) on a service that is then dropped
  const warm = await newService(runtime);
  for (let i = 0; i < 2; i++) await stopAll(await park(warm, warmUpCount));
  await warm.close();
  const service = await newService(runtime);
  const before = await settledUsage();
  const parked = await park(service, count);
  const after = await settledUsage();
  await stopAll(parked);
  await service.close();
  await runtime.close();
  return { before, after };
}

async function measureAsl(): Promise<{ before: Usage; after: Usage }> {
  const machine = new StateMachine({
    StartAt: 'Park',
    States: { Park: { Type: 'Wait', Seconds: WAIT_SECONDS, Next: 'Done' }, Done: { Type: 'Pass', End: true } },
  } as ConstructorParameters<typeof StateMachine>[0]);
  const parkAsl = async (n: number): Promise<{ abort: () => Promise<void> }> => {
    const runs = Array.from({ length: n }, () => machine.run({}, { noThrowOnAbort: true }));
    // no way to ask whether a run waits yet: give them every chance to get there
    for (let i = 0; i < 50; i++) await tick();
    await new Promise((resolve) => setTimeout(resolve, 50));
    return {
      abort: async () => {
        for (const r of runs) r.abort();
        const results = await Promise.all(runs.map((r) => r.result));
        if (results.some((x) => x !== null)) throw new Error('an aws-local-stepfunctions run ended before it was aborted');
      },
    };
  };
  for (let i = 0; i < 2; i++) await (await parkAsl(warmUpCount)).abort();
  const before = await settledUsage();
  const parked = await parkAsl(count);
  const after = await settledUsage();
  await parked.abort();
  return { before, after };
}

const { before, after } = mode === 'asl' ? await measureAsl() : await measureFlowrun();
process.stdout.write(
  `${JSON.stringify({ mode, count, rss: after.rss - before.rss, heapUsed: after.heapUsed - before.heapUsed, external: after.external - before.external, baselineRss: before.rss })}\n`,
);
