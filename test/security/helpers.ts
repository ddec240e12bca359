/**
 * The whole HTTP surface in one process for the robustness tests: FnF (express flows, and
 * Standard flows through the durable store) and OOS (2019-06-01) behind one app, served on
 * 127.0.0.1 port 0, and a raw HTTP client (keep-alive) that sends exactly the bytes it is given.
 */
import { createServer, request as httpRequest, Agent } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { createApp } from '../../src/api/app.js';
import type { AppDeps } from '../../src/api/app.js';
import { API_ERRORS, isApiErrorCode } from '../../src/api/errors.js';
import { answerClientErrors } from '../../src/api/server.js';
import { DurableRunner } from '../../src/executions/durable-runner.js';
import { createOosExecutionService } from '../../src/executions/oos/index.js';
import type { OosExecutionService } from '../../src/executions/oos/index.js';
import { FlowCompiler, StandardFlowService, storedFlowSource } from '../../src/executions/standard-flows.js';
import type { ExecutionStore } from '../../src/executions/store.js';
import { DefinitionFlowStore } from '../../src/fnf/definition-store.js';
import { FlowService } from '../../src/fnf/service.js';
import type { FlowServiceOptions } from '../../src/fnf/service.js';
import { createRuntime } from '../../src/runtime.js';
import type { Runtime } from '../../src/runtime.js';
import { openSqliteStore } from '../../src/store/sqlite.js';

export const silent = pino({ level: 'silent' });

export const HELLO = `Type: StateMachine
Name: hello
SpecVersion: v1
StartAt: Greet
States:
  - Type: Pass
    Name: Greet
    OutputConstructor:
      greeting.$: format("Hello, {}!", $Input.name)
    End: true
`;

export interface FullStack {
  url: string;
  port: number;
  service: FlowService;
  oos: OosExecutionService;
  runtime: Runtime;
  store: ExecutionStore;
  close(): Promise<void>;
}

/** FnF + Standard + OOS behind one app on 127.0.0.1:0 (system clock, in-memory SQLite). */
export async function startFullStack(options: { service?: Omit<FlowServiceOptions, 'runtime'>; app?: Partial<AppDeps> } = {}): Promise<FullStack> {
  const runtime = createRuntime({ functionsDir: 'flows/functions' });
  const store = await openSqliteStore({ file: ':memory:', now: runtime.clock.now() });
  const compiler = new FlowCompiler(storedFlowSource(store), runtime.compileOptions);
  const runner = new DurableRunner({ store, tasks: runtime.engine.runTask, clock: runtime.clock, resolveFlow: compiler.resolve, logger: silent });
  const standard = new StandardFlowService({ store, runner, clock: runtime.clock, compiler });
  const service = new FlowService({ runtime, logger: silent, store: await DefinitionFlowStore.open(store, runtime.clock), ...options.service });
  const oos = await createOosExecutionService({ store, runner, engine: runtime.engine, clock: runtime.clock, logger: silent, config: { cancelWaitMs: 0 } });
  await service.createFlow({ Name: 'hello', Definition: HELLO, Description: 'hello', Type: 'FDL', ExecutionMode: 'Express' });
  runner.startBackground();
  const app = createApp({ service, standard, oos, logger: silent, ...options.app });
  const server: Server = createServer(app);
  answerClientErrors(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    service,
    oos,
    runtime,
    store,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await service.close(0);
      await runner.close();
      await oos.close();
      await runtime.close();
      await store.close();
    },
  };
}

export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

export const keepAlive = new Agent({ keepAlive: true, maxSockets: 16 });

/** Sends exactly this request (Content-Length from the body unless a header gives one). */
export function send(port: number, req: RawRequest, agent: Agent = keepAlive): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body, 'utf8');
    const headers: Record<string, string> = { ...(req.headers ?? {}) };
    if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) headers['content-length'] = String(body.length);
    const r = httpRequest({ host: '127.0.0.1', port, method: req.method, path: req.path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    r.on('error', reject);
    if (body !== undefined) r.write(body);
    r.end();
  });
}

/**
 * What every answer must be: a 200 success JSON with a RequestId and no Code, or a catalogued
 * 4xx JSON error `{RequestId, HostId, Code, Message}` with the catalog's status — never a 5xx.
 * Returns a problem description, or undefined when the answer is fine.
 */
export function problemWith(method: string, res: RawResponse): string | undefined {
  if (res.status >= 500) return `status ${res.status}: ${res.text.slice(0, 300)}`;
  if (method === 'HEAD') return res.status === 200 || (res.status >= 400 && res.status < 500) ? undefined : `HEAD status ${res.status}`;
  if (!String(res.headers['content-type'] ?? '').startsWith('application/json')) return `content-type ${String(res.headers['content-type'])}`;
  let body: unknown;
  try {
    body = JSON.parse(res.text);
  } catch {
    return `not JSON: ${res.text.slice(0, 200)}`;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'not a JSON object';
  const b = body as Record<string, unknown>;
  if (typeof b['RequestId'] !== 'string' || b['RequestId'] === '') return 'no RequestId';
  if (res.status === 200) return 'Code' in b ? `a success body with Code ${String(b['Code'])}` : undefined;
  if (res.status < 400) return `status ${res.status}`;
  const code = b['Code'];
  if (typeof code !== 'string' || !isApiErrorCode(code)) return `Code ${String(code)} is not in the catalog`;
  if (API_ERRORS[code].status !== res.status) return `Code ${code} with status ${res.status}, the catalog says ${API_ERRORS[code].status}`;
  if (typeof b['Message'] !== 'string' || b['Message'] === '') return 'no Message';
  return undefined;
}

/** Memory in use now (after a GC when `--expose-gc` is on). */
export function memoryNow(): { heapUsed: number; rss: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) gc();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss };
}
