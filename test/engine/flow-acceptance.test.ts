/**
 * The task engine under real flows: a Task retrying a real HTTP server's 503s on the injected
 * clock, Task timeouts aborting a slow HTTP call and a slow local function, and a 1,000-item Map
 * over FC:InvokeFunction held to its MaxConcurrency.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTaskEngine } from '../../src/engine/index.js';
import type { TaskEngine } from '../../src/engine/index.js';
import { loadFlowText } from '../../src/flow/load.js';
import { runExecution } from '../../src/interpreter/run.js';
import type { ExecutionResult } from '../../src/interpreter/run.js';
import { ManualClock } from '../../src/shared/clock.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function httpServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

function engineOn(clock: ManualClock, functionsDir?: string): TaskEngine {
  const engine = createTaskEngine({ clock, ...(functionsDir ? { functionsDir } : {}) });
  cleanups.push(() => engine.close());
  return engine;
}

/** Moves the manual clock to each pending deadline while the execution runs (tasks do real I/O). */
async function drive(clock: ManualClock, run: Promise<ExecutionResult>, busy: () => boolean = () => false): Promise<ExecutionResult> {
  let result: ExecutionResult | undefined;
  void run.then((r) => (result = r));
  for (let i = 0; i < 100_000 && !result; i++) {
    await new Promise((r) => setImmediate(r));
    const next = clock.nextDeadline();
    if (next !== undefined && !busy()) await clock.advance(Math.max(0, next - clock.now()));
  }
  return run;
}

describe('Task states on the task engine', () => {
  it('retries a real HTTP 503 twice with back-off on the injected clock, then succeeds', async () => {
    let calls = 0;
    const { url } = await httpServer((_req, res) => {
      calls++;
      res.statusCode = calls <= 2 ? 503 : 200;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(calls <= 2 ? { busy: true } : { order: 'ok' }));
    });
    const flow = loadFlowText(`Type: StateMachine
Name: retry-http
SpecVersion: v1
StartAt: Call
States:
  - Type: Task
    Name: Call
    Action: HTTP:Request
    Parameters:
      url: ${url}/orders
    Retry:
      - Errors: [HTTP.503]
        MaxAttempts: 3
        IntervalSeconds: 2
        BackoffRate: 2
    OutputConstructor:
      order.$: $Output.Body.order
      status.$: $Output.StatusCode
    End: true
`);
    const clock = new ManualClock();
    const engine = engineOn(clock);
    let inFlight = 0;
    const tasks = (req: Parameters<typeof engine.runTask>[0]): ReturnType<typeof engine.runTask> => {
      inFlight++;
      return engine.runTask(req).finally(() => inFlight--);
    };
    const t0 = clock.now();
    const r = await drive(clock, runExecution(flow, {}, { tasks, clock, history: true }), () => inFlight > 0);
    expect(r.status).toBe('Succeeded');
    expect(r.output).toEqual({ order: 'ok', status: 200 });
    expect(calls).toBe(3);
    const retries = r.events.filter((e) => e.type === 'StepRetrying');
    expect(retries.map((e) => e.detail?.['DelayMs'])).toEqual([2000, 4000]);
    expect(retries.map((e) => e.detail?.['Code'])).toEqual(['HTTP.503', 'HTTP.503']);
    expect(r.stoppedAt - t0).toBe(6000);
  });

  it('a Task Timeout aborts a slow HTTP call (the server sees the connection close) and a slow function; both are catchable', async () => {
    let closed = 0;
    let open = 0;
    const { url } = await httpServer((req) => {
      open++;
      req.socket.once('close', () => {
        closed++;
        open--;
      }); // never answers
    });
    const dir = await mkdtemp(join(tmpdir(), 'flowrun-fns-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(
      join(dir, 'stuck.js'),
      `// The engine loads the module itself (with a cache-busting query): report through a global.
const seen = (globalThis.__flowrunStuck ??= { aborted: 0, running: 0 });
export function handler(_event, context) {
  seen.running++;
  return new Promise((_resolve, reject) => context.signal.addEventListener('abort', () => { seen.aborted++; seen.running--; reject(new Error('told to stop')); }));
}
`,
    );
    const flow = loadFlowText(`Type: StateMachine
Name: timeouts
SpecVersion: v1
StartAt: SlowHttp
States:
  - Type: Task
    Name: SlowHttp
    Action: HTTP:Request
    Timeout: "5"
    Parameters:
      url: ${url}/slow
    End: true
    Catch:
      - Errors: [FnF.Timeout]
        Next: SlowFunction
        OutputConstructor:
          http.$: $Context.Current.Error.Code
  - Type: Task
    Name: SlowFunction
    Action: FC:InvokeFunction
    Timeout: "5"
    Parameters:
      functionName: stuck
      body: {}
    End: true
    Catch:
      - Errors: [FnF.Timeout]
        Next: Done
        OutputConstructor:
          http.$: $Input.http
          fn.$: $Context.Current.Error.Code
  - Type: Pass
    Name: Done
    End: true
`);
    const clock = new ManualClock();
    const engine = engineOn(clock, dir);
    // time moves only while the slow call is really under way (the request arrived, the function runs)
    const stuck = (): { aborted: number; running: number } | undefined => (globalThis as { __flowrunStuck?: { aborted: number; running: number } }).__flowrunStuck;
    const r = await drive(clock, runExecution(flow, {}, { tasks: engine.runTask, clock }), () => open === 0 && (stuck()?.running ?? 0) === 0);
    expect(r.output).toEqual({ http: 'FnF.Timeout', fn: 'FnF.Timeout' });
    await vi.waitFor(() => expect(closed).toBe(1)); // the socket's close event follows the abort
    expect(stuck()?.aborted).toBe(1);
  });

  it('a 1,000-item Map over FC:InvokeFunction never has more than MaxConcurrency in flight and keeps item order', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flowrun-fns-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(
      join(dir, 'track.js'),
      `const stats = (globalThis.__flowrunTrack ??= { inFlight: 0, max: 0 });
export async function handler(event) {
  stats.inFlight++;
  stats.max = Math.max(stats.max, stats.inFlight);
  await new Promise((r) => setImmediate(r));
  stats.inFlight--;
  return { n: event.n * 2 };
}
`,
    );
    const flow = loadFlowText(`Type: StateMachine
Name: fan-out
SpecVersion: v1
StartAt: Each
States:
  - Type: Map
    Name: Each
    ItemsPath: $Input.items
    MaxConcurrency: 40
    Processor:
      StartAt: Call
      States:
        - Type: Task
          Name: Call
          Action: FC:InvokeFunction
          Parameters:
            functionName: track
            body:
              n.$: $Input.n
          OutputConstructor:
            n.$: $Output.Body.n
          End: true
    End: true
`);
    const clock = new ManualClock();
    const engine = engineOn(clock, dir);
    const items = Array.from({ length: 1000 }, (_, i) => ({ n: i }));
    const r = await runExecution(flow, { items }, { tasks: engine.runTask, clock });
    expect(r.status).toBe('Succeeded');
    expect(r.output).toEqual({ Items: items.map((i) => ({ n: i.n * 2 })) });
    expect((globalThis as { __flowrunTrack?: { max: number } }).__flowrunTrack?.max).toBe(40);
  });
});
