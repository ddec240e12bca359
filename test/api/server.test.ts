import { spawn } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, serveConfig } from '../../src/api/config.js';
import { startServer } from '../../src/api/server.js';
import type { RunningServer, ServerConfig } from '../../src/api/server.js';
import type { WatchOutcome } from '../../src/fnf/watch.js';
import { ManualClock } from '../../src/shared/clock.js';
import { BLOCKER, blockAction, HELLO, silent, tempDir } from './helpers.js';
import { createRuntime } from '../../src/runtime.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(config: ServerConfig): Promise<RunningServer> {
  const server = await startServer({ port: 0, logger: silent, ...config });
  cleanups.push(() => server.close());
  return server;
}

async function post(url: string, action: string, body: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/${action}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** A pino logger writing parsed lines into `lines`. */
function capture(level = 'info'): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

describe('acceptance', () => {
  it('serves flows/: POST /StartSyncExecution hello-world with ExecutionName e1 → Succeeded, Name e1:<uuid>', async () => {
    const server = await serve({ flowsDir: 'flows', host: '127.0.0.1' });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await post(server.url, 'StartSyncExecution', { FlowName: 'hello-world', ExecutionName: 'e1', Input: '{"name":"x"}' });
    expect(res.status).toBe(200);
    expect(res.body.Status).toBe('Succeeded');
    expect(res.body.Name).toMatch(/^e1:[0-9a-f-]{36}$/);
    expect(JSON.parse(res.body.Output as string)).toEqual({ greeting: 'Hello, x!' });
    // flows/functions is the default functions folder, and child flows find their flows
    const child = await post(server.url, 'StartSyncExecution', { FlowName: 'child-flow', Input: '{"who":"Kid"}' });
    expect(child.body.Status).toBe('Succeeded');
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
  });

  it('every file in flows/ is loaded as an Express flow', async () => {
    const server = await serve({ flowsDir: 'flows' });
    const res = await post(server.url, 'ListFlows', { Limit: 100 });
    const flows = res.body.Flows as { Name: string; ExecutionMode: string }[];
    expect(flows.map((f) => f.Name)).toContain('hello-world');
    expect(flows.length).toBeGreaterThanOrEqual(10);
    for (const f of flows) expect(f.ExecutionMode).toBe('Express');
  });
});

describe('start-up and logging', () => {
  it('skips an invalid flow file with a warning naming its problems', async () => {
    const { dir, remove } = await tempDir();
    cleanups.push(remove);
    await writeFile(join(dir, 'good.yaml'), HELLO);
    await writeFile(join(dir, 'bad.yaml'), 'Type: StateMachine\nName: bad\nSpecVersion: v1\nStartAt: Nope\nStates: []\n');
    await writeFile(join(dir, 'notes.txt'), 'not a flow');
    const { logger, lines } = capture();
    const server = await serve({ flowsDir: dir, logger });
    const res = await post(server.url, 'ListFlows', {});
    expect((res.body.Flows as { Name: string }[]).map((f) => f.Name)).toEqual(['hello']);
    const warning = lines.find((l) => l['msg'] === 'flow file is invalid; skipped');
    expect(warning?.['file']).toBe(join(dir, 'bad.yaml'));
    expect(JSON.stringify(warning?.['problems'])).toContain('/States');
  });

  it('logs one line per request with request id, action, flow, execution, status and duration, without payloads', async () => {
    const { dir, remove } = await tempDir();
    cleanups.push(remove);
    await writeFile(join(dir, 'hello.yaml'), HELLO);
    const { logger, lines } = capture();
    const server = await serve({ flowsDir: dir, logger });
    const res = await fetch(`${server.url}/StartSyncExecution`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ FlowName: 'hello', ExecutionName: 'logged', Input: '{"name":"top-secret-value"}' }),
    });
    const body = (await res.json()) as { RequestId: string; Name: string };
    await vi.waitFor(() => expect(lines.some((l) => l['msg'] === 'request')).toBe(true));
    const line = lines.find((l) => l['msg'] === 'request');
    expect(line).toMatchObject({ requestId: body.RequestId, action: 'StartSyncExecution', flow: 'hello', execution: body.Name, status: 200 });
    expect(typeof line?.['durationMs']).toBe('number');
    expect(JSON.stringify(lines)).not.toContain('top-secret-value');
  });

  it('a port in use is an error (and nothing is left running)', async () => {
    const { dir, remove } = await tempDir();
    cleanups.push(remove);
    const first = await serve({ flowsDir: dir });
    await expect(startServer({ port: first.port, host: '127.0.0.1', flowsDir: dir, logger: silent })).rejects.toThrow(/EADDRINUSE/);
  });
});

describe('graceful shutdown', () => {
  async function blockedServer(clock?: ManualClock) {
    const { dir, remove } = await tempDir();
    cleanups.push(remove);
    await writeFile(join(dir, 'blocker.yaml'), BLOCKER);
    const runtime = createRuntime({ ...(clock ? { clock } : {}) });
    cleanups.push(() => runtime.close());
    const block = blockAction();
    runtime.engine.registry.register(block.def);
    const server = await startServer({ port: 0, flowsDir: dir, logger: silent, runtime, shutdownGraceMs: 10_000 });
    return { server, block };
  }

  it('stops accepting, lets the execution in flight finish and answer, then closes', async () => {
    const { server, block } = await blockedServer();
    const inFlight = post(server.url, 'StartSyncExecution', { FlowName: 'blocker', ExecutionName: 'last' });
    await block.started(1);
    let closed = false;
    const closing = server.close().then(() => (closed = true));
    await expect(fetch(`${server.url}/health`)).rejects.toThrow();
    expect(closed).toBe(false);
    block.calls[0]?.release({ finished: true });
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.body.Status).toBe('Succeeded');
    expect(JSON.parse(res.body.Output as string)).toEqual({ finished: true });
    await closing;
    expect(closed).toBe(true);
  });

  it('past the deadline the executions still running are stopped (and still answered)', async () => {
    const clock = new ManualClock();
    const { server, block } = await blockedServer(clock);
    const inFlight = post(server.url, 'StartSyncExecution', { FlowName: 'blocker' });
    const task = await block.started(1);
    const before = clock.pendingCount; // execution deadline + the durable runner's background timers
    const closing = server.close();
    await vi.waitFor(() => expect(clock.pendingCount).toBe(before + 1)); // + shutdown grace
    await clock.advance(10_000);
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ Status: 'Stopped', ErrorCode: 'FnF.Cancelled', ErrorMessage: 'the server is shutting down' });
    expect(task.signal.aborted).toBe(true);
    await closing;
  });
});

describe('--watch', () => {
  it('reloads a changed flow file, keeps the old version when the new one is invalid, drops a removed file', async () => {
    const { dir, remove } = await tempDir();
    cleanups.push(remove);
    const file = join(dir, 'hello.yaml');
    await writeFile(file, HELLO);
    const outcomes: WatchOutcome[] = [];
    const waiters: { test: (o: WatchOutcome) => boolean; resolve: () => void }[] = [];
    const next = (test: (o: WatchOutcome) => boolean): Promise<void> =>
      new Promise((resolve) => {
        if (outcomes.some(test)) resolve();
        else waiters.push({ test, resolve });
      });
    const { logger, lines } = capture();
    const server = await serve({
      flowsDir: dir,
      logger,
      watch: true,
      watchDebounceMs: 20,
      onFlowChange: (o) => {
        outcomes.push(o);
        for (const w of waiters.filter((x) => x.test(o))) w.resolve();
      },
    });
    const greet = async (): Promise<unknown> => JSON.parse((await post(server.url, 'StartSyncExecution', { FlowName: 'hello', Input: '{"name":"W"}' })).body.Output as string);
    expect(await greet()).toEqual({ greeting: 'Hello, W!' });
    const id = (await post(server.url, 'DescribeFlow', { Name: 'hello' })).body.Id;

    await writeFile(file, HELLO.replace('Hello, {}!', 'Howdy, {}!'));
    await next((o) => o.ok && 'flow' in o);
    expect(await greet()).toEqual({ greeting: 'Howdy, W!' });
    expect((await post(server.url, 'DescribeFlow', { Name: 'hello' })).body.Id).toBe(id);

    await writeFile(file, HELLO.replace('StartAt: Greet', 'StartAt: Nowhere'));
    await next((o) => !o.ok);
    expect(await greet()).toEqual({ greeting: 'Howdy, W!' });
    const warning = lines.find((l) => l['msg'] === 'flow file is invalid; keeping the version loaded before');
    expect(JSON.stringify(warning?.['problems'])).toContain('/StartAt');

    await rm(file);
    await next((o) => o.ok && 'removed' in o && o.removed === 'hello');
    expect((await post(server.url, 'StartSyncExecution', { FlowName: 'hello' })).body['Code']).toBe('FlowNotExists');
  });
});

describe('serve configuration', () => {
  it('defaults: 127.0.0.1:8080, flows/, no local functions, info', () => {
    expect(serveConfig({}, {})).toEqual({
      port: 8080,
      host: '127.0.0.1',
      flowsDir: 'flows',
      logLevel: 'info',
      watch: false,
      dataDir: './data',
    });
  });

  it('environment variables, overridden by options', () => {
    const env = { FLOWRUN_PORT: '9000', FLOWRUN_HOST: '0.0.0.0', FLOWRUN_FLOWS_DIR: 'my-flows', FLOWRUN_LOG_LEVEL: 'DEBUG', FLOWRUN_WATCH: '1' };
    expect(serveConfig({}, env)).toEqual({
      port: 9000,
      host: '0.0.0.0',
      flowsDir: 'my-flows',
      logLevel: 'debug',
      watch: true,
      dataDir: './data',
    });
    expect(serveConfig({ dataDir: 'd' }, { FLOWRUN_DATA_DIR: 'env-d' })).toMatchObject({ dataDir: 'd' });
    expect(serveConfig({}, { FLOWRUN_DATA_DIR: 'env-d', FLOWRUN_INSTANCE_ID: 'a1' })).toMatchObject({ dataDir: 'env-d', instanceId: 'a1' });
    const pg = serveConfig({}, { FLOWRUN_DATABASE_URL: 'postgres://u@127.0.0.1/db' });
    expect(pg).toMatchObject({ databaseUrl: 'postgres://u@127.0.0.1/db' });
    expect(pg).not.toHaveProperty('dataDir');
    expect(serveConfig({ port: '7000', functions: 'fns', logLevel: 'warn' }, { ...env, FLOWRUN_FUNCTIONS_DIR: 'env-fns' })).toMatchObject({
      port: 7000,
      functionsDir: 'fns',
      logLevel: 'warn',
    });
    expect(serveConfig({}, { FLOWRUN_FUNCTIONS_DIR: 'env-fns', FLOWRUN_WATCH: 'false' })).toMatchObject({ functionsDir: 'env-fns', watch: false });
  });

  it('OOS limits: --oos-max-running / --oos-max-concurrent or their environment variables, positive whole numbers', () => {
    expect(serveConfig({ oosMaxConcurrent: '2' }, { FLOWRUN_OOS_MAX_RUNNING: '50', FLOWRUN_OOS_MAX_CONCURRENT: '9' })).toMatchObject({
      oosMaxRunningExecutions: 50,
      oosMaxConcurrentExecutions: 2,
    });
    expect(() => serveConfig({ oosMaxConcurrent: '0' }, {})).toThrow(/--oos-max-concurrent must be a positive whole number/);
    expect(() => serveConfig({}, { FLOWRUN_OOS_MAX_RUNNING: 'lots' })).toThrow(/FLOWRUN_OOS_MAX_RUNNING/);
  });

  it('a bad port or log level is a ConfigError', () => {
    expect(() => serveConfig({ port: 'eighty' }, {})).toThrow(ConfigError);
    expect(() => serveConfig({}, { FLOWRUN_PORT: '70000' })).toThrow(/FLOWRUN_PORT/);
    expect(() => serveConfig({ logLevel: 'loud' }, {})).toThrow(/log level/);
  });
});

describe('flowrun serve (the CLI, as a process)', () => {
  it('serves on the given port and exits 0 on SIGTERM after shutting down', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0', '--log-level', 'info'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FLOWRUN_FLOWS_DIR: 'flows' },
    });
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let out = '';
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
        if (m) resolve(m[1] as string);
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
    });
    const res = await post(url, 'StartSyncExecution', { FlowName: 'hello-world', ExecutionName: 'cli', Input: '{"name":"c"}' });
    expect(res.body.Status).toBe('Succeeded');
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toContain('"msg":"stopped"');
  }, 30_000);
});
