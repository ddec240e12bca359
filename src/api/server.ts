/**
 * `startServer(config)`: runtime + flow service + app + HTTP listener (+ flows folder watcher),
 * used by `flowrun serve` and by tests. `close()` shuts down gracefully: stop accepting, let
 * executions in flight finish up to a deadline, stop the rest, then close every connection.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { Express } from 'express';
import pino from 'pino';
import type { Logger } from 'pino';
import { FlowService } from '../fnf/service.js';
import type { FlowServiceOptions } from '../fnf/service.js';
import type { FlowStore } from '../fnf/store.js';
import { watchFlowsDirectory } from '../fnf/watch.js';
import type { FlowWatcher, FlowWatchOptions } from '../fnf/watch.js';
import { createRuntime, DEFAULT_FLOWS_DIR } from '../runtime.js';
import type { Runtime } from '../runtime.js';
import type { Clock } from '../shared/clock.js';
import { createApp } from './app.js';
import { DurableRunner } from '../executions/durable-runner.js';
import { FlowCompiler, StandardFlowService, storedFlowSource } from '../executions/standard-flows.js';
import type { ExecutionStore } from '../executions/store.js';
import { DefinitionFlowStore } from '../fnf/definition-store.js';
import { openExecutionStore, openSqliteStore } from '../store/index.js';
import type { Authenticator } from './app.js';

export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_LOG_LEVEL = 'info';
/** How long shutdown lets executions in flight finish before stopping them. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 30_000;
/** After executions have ended, how long shutdown waits for their responses to be written. */
export const CONNECTION_CLOSE_GRACE_MS = 2_000;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export interface ServerConfig extends Omit<FlowServiceOptions, 'runtime' | 'store' | 'logger'> {
  /** Default {@link DEFAULT_PORT}; 0 picks a free port. */
  port?: number;
  host?: string;
  /** Flow files loaded at start (default `flows`). */
  flowsDir?: string;
  /** Local functions for FC:InvokeFunction (default `<flowsDir>/functions`). */
  functionsDir?: string;
  logLevel?: string;
  /** Reload changed flow files. */
  watch?: boolean;
  watchDebounceMs?: number;
  onFlowChange?: FlowWatchOptions['onChange'];
  bodyLimitBytes?: number;
  shutdownGraceMs?: number;
  /** Default: pino at `logLevel` on stdout. */
  logger?: Logger;
  /** Default: the system clock (ignored when `runtime` is given). */
  clock?: Clock;
  /** Use this runtime instead of building one (the caller keeps ownership: it is not closed). */
  runtime?: Runtime;
  /** Where flows are kept (default: the execution store's definitions). */
  store?: FlowStore;
  /**
   * The durable store of Standard executions and flow definitions. Default: opened from
   * `dataDir` / `databaseUrl` when either is given, else an in-memory SQLite database (nothing
   * survives a restart; tests and embedding).
   */
  executionStore?: ExecutionStore;
  /** Folder of the embedded SQLite database. */
  dataDir?: string;
  /** PostgreSQL connection URL (takes precedence over dataDir). */
  databaseUrl?: string;
  /** Stable id of this instance for execution leases (default: a new UUID per start). */
  instanceId?: string;
  authenticate?: Authenticator;
  hostId?: string;
}

export interface RunningServer {
  /** `http://host:port` */
  url: string;
  port: number;
  host: string;
  app: Express;
  server: Server;
  service: FlowService;
  standard: StandardFlowService;
  runner: DurableRunner;
  executionStore: ExecutionStore;
  runtime: Runtime;
  logger: Logger;
  /** Graceful shutdown; safe to call more than once. */
  close(): Promise<void>;
}

export async function startServer(config: ServerConfig = {}): Promise<RunningServer> {
  const logger = config.logger ?? pino({ level: config.logLevel ?? DEFAULT_LOG_LEVEL });
  const flowsDir = resolve(config.flowsDir ?? DEFAULT_FLOWS_DIR);
  const functionsDir = resolve(config.functionsDir ?? join(flowsDir, 'functions'));
  const ownRuntime = config.runtime === undefined;
  const runtime = config.runtime ?? createRuntime({ functionsDir, ...(config.clock ? { clock: config.clock } : {}) });
  const ownStore = config.executionStore === undefined;
  const executionStore =
    config.executionStore ??
    (config.dataDir !== undefined || config.databaseUrl !== undefined
      ? await openExecutionStore({
          ...(config.dataDir !== undefined ? { dataDir: config.dataDir } : {}),
          ...(config.databaseUrl !== undefined ? { databaseUrl: config.databaseUrl } : {}),
          now: runtime.clock.now(),
        })
      : await openSqliteStore({ file: ':memory:', now: runtime.clock.now() }));
  const flowStore = config.store ?? (await DefinitionFlowStore.open(executionStore, runtime.clock));
  const compiler = new FlowCompiler(storedFlowSource(executionStore), runtime.compileOptions);
  const runner = new DurableRunner({
    store: executionStore,
    tasks: runtime.engine.runTask,
    clock: runtime.clock,
    resolveFlow: compiler.resolve,
    logger,
    ...(config.instanceId !== undefined ? { owner: config.instanceId } : {}),
  });
  const standard = new StandardFlowService({ store: executionStore, runner, clock: runtime.clock, compiler });
  const service = new FlowService({
    runtime,
    logger,
    store: flowStore,
    ...(config.maxConcurrentExecutions !== undefined ? { maxConcurrentExecutions: config.maxConcurrentExecutions } : {}),
    ...(config.maxQueuedExecutions !== undefined ? { maxQueuedExecutions: config.maxQueuedExecutions } : {}),
    ...(config.executionTimeoutMs !== undefined ? { executionTimeoutMs: config.executionTimeoutMs } : {}),
    ...(config.executionWindow !== undefined ? { executionWindow: config.executionWindow } : {}),
    ...(config.keepHistory !== undefined ? { keepHistory: config.keepHistory } : {}),
    ...(config.maxInputBytes !== undefined ? { maxInputBytes: config.maxInputBytes } : {}),
  });

  const results = await service.loadDirectory(flowsDir);
  for (const r of results) {
    if (r.ok) logger.debug({ file: r.file, flow: r.flow.Name, mode: r.flow.ExecutionMode }, 'flow loaded');
    else logger.warn({ file: r.file, problems: r.problems.map((p) => `${p.pointer || '/'}: ${p.message}`) }, 'flow file is invalid; skipped');
  }
  logger.info({ flowsDir, flows: results.filter((r) => r.ok).length, invalid: results.filter((r) => !r.ok).length }, 'flows loaded');

  const watcher: FlowWatcher | undefined = config.watch
    ? watchFlowsDirectory(service, flowsDir, {
        logger,
        ...(config.watchDebounceMs !== undefined ? { debounceMs: config.watchDebounceMs } : {}),
        ...(config.onFlowChange ? { onChange: config.onFlowChange } : {}),
      })
    : undefined;

  const resumed = await runner.recover();
  if (resumed > 0) logger.info({ resumed }, 'resumed executions from their last checkpoint');
  runner.startBackground();

  const app = createApp({
    service,
    standard,
    logger,
    ...(config.bodyLimitBytes !== undefined ? { bodyLimitBytes: config.bodyLimitBytes } : {}),
    ...(config.authenticate ? { authenticate: config.authenticate } : {}),
    ...(config.hostId !== undefined ? { hostId: config.hostId } : {}),
  });
  const server = createServer(app);
  // responses in flight, so shutdown can ask their connections to close once they are sent
  const responses = new Set<ServerResponse>();
  let shuttingDown = false;
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (shuttingDown) {
      if (!res.headersSent) res.setHeader('connection', 'close');
      return;
    }
    responses.add(res);
    res.once('close', () => responses.delete(res));
  });
  const host = config.host ?? DEFAULT_HOST;
  try {
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(config.port ?? DEFAULT_PORT, host, () => {
        server.off('error', reject);
        resolveListen();
      });
    });
  } catch (err) {
    watcher?.close();
    await service.close();
    await runner.close();
    if (ownStore) await executionStore.close();
    if (ownRuntime) await runtime.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info({ url }, 'flowrun is listening');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      logger.info('shutting down');
      shuttingDown = true;
      for (const res of responses) if (!res.headersSent) res.setHeader('connection', 'close');
      watcher?.close();
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      await service.close(config.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS);
      // responses of the last executions are being written: give them a moment, then cut
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), CONNECTION_CLOSE_GRACE_MS);
      timer.unref();
      await closed;
      clearTimeout(timer);
      await runner.close();
      if (ownStore) await executionStore.close();
      if (ownRuntime) await runtime.close();
      logger.info('stopped');
    })());

  return { url, port, host, app, server, service, standard, runner, executionStore, runtime, logger, close };
}
