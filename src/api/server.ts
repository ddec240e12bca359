/**
 * `startServer(config)`: runtime + flow service + app + HTTP listener (+ flows folder watcher),
 * used by `flowrun serve` and by tests. `close()` shuts down gracefully: stop accepting, let
 * executions in flight finish up to a deadline, stop the rest, then close every connection.
 *
 * Secure by default: with access keys (`accessKeysFile` / `accessKeys`) every request must be
 * signed (./auth.ts); without them the server listens on a loopback address only, unless
 * `insecure` is set (then it warns). See the README, "Security".
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { isIP } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { newUuid } from '../shared/ids.js';
import { API_ERRORS, formatTemplate } from './errors.js';
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
import { createOosExecutionService } from '../executions/oos/index.js';
import { DurableRunner } from '../executions/durable-runner.js';
import { FlowCompiler, StandardFlowService, storedFlowSource } from '../executions/standard-flows.js';
import type { ExecutionStore } from '../executions/store.js';
import { DefinitionFlowStore } from '../fnf/definition-store.js';
import { openExecutionStore, openSqliteStore } from '../store/index.js';
import type { Authenticator } from './app.js';
import { loadAccessKeys } from '../auth/index.js';
import type { AccessKeyStore } from '../auth/index.js';
import { createSignatureAuthenticator } from './auth.js';
import { TenantRegistry } from './tenants.js';
import { TenantFlowStore } from '../fnf/tenant-store.js';
import { FlowCatalog } from '../flow/catalog.js';

export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_LOG_LEVEL = 'info';
/** How long shutdown lets executions in flight finish before stopping them. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 30_000;
/** After executions have ended, how long shutdown waits for their responses to be written. */
export const CONNECTION_CLOSE_GRACE_MS = 2_000;
/** What FC.FunctionsDisabled says on a server started without a functions directory. */
export const FUNCTIONS_DISABLED_REASON =
  'local functions are not enabled on this server; the operator enables them with --functions DIR (FLOWRUN_FUNCTIONS_DIR, startServer functionsDir)';
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export interface ServerConfig extends Omit<FlowServiceOptions, 'runtime' | 'store' | 'logger'> {
  /** Default {@link DEFAULT_PORT}; 0 picks a free port. */
  port?: number;
  host?: string;
  /** Flow files loaded at start (default `flows`). */
  flowsDir?: string;
  /**
   * Local functions for FC:InvokeFunction. Absent: local functions are disabled (FC:InvokeFunction
   * fails with `FC.FunctionsDisabled`); running code from a folder is the operator's explicit choice.
   */
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
  /** Lease of an execution held by this instance (default: the runner's 30 s). */
  leaseMs?: number;
  /** OOS: QuotaExceed past this many unfinished executions per account (default 100). */
  oosMaxRunningExecutions?: number;
  /** OOS: top-level executions running at once per account; more wait `Queued` (default: no limit). */
  oosMaxConcurrentExecutions?: number;
  /** A custom request check (counts as authentication for the loopback rule); not with access keys. */
  authenticate?: Authenticator;
  hostId?: string;
  /** JSON file of `{AccessKeyId, AccessKeySecret, AccountId}`: every request must then be signed. */
  accessKeysFile?: string;
  /** The access keys themselves (instead of a file; embedding and tests). */
  accessKeys?: AccessKeyStore;
  /** Live signature nonces remembered at most (default 200,000); past that, signed requests get 429. */
  maxNonceEntries?: number;
  /** Listen on a non-loopback address without authentication (logs a warning). */
  insecure?: boolean;
  /**
   * Let V8 switch a regular expression that backtracks excessively to its linear-time engine
   * (`--enable-experimental-regexp-engine-on-excessive-backtracks`, process-wide). Default true:
   * flows and templates carry user-written patterns (`regexMatchString`, `AllowedPattern`).
   */
  linearRegExpFallback?: boolean;
}

/** startServer refuses to listen on a non-loopback address without authentication. */
export class InsecureBindError extends Error {
  override name = 'InsecureBindError';
}

/** Whether `host` is a loopback address: 127.0.0.0/8, ::1 (also IPv4-mapped), or `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) !== 6) return false;
  // normalise (0:0:0:0:0:0:0:1, ::ffff:127.0.0.1 …) the way URL does
  const normal = new URL(`http://[${h}]/`).hostname.replace(/^\[(.*)\]$/, '$1');
  return normal === '::1' || /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(normal);
}

/** Whether the configuration makes every request authenticated. */
export function hasAuthentication(config: Pick<ServerConfig, 'accessKeysFile' | 'accessKeys' | 'authenticate'>): boolean {
  return config.accessKeysFile !== undefined || config.accessKeys !== undefined || config.authenticate !== undefined;
}

/**
 * The secure-by-default rule: without authentication, only a loopback address may be bound,
 * unless `insecure` is set. Throws {@link InsecureBindError}; returns whether the binding is the
 * insecure kind (the caller warns).
 */
export function checkBinding(config: Pick<ServerConfig, 'host' | 'insecure' | 'accessKeysFile' | 'accessKeys' | 'authenticate'>): { insecure: boolean } {
  const host = config.host ?? DEFAULT_HOST;
  if (hasAuthentication(config) || isLoopbackHost(host)) return { insecure: false };
  if (config.insecure) return { insecure: true };
  throw new InsecureBindError(
    `refusing to listen on ${host === '' ? 'every address' : host} without access keys: anyone who can reach it could create and run flows. ` +
      'Give --access-keys FILE (FLOWRUN_ACCESS_KEYS_FILE) so every request must be signed, listen on a loopback address (127.0.0.1, ::1, localhost), ' +
      'or pass --insecure (FLOWRUN_INSECURE=1) to accept the risk.',
  );
}

/**
 * Requests Node's HTTP parser refuses before the app sees them (headers over `maxHeaderSize`,
 * malformed request lines or headers …) are answered with a catalogued JSON error too, instead of
 * Node's bare `400`/`431`: EntityTooLarge for oversized headers, InvalidArgument otherwise. The
 * connection is closed afterwards.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: Error & { code?: string }, socket: Socket) => {
    // a response already started on this connection, or nobody to answer: just close it
    if (err.code === 'ECONNRESET' || !socket.writable || (socket as Socket & { _httpMessage?: unknown })._httpMessage) {
      socket.destroy();
      return;
    }
    const code = err.code === 'HPE_HEADER_OVERFLOW' ? 'EntityTooLarge' : 'InvalidArgument';
    const message =
      code === 'EntityTooLarge'
        ? 'The request line and headers are too large.'
        : `${formatTemplate(API_ERRORS.InvalidArgument.message)} The HTTP request is malformed${err.code ? ` (${err.code})` : ''}.`;
    const requestId = newUuid();
    const body = JSON.stringify({ RequestId: requestId, HostId: 'flowrun', Code: code, Message: message });
    socket.end(
      `HTTP/1.1 ${API_ERRORS[code].status} Bad Request\r\ncontent-type: application/json; charset=utf-8\r\nx-acs-request-id: ${requestId}\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
}

let regExpFallbackSet = false;

/** See {@link ServerConfig.linearRegExpFallback}. */
export function enableLinearRegExpFallback(): void {
  if (regExpFallbackSet) return;
  setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
  regExpFallbackSet = true;
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
  if (config.authenticate && (config.accessKeys !== undefined || config.accessKeysFile !== undefined)) {
    throw new TypeError('startServer: give access keys or a custom authenticate function, not both');
  }
  const binding = checkBinding(config);
  const keys = config.accessKeys ?? (config.accessKeysFile !== undefined ? await loadAccessKeys(config.accessKeysFile) : undefined);
  if (config.linearRegExpFallback !== false) enableLinearRegExpFallback();
  const logger = config.logger ?? pino({ level: config.logLevel ?? DEFAULT_LOG_LEVEL });
  const flowsDir = resolve(config.flowsDir ?? DEFAULT_FLOWS_DIR);
  // local functions run only when the operator names their folder (see the README, "Security")
  const functionsDir = config.functionsDir !== undefined && config.functionsDir !== '' ? resolve(config.functionsDir) : undefined;
  const ownRuntime = config.runtime === undefined;
  const runtime =
    config.runtime ??
    createRuntime({ functionsDir: functionsDir ?? false, disabledFunctionsReason: FUNCTIONS_DISABLED_REASON, ...(config.clock ? { clock: config.clock } : {}) });
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
    ...(config.leaseMs !== undefined ? { leaseMs: config.leaseMs, heartbeatMs: Math.max(1, Math.floor(config.leaseMs / 3)), claimIntervalMs: Math.max(1, Math.floor(config.leaseMs / 6)) } : {}),
  });
  const standard = new StandardFlowService({ store: executionStore, runner, clock: runtime.clock, compiler });
  const serviceLimits = {
    ...(config.maxConcurrentExecutions !== undefined ? { maxConcurrentExecutions: config.maxConcurrentExecutions } : {}),
    ...(config.maxQueuedExecutions !== undefined ? { maxQueuedExecutions: config.maxQueuedExecutions } : {}),
    ...(config.executionTimeoutMs !== undefined ? { executionTimeoutMs: config.executionTimeoutMs } : {}),
    ...(config.executionWindow !== undefined ? { executionWindow: config.executionWindow } : {}),
    ...(config.keepHistory !== undefined ? { keepHistory: config.keepHistory } : {}),
    ...(config.maxInputBytes !== undefined ? { maxInputBytes: config.maxInputBytes } : {}),
  };
  const service = new FlowService({ runtime, logger, store: flowStore, ...serviceLimits });

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
  // --watch also reloads a local function when its file changes (the next call loads it again)
  const functionWatcher = config.watch
    ? runtime.engine.functions?.watch({ onChange: (name) => logger.info({ function: name ?? '(all)' }, 'local function changed; reloading it') })
    : undefined;

  // OOS executions (API 2019-06-01): templates from <flows>/templates, the fixture adapter and
  // local inventory from <flows>/templates/local when present. The local command runner stays off.
  const templatesDir = join(flowsDir, 'templates');
  const localDir = join(templatesDir, 'local');
  const oos = await createOosExecutionService({
    store: executionStore,
    runner,
    engine: runtime.engine,
    clock: runtime.clock,
    logger,
    config: {
      templatesDir,
      ...(existsSync(join(localDir, 'fixtures.yaml')) ? { fixturesPath: join(localDir, 'fixtures.yaml') } : {}),
      ...(existsSync(join(localDir, 'inventory.yaml')) ? { inventoryPath: join(localDir, 'inventory.yaml') } : {}),
      commandRunner: { enabled: false },
      ...(config.oosMaxRunningExecutions !== undefined ? { maxRunningExecutions: config.oosMaxRunningExecutions } : {}),
      ...(config.oosMaxConcurrentExecutions !== undefined ? { maxConcurrentExecutions: config.oosMaxConcurrentExecutions } : {}),
    },
  });

  // after every kind's hooks are in place: resumed template executions need the OOS hooks
  const resumed = await runner.recover();
  if (resumed > 0) logger.info({ resumed }, 'resumed executions from their last checkpoint');
  runner.startBackground();
  // OOS executions a previous process left queued start if slots are free
  await oos.startAllQueued();

  // Tenant isolation (only meaningful with access keys): each verified account gets its own
  // services over the shared store, runner and engine (./tenants.ts). Its flows stay out of the
  // runtime's catalog of child flows (FnF:StartSyncExecution tasks call shared flows only).
  const tenants = new TenantRegistry({ service, standard, oos }, async (account) => {
    const own = await DefinitionFlowStore.open(executionStore, runtime.clock, account);
    return {
      service: new FlowService({
        runtime: { ...runtime, flows: new FlowCatalog() },
        logger: logger.child({ account }),
        store: new TenantFlowStore(own, flowStore, executionStore, account),
        ...serviceLimits,
      }),
      standard: new StandardFlowService({ store: executionStore, runner, clock: runtime.clock, compiler, account }),
      oos: oos.forAccount(account),
    };
  });

  const signing = keys
    ? createSignatureAuthenticator({ keys, clock: runtime.clock, ...(config.maxNonceEntries !== undefined ? { maxNonceEntries: config.maxNonceEntries } : {}) })
    : undefined;
  const authenticate = signing?.authenticate ?? config.authenticate;
  const app = createApp({
    service,
    standard,
    oos,
    logger,
    tenants: tenants.get,
    stats: tenants.stats,
    ...(config.bodyLimitBytes !== undefined ? { bodyLimitBytes: config.bodyLimitBytes } : {}),
    ...(authenticate ? { authenticate } : {}),
    ...(config.hostId !== undefined ? { hostId: config.hostId } : {}),
  });
  // responses in flight, so shutdown can ask their connections to close once they are sent
  const responses = new Set<ServerResponse>();
  let shuttingDown = false;
  // one listener for every response ('close' is emitted once): no closure per request
  function forgetResponse(this: ServerResponse): void {
    responses.delete(this);
  }
  // One 'request' listener (each further one costs every request a copy of the listener list):
  // the app, then the bookkeeping of the response.
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    app(req, res);
    if (shuttingDown) {
      if (!res.headersSent) res.setHeader('connection', 'close');
      return;
    }
    responses.add(res);
    res.on('close', forgetResponse);
  });
  answerClientErrors(server);
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
    functionWatcher?.close();
    await service.close();
    await runner.close();
    await oos.close();
    if (ownStore) await executionStore.close();
    if (ownRuntime) await runtime.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info({ url }, 'flowrun is listening');
  if (keys) {
    for (const warning of keys.warnings) logger.warn({ file: config.accessKeysFile }, warning);
    logger.info({ accessKeys: keys.size, accounts: keys.accountIds().length, file: config.accessKeysFile }, 'request signing required (RPC V2 or ACS3-HMAC-SHA256)');
  } else if (binding.insecure) {
    logger.warn({ url }, 'INSECURE: listening on a non-loopback address without access keys (--insecure): anyone who can reach it can create and run flows, unauthenticated');
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      logger.info('shutting down');
      shuttingDown = true;
      for (const res of responses) if (!res.headersSent) res.setHeader('connection', 'close');
      watcher?.close();
      functionWatcher?.close();
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      const grace = config.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
      await Promise.all([service.close(grace), ...tenants.tenants().map((t) => t.service.close(grace))]);
      // responses of the last executions are being written: give them a moment, then cut
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), CONNECTION_CLOSE_GRACE_MS);
      timer.unref();
      await closed;
      clearTimeout(timer);
      await runner.close();
      await oos.close();
      if (ownStore) await executionStore.close();
      if (ownRuntime) await runtime.close();
      logger.info('stopped');
    })());

  return { url, port, host, app, server, service, standard, runner, executionStore, runtime, logger, close };
}
