/**
 * HTTP, one server process each: `POST /StartSyncExecution` of the 10-state express chain on
 * flowrun's real server against a bare express route echoing the same JSON body, both started as
 * child processes with the same settings, loaded in turn by autocannon running in this process
 * (so never in a server's process), 50 connections, a fixed duration, 127.0.0.1 only.
 *
 * Both servers load flowrun's code the same way: from dist/ by default (built here first with
 * `npm run build`, as `flowrun serve` runs when installed), or from src/ through tsx.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { CHAIN_FLOW_NAME, CHAIN_INPUT } from '../flows.js';
import { buildDist, spawnChild } from '../spawn.js';
import type { Child } from '../spawn.js';
import { cpuOf } from '../proc.js';
import { percentile, round2, summarize } from '../stats.js';
import type { Scenario, ScenarioOptions, ScenarioResult } from './types.js';

export const HTTP_CONNECTIONS = 50;
const FLOWRUN_SERVER = 'bench/servers/flowrun-server.ts';
const ECHO_SERVER = 'bench/servers/express-echo.ts';
const BODY = JSON.stringify({ FlowName: CHAIN_FLOW_NAME, Input: JSON.stringify(CHAIN_INPUT) });

export interface LoadResult {
  requestsPerSecond: number;
  /** Exact percentiles of the 2xx response times (ms). */
  p50: number;
  p99: number;
  requests: number;
  /** Non-2xx responses, errors and timeouts (all must be 0 for a valid run). */
  failures: number;
  /** CPU time the server's processes used during the load (µs), and per 2xx response, when /proc is readable. */
  serverCpuUs?: number;
  cpuUsPerRequest?: number;
}

/**
 * Loads `server` with `connections` keep-alive connections (default {@link HTTP_CONNECTIONS}) for
 * `ms` milliseconds, reading the CPU time of `pids` (default: the server's process).
 */
export async function load(server: Child, ms: number, options: { connections?: number; pids?: readonly number[] } = {}): Promise<LoadResult> {
  const port = server.ready.port as number;
  const pids = options.pids ?? (server.process.pid !== undefined ? [server.process.pid] : []);
  const times: number[] = [];
  const cpuBefore = cpuOf(pids);
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${port}/StartSyncExecution`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: BODY,
        connections: options.connections ?? HTTP_CONNECTIONS,
        duration: ms / 1000,
        timeout: 30,
      },
      (err, done) => (err ? reject(err as Error) : resolve(done)),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) times.push(responseTime);
    });
  });
  const cpuAfter = cpuOf(pids);
  times.sort((a, b) => a - b);
  const serverCpuUs = cpuBefore !== undefined && cpuAfter !== undefined && pids.length > 0 ? cpuAfter - cpuBefore : undefined;
  return {
    ...(serverCpuUs !== undefined && result['2xx'] > 0 ? { serverCpuUs, cpuUsPerRequest: serverCpuUs / result['2xx'] } : {}),
    requestsPerSecond: result['2xx'] / result.duration,
    p50: percentile(times, 0.5),
    p99: percentile(times, 0.99),
    requests: result['2xx'],
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

/** POSTs the chain's request to `port` (`who` names the server in errors); the answer's body. */
async function postChain(port: number, who: string): Promise<Record<string, unknown>> {
  const res = await fetch(`http://127.0.0.1:${port}/StartSyncExecution`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY });
  if (res.status !== 200) throw new Error(`${who} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

/** One request must run the chain on flowrun's server at `port` before it is loaded. */
export async function checkChain(port: number, who: string): Promise<void> {
  const body = await postChain(port, who);
  if (body['Status'] !== 'Succeeded' || typeof body['Output'] !== 'string') throw new Error(`${who} did not run the chain: ${JSON.stringify(body)}`);
}

/** Checks that one request gets the expected answer from each server before they are loaded. */
async function checkAnswers(flowrun: Child, echo: Child): Promise<void> {
  await checkChain(flowrun.ready.port as number, 'flowrun');
  const theirs = await postChain(echo.ready.port as number, 'the echo server');
  if (JSON.stringify(theirs) !== BODY) throw new Error(`the echo server answered ${JSON.stringify(theirs)}`);
}

/** Server CPU per request (µs), medians, when measurable: the figure least disturbed by noise. */
function cpuFigures(ours: LoadResult[], theirs: LoadResult[]): Record<string, number> {
  const a = ours.map((r) => r.cpuUsPerRequest).filter((x): x is number => x !== undefined);
  const b = theirs.map((r) => r.cpuUsPerRequest).filter((x): x is number => x !== undefined);
  if (a.length === 0 || b.length === 0) return {};
  const ratio = summarize(a.map((x, i) => x / (b[i] ?? x))).median;
  return {
    flowrunCpuUsPerRequest: Math.round(summarize(a).median),
    baselineCpuUsPerRequest: Math.round(summarize(b).median),
    cpuPerRequestRatio: round2(ratio),
  };
}

export const httpSync: Scenario = {
  name: 'http-sync',
  defaults: { trials: 5, ms: 5000 },
  async run(options: ScenarioOptions): Promise<ScenarioResult[]> {
    if (options.code === 'dist') buildDist(options.log);
    const env = { BENCH_LOG_LEVEL: options.logLevel, BENCH_CODE: options.code };
    // With --cpu-prof both servers are profiled (the echo's profile is the reference to compare
    // with), each into its own folder: every thread writes a profile (the main thread's is
    // `CPU.*.0.001.cpuprofile`), so they cannot share one file name.
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const profile = (server: string): string[] => {
      if (!options.cpuProfDir) return [];
      const dir = join(options.cpuProfDir, `http-sync-${stamp}-${server}`);
      mkdirSync(dir, { recursive: true });
      options.log(`  profiling the ${server} server into ${dir}/`);
      return ['--cpu-prof', '--cpu-prof-dir', dir];
    };
    const flowrun = await spawnChild(FLOWRUN_SERVER, { env, nodeFlags: profile('flowrun') });
    let echo: Child | undefined;
    try {
      echo = await spawnChild(ECHO_SERVER, { env, nodeFlags: profile('echo') });
      options.log(
        `  servers: flowrun pid ${flowrun.process.pid} (log level ${flowrun.ready.logLevel}, code ${flowrun.ready.code}), ` +
          `express echo pid ${echo.process.pid} (log level ${echo.ready.logLevel}, code ${echo.ready.code})`,
      );
      await checkAnswers(flowrun, echo);
      const warmMs = Math.min(2000, options.ms);
      await load(flowrun, warmMs);
      await load(echo, warmMs);
      const ours: LoadResult[] = [];
      const theirs: LoadResult[] = [];
      for (let t = 0; t < options.trials; t++) {
        // Alternate which goes first so drift on a shared machine hits both sides alike.
        if (t % 2 === 0) {
          ours.push(await load(flowrun, options.ms));
          theirs.push(await load(echo, options.ms));
        } else {
          theirs.push(await load(echo, options.ms));
          ours.push(await load(flowrun, options.ms));
        }
        const a = ours[ours.length - 1] as LoadResult;
        const b = theirs[theirs.length - 1] as LoadResult;
        options.log(
          `  trial ${t + 1}: flowrun ${Math.round(a.requestsPerSecond)} req/s, p99 ${a.p99.toFixed(2)} ms, ${Math.round(a.cpuUsPerRequest ?? 0)} µs CPU/req; ` +
            `echo ${Math.round(b.requestsPerSecond)} req/s, p99 ${b.p99.toFixed(2)} ms, ${Math.round(b.cpuUsPerRequest ?? 0)} µs CPU/req`,
        );
      }
      const failures = [...ours, ...theirs].reduce((n, r) => n + r.failures, 0);
      if (failures > 0) throw new Error(`${failures} requests failed (non-2xx, errors or timeouts): the figures are not valid`);
      const settings =
        `${HTTP_CONNECTIONS} connections, ${options.ms / 1000} s per trial, log level ${flowrun.ready.logLevel} (flowrun) / ${echo.ready.logLevel} (echo), ` +
        `flowrun's code from ${options.code === 'dist' ? 'dist/ (compiled)' : 'src/ (tsx)'} (both)`;
      const rps = (rs: LoadResult[]): number[] => rs.map((r) => r.requestsPerSecond);
      const p99 = (rs: LoadResult[]): number[] => rs.map((r) => r.p99);
      return [
        {
          name: 'http-sync',
          description: `POST /StartSyncExecution, ${CHAIN_FLOW_NAME} flow (10 Pass states), vs bare express echo; ${settings}`,
          unit: 'requests/s',
          flowrun: summarize(rps(ours)),
          baseline: { name: 'bare express echo', ...summarize(rps(theirs)) },
          ratio: summarize(ours.map((r, i) => r.requestsPerSecond / (theirs[i] as LoadResult).requestsPerSecond)),
          goal: { op: '>=', value: 0.85 },
          extra: {
            logLevel: String(flowrun.ready.logLevel),
            code: options.code,
            connections: HTTP_CONNECTIONS,
            flowrunP50Ms: summarize(ours.map((r) => r.p50)).median,
            baselineP50Ms: summarize(theirs.map((r) => r.p50)).median,
            ...cpuFigures(ours, theirs),
          },
        },
        {
          name: 'http-sync p99',
          description: `p99 latency of the same runs (${settings})`,
          unit: 'ms',
          flowrun: summarize(p99(ours)),
          baseline: { name: 'bare express echo', ...summarize(p99(theirs)) },
          ratio: summarize(ours.map((r, i) => r.p99 / (theirs[i] as LoadResult).p99)),
          goal: { op: '<=', value: 1.3 },
        },
      ];
    } finally {
      await echo?.stop();
      await flowrun.stop();
    }
  },
};
