/**
 * Scale-out: the real CLI, `flowrun serve --workers 2` against `--workers 1`, serving the same
 * 10-state express chain from the same flows folder, loaded in turn by autocannon from this
 * process (127.0.0.1 only, 50 connections, fixed duration), log level `warn` on both.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHAIN_FLOW_NAME, chainDefinition } from '../flows.js';
import type { Child } from '../spawn.js';
import { summarize } from '../stats.js';
import { HTTP_CONNECTIONS, load } from './http.js';
import type { LoadResult } from './http.js';
import type { Scenario, ScenarioOptions, ScenarioResult } from './types.js';

/** A free loopback port (the cluster's workers share the one given on the command line). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function serveWorkers(workers: number, flowsDir: string, dataDir: string): Promise<Child> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--workers', String(workers), '--port', String(port), '--flows', flowsDir, '--data-dir', dataDir, '--log-level', 'warn'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`flowrun serve --workers ${workers} did not start`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    ready: { port, logLevel: 'warn' } as Child['ready'],
    process: child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export const scaleOut: Scenario = {
  name: 'scale-out',
  defaults: { trials: 3, ms: 5000 },
  async run(options: ScenarioOptions): Promise<ScenarioResult[]> {
    const dir = mkdtempSync(join(tmpdir(), 'flowrun-bench-scale-'));
    writeFileSync(join(dir, `${CHAIN_FLOW_NAME}.json`), JSON.stringify(chainDefinition()));
    const two = await serveWorkers(2, dir, join(dir, 'data2'));
    let one: Child | undefined;
    try {
      one = await serveWorkers(1, dir, join(dir, 'data1'));
      const warmMs = Math.min(2000, options.ms);
      await load(two, warmMs);
      await load(one, warmMs);
      const a: LoadResult[] = [];
      const b: LoadResult[] = [];
      for (let t = 0; t < options.trials; t++) {
        if (t % 2 === 0) {
          a.push(await load(two, options.ms));
          b.push(await load(one, options.ms));
        } else {
          b.push(await load(one, options.ms));
          a.push(await load(two, options.ms));
        }
        options.log(`  trial ${t + 1}: --workers 2 ${Math.round(a[t]?.requestsPerSecond ?? 0)} req/s; --workers 1 ${Math.round(b[t]?.requestsPerSecond ?? 0)} req/s`);
      }
      const failures = [...a, ...b].reduce((n, r) => n + r.failures, 0);
      if (failures > 0) throw new Error(`${failures} requests failed: the figures are not valid`);
      return [
        {
          name: 'scale-out',
          description: `flowrun serve --workers 2 vs --workers 1, POST /StartSyncExecution of the ${CHAIN_FLOW_NAME} flow, ${HTTP_CONNECTIONS} connections, log level warn; the load generator shares the machine's 2 cores`,
          unit: 'requests/s',
          flowrun: summarize(a.map((r) => r.requestsPerSecond)),
          baseline: { name: 'flowrun --workers 1', ...summarize(b.map((r) => r.requestsPerSecond)) },
          ratio: summarize(a.map((r, i) => r.requestsPerSecond / (b[i] as LoadResult).requestsPerSecond)),
          goal: { op: '>=', value: 1.6 },
        },
      ];
    } finally {
      await one?.stop();
      await two.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
