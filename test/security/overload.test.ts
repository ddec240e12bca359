/**
 * Overload: StartSyncExecution driven far beyond capacity (4 running + 4 queued) with a flow
 * blocked on a controlled task, for a bounded number of requests (10 waves of 300). In each wave
 * the excess is answered 429 ResourceThrottled while the accepted executions are still blocked
 * (so: at once, without waiting for capacity — no timing assertion), every accepted request
 * completes once released, and memory stays under a stated bound across the waves.
 */
import { Agent } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../src/api/server.js';
import type { RunningServer } from '../../src/api/server.js';
import type { ActionDefinition } from '../../src/engine/types.js';
import { createRuntime } from '../../src/runtime.js';
import type { Runtime } from '../../src/runtime.js';
import type { Json } from '../../src/shared/json.js';
import { tempDir } from '../api/helpers.js';
import { send, silent } from './helpers.js';

const RUNNING = 4;
const QUEUED = 4;
const WAVES = 10;
const PER_WAVE = 300;
/** The stated bounds: heap growth after GC, and RSS growth, over all the waves. */
const MAX_HEAP_GROWTH_BYTES = 32 * 1024 * 1024;
const MAX_RSS_GROWTH_BYTES = 128 * 1024 * 1024;

const GATED = `Type: StateMachine
Name: gated
SpecVersion: v1
StartAt: Wait
States:
  - Type: Task
    Name: Wait
    Action: Test:Gate
    End: true
`;

/** `Test:Gate`: every call waits until `open()`; `started` counts the calls in progress. */
function gateAction(): { def: ActionDefinition; waiting(): number; open(): void } {
  let pending: (() => void)[] = [];
  const def: ActionDefinition = {
    name: 'Test:Gate',
    description: 'waits for the test',
    parametersSchema: { type: 'object' },
    highRisk: false,
    run(_params, ctx) {
      return new Promise<Json>((resolve, reject) => {
        pending.push(() => resolve({ released: true }));
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error), { once: true });
      });
    },
  };
  return {
    def,
    waiting: () => pending.length,
    open() {
      const now = pending;
      pending = [];
      for (const release of now) release();
    },
  };
}

function gc(): void {
  setFlagsFromString('--expose-gc');
  const collect = runInNewContext('gc') as () => void;
  collect();
  collect();
}

let server: RunningServer;
let runtime: Runtime;
let removeDir: () => Promise<void>;
const gate = gateAction();
const agent = new Agent({ keepAlive: true, maxSockets: PER_WAVE + 16 });

beforeAll(async () => {
  const tmp = await tempDir();
  removeDir = tmp.remove;
  await writeFile(join(tmp.dir, 'gated.yaml'), GATED);
  runtime = createRuntime({ functionsDir: join(tmp.dir, 'functions') });
  runtime.engine.registry.register(gate.def);
  server = await startServer({ port: 0, host: '127.0.0.1', flowsDir: tmp.dir, logger: silent, runtime, maxConcurrentExecutions: RUNNING, maxQueuedExecutions: QUEUED });
});
afterAll(async () => {
  gate.open();
  await server.close();
  await runtime.close();
  agent.destroy();
  await removeDir();
});

async function startSync(i: number): Promise<{ status: number; code?: string; execution?: string }> {
  const res = await send(
    server.port,
    { method: 'POST', path: '/StartSyncExecution', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ FlowName: 'gated', ExecutionName: `e${i}`, Input: '{}' }) },
    agent,
  );
  const body = JSON.parse(res.text) as { Code?: string; Status?: string };
  return { status: res.status, ...(body.Code ? { code: body.Code } : {}), ...(body.Status ? { execution: body.Status } : {}) };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 5));
}

describe('StartSyncExecution far beyond capacity', { timeout: 120_000 }, () => {
  it(`${WAVES} waves of ${PER_WAVE} requests against ${RUNNING} running + ${QUEUED} queued: excess 429 at once, accepted ones complete, memory bounded`, async () => {
    // warm up (JIT, pools, connections) before the baseline
    const warm = Array.from({ length: 20 }, (_, i) => startSync(i));
    let warmed = false;
    void Promise.all(warm).then(() => (warmed = true));
    while (!warmed) {
      gate.open();
      await new Promise((r) => setTimeout(r, 2));
    }
    gc();
    const before = process.memoryUsage();

    let accepted = 0;
    let throttled = 0;
    for (let wave = 0; wave < WAVES; wave++) {
      const settled = new Set<number>();
      const calls = Array.from({ length: PER_WAVE }, (_, i) =>
        startSync(wave * PER_WAVE + i).then((r) => {
          settled.add(i);
          return r;
        }),
      );
      // every request beyond capacity is answered while the accepted ones are still blocked
      await until(() => settled.size === PER_WAVE - RUNNING - QUEUED && gate.waiting() === RUNNING);
      expect(gate.waiting()).toBe(RUNNING);
      // release until every accepted execution has run
      while (settled.size < PER_WAVE) {
        gate.open();
        await new Promise((r) => setTimeout(r, 2));
      }
      const results = await Promise.all(calls);
      const ok = results.filter((r) => r.status === 200);
      const refused = results.filter((r) => r.status !== 200);
      expect(ok).toHaveLength(RUNNING + QUEUED);
      for (const r of ok) expect(r.execution).toBe('Succeeded');
      for (const r of refused) expect(r).toEqual({ status: 429, code: 'ResourceThrottled' });
      accepted += ok.length;
      throttled += refused.length;
    }
    expect(accepted).toBe(WAVES * (RUNNING + QUEUED));
    expect(throttled).toBe(WAVES * (PER_WAVE - RUNNING - QUEUED));

    gc();
    const after = process.memoryUsage();
    const heapGrowth = after.heapUsed - before.heapUsed;
    const rssGrowth = after.rss - before.rss;
    console.info(`overload: ${WAVES * PER_WAVE} requests, heapUsed ${(heapGrowth / 1048576).toFixed(1)} MiB, rss ${(rssGrowth / 1048576).toFixed(1)} MiB growth`);
    expect(heapGrowth).toBeLessThan(MAX_HEAP_GROWTH_BYTES);
    expect(rssGrowth).toBeLessThan(MAX_RSS_GROWTH_BYTES);

    // and the server is healthy: nothing running, nothing queued
    const health = JSON.parse((await send(server.port, { method: 'GET', path: '/health' })).text) as { Running: number; Queued: number };
    expect(health).toMatchObject({ Running: 0, Queued: 0 });
  });
});
