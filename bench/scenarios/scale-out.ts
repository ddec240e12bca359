/**
 * Scale-out: the real CLI, `flowrun serve --workers 2` against `--workers 1`, serving the same
 * 10-state express chain from the same flows folder, loaded in turn by autocannon from this
 * process (127.0.0.1 only, 50 connections, fixed duration), log level `warn` on both.
 *
 * Both servers run flowrun's code the way http-sync's do: by default the scenario first runs
 * `npm run build` and starts `node bin/flowrun.js serve`, which runs the compiled CLI in `dist/`
 * (as an installed `flowrun serve` does; cluster workers re-run the same entry); with `--source`,
 * `node --import tsx src/cli/main.ts serve`.
 *
 * The machine's cores are shared by the server processes and the load generator, so the ratio has
 * a ceiling below 2 here. Per run, the scenario reads the CPU time of every server process (the
 * primary and its workers, from /proc) and of this process (autocannon runs in it, in its main
 * thread), per 2xx response: with c µs of server CPU and k µs of load-generator CPU per request,
 * `--workers 1` can do at most 1/c requests/s (one core) and `--workers 2` at most 2/(c + k) (two
 * cores, shared with the generator), so the ratio can reach at most 2c/(c + k) (`ceiling`, when
 * k ≤ c), with c and k measured in the `--workers 2` run. It assumes a request costs one worker
 * what it costs two, and that one worker uses one core: `serverCpuUsPerRequest1` and
 * `serverCores1` show what it did (a saturated single worker can spend more per request, which
 * lets the ratio pass the ceiling; its GC and libuv threads can take it a little past one core,
 * which lowers the ratio). `coresBusy2` (servers + generator during the `--workers 2` runs) shows
 * how much of the machine the other jobs on it left: below 2, they took the rest.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHAIN_FLOW_NAME, chainDefinition } from '../flows.js';
import { processTree } from '../proc.js';
import { buildDist, stopper } from '../spawn.js';
import type { Child } from '../spawn.js';
import { summarize } from '../stats.js';
import { checkChain, HTTP_CONNECTIONS, load } from './http.js';
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

interface Server extends Child {
  workers: number;
  /** The primary (or the only process) and, with workers > 1, its workers. */
  pids: number[];
}

async function serveWorkers(workers: number, flowsDir: string, dataDir: string, code: ScenarioOptions['code']): Promise<Server> {
  const port = await freePort();
  const entry = code === 'dist' ? ['bin/flowrun.js'] : ['--import', 'tsx', 'src/cli/main.ts'];
  const child = spawn(
    process.execPath,
    [...entry, 'serve', '--workers', String(workers), '--port', String(port), '--flows', flowsDir, '--data-dir', dataDir, '--log-level', 'warn'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const { stop } = stopper(child);
  const deadline = Date.now() + 60_000;
  let pids: number[];
  try {
    for (;;) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/health`);
        // With workers, wait until every worker has been forked (the first may answer alone).
        pids = processTree(child.pid as number);
        if (res.status === 200 && (workers === 1 || pids.length > workers)) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`flowrun serve --workers ${workers} did not start`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { ready: { port, logLevel: 'warn' } as Child['ready'], process: child, stop, workers, pids };
}

/** A load of one server; its `cpuUsPerRequest` covers all the server's processes (c). */
interface Run extends LoadResult {
  /** CPU µs per 2xx response of this process, where autocannon runs (k). */
  generatorUs: number;
  /** Cores busy on average during the run: server processes, and server + generator. */
  serverCores?: number;
  totalCores?: number;
}

/** {@link load} of all the server's processes, with the CPU time of the load generator. */
async function measure(server: Server, ms: number): Promise<Run> {
  const genBefore = process.cpuUsage();
  const wallBefore = performance.now();
  const r = await load(server, ms, { pids: server.pids });
  const wallUs = (performance.now() - wallBefore) * 1000;
  const gen = process.cpuUsage(genBefore);
  const generatorCpu = gen.user + gen.system;
  const serverCpu = r.serverCpuUs;
  return {
    ...r,
    generatorUs: generatorCpu / Math.max(1, r.requests),
    ...(serverCpu !== undefined ? { serverCores: serverCpu / wallUs, totalCores: (serverCpu + generatorCpu) / wallUs } : {}),
  };
}

/**
 * The ratio this machine allows at c µs of server CPU and k µs of generator CPU per request: each
 * run is bounded by its server's cores (one worker: 1 core; two: 2), by the generator (one
 * thread: 1/k) and by the machine's cores shared by both (cores/(c + k)). With 2 cores and k ≤ c
 * this is 2c/(c + k).
 */
function ceiling(c: number, k: number, cores: number): number {
  const bound = (workers: number): number => Math.min(workers / c, 1 / k, cores / (c + k));
  return bound(2) / bound(1);
}

/** `median [min–max] (trial 1, trial 2, …)`. */
function perTrial(xs: number[], digits: number): string {
  const f = (x: number): string => x.toFixed(digits);
  const s = summarize(xs);
  return `${f(s.median)} [${f(s.min)}–${f(s.max)}] (${xs.map(f).join(', ')})`;
}

export const scaleOut: Scenario = {
  name: 'scale-out',
  defaults: { trials: 3, ms: 5000 },
  async run(options: ScenarioOptions): Promise<ScenarioResult[]> {
    if (options.code === 'dist') buildDist(options.log);
    const cores = cpus().length;
    const dir = mkdtempSync(join(tmpdir(), 'flowrun-bench-scale-'));
    writeFileSync(join(dir, `${CHAIN_FLOW_NAME}.json`), JSON.stringify(chainDefinition()));
    const codeText = options.code === 'dist' ? 'dist/ (compiled, node bin/flowrun.js serve)' : 'src/ (tsx, node --import tsx src/cli/main.ts serve)';
    let two: Server | undefined;
    let one: Server | undefined;
    try {
      two = await serveWorkers(2, dir, join(dir, 'data2'), options.code);
      one = await serveWorkers(1, dir, join(dir, 'data1'), options.code);
      options.log(`  servers run flowrun's code from ${codeText}; --workers 2: pids ${two.pids.join(', ')} (primary first); --workers 1: pid ${one.pids.join(', ')}; ${cores} CPUs`);
      await checkChain(two.ready.port as number, '--workers 2');
      await checkChain(one.ready.port as number, '--workers 1');
      const warmMs = Math.min(2000, options.ms);
      await load(two, warmMs);
      await load(one, warmMs);
      const a: Run[] = [];
      const b: Run[] = [];
      for (let t = 0; t < options.trials; t++) {
        if (t % 2 === 0) {
          a.push(await measure(two, options.ms));
          b.push(await measure(one, options.ms));
        } else {
          b.push(await measure(one, options.ms));
          a.push(await measure(two, options.ms));
        }
        const x = a[t] as Run;
        const y = b[t] as Run;
        const cap = x.cpuUsPerRequest !== undefined ? ceiling(x.cpuUsPerRequest, x.generatorUs, cores) : undefined;
        options.log(
          `  trial ${t + 1}: --workers 2 ${Math.round(x.requestsPerSecond)} req/s, c ${Math.round(x.cpuUsPerRequest ?? 0)} µs + k ${Math.round(x.generatorUs)} µs CPU/req, ${(x.totalCores ?? 0).toFixed(2)} cores busy; ` +
            `--workers 1 ${Math.round(y.requestsPerSecond)} req/s, c ${Math.round(y.cpuUsPerRequest ?? 0)} µs + k ${Math.round(y.generatorUs)} µs CPU/req, server ${(y.serverCores ?? 0).toFixed(2)} cores; ` +
            `ratio ${(x.requestsPerSecond / y.requestsPerSecond).toFixed(2)}x` +
            (cap !== undefined ? ` (ceiling 2c/(c+k) ${cap.toFixed(2)}x)` : ''),
        );
      }
      const failures = [...a, ...b].reduce((n, r) => n + r.failures, 0);
      if (failures > 0) throw new Error(`${failures} requests failed: the figures are not valid`);
      const cpu: Record<string, string> = {};
      if ([...a, ...b].every((r) => r.cpuUsPerRequest !== undefined)) {
        const c = a.map((r) => r.cpuUsPerRequest as number);
        cpu['serverCpuUsPerRequest2'] = perTrial(c, 0);
        cpu['generatorCpuUsPerRequest2'] = perTrial(a.map((r) => r.generatorUs), 0);
        cpu['ceiling'] = perTrial(a.map((r, i) => ceiling(c[i] as number, r.generatorUs, cores)), 2);
        cpu['serverCpuUsPerRequest1'] = perTrial(b.map((r) => r.cpuUsPerRequest as number), 0);
        cpu['coresBusy2'] = perTrial(a.map((r) => r.totalCores as number), 2);
        cpu['serverCores1'] = perTrial(b.map((r) => r.serverCores as number), 2);
      }
      return [
        {
          name: 'scale-out',
          description:
            `flowrun serve --workers 2 vs --workers 1, POST /StartSyncExecution of the ${CHAIN_FLOW_NAME} flow, ${HTTP_CONNECTIONS} connections, ${options.ms / 1000} s per trial, log level warn, ` +
            `flowrun's code from ${codeText} (both); autocannon runs in the benchmark's process and shares the machine's ${cores} CPUs with the servers. ` +
            `CPU per request from /proc and process.cpuUsage(), c = all server processes, k = the load generator, both in the --workers 2 run: ceiling = 2c/(c+k); ` +
            `figures are median [min–max] (per trial)`,
          unit: 'requests/s',
          flowrun: summarize(a.map((r) => r.requestsPerSecond)),
          baseline: { name: 'flowrun --workers 1', ...summarize(b.map((r) => r.requestsPerSecond)) },
          ratio: summarize(a.map((r, i) => r.requestsPerSecond / (b[i] as LoadResult).requestsPerSecond)),
          goal: { op: '>=', value: 1.6 },
          extra: { code: options.code, cpus: cores, connections: HTTP_CONNECTIONS, ...cpu },
        },
      ];
    } finally {
      await one?.stop();
      await two?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
