/**
 * The HTTP app: one dispatcher for both request styles, one error middleware.
 *
 * - RPC style (what the Alibaba Cloud SDKs send): `GET|POST /?Action=X&Version=2019-03-15&…`,
 *   parameters merged from the query and a form-encoded (or JSON) body; `Version` is required.
 * - Path style (flowrun's convenience): `POST /<Action>` with a JSON body (query parameters merge
 *   in too); `Version` is optional, checked when given.
 * - `Version: 2019-06-01` is the OOS API (./oos-actions.ts, when `deps.oos` is given); see
 *   `routeProduct` there for the rule without a Version.
 *
 * Every response is JSON with `RequestId` (also in the `x-acs-request-id` header). Errors are
 * `{RequestId, HostId, Code, Message}` with the catalog's status; success bodies never hold `Code`.
 */
import { performance } from 'node:perf_hooks';
import express from 'express';
import type { Express, NextFunction, Request, Response } from 'express';
import pino from 'pino';
import type { Logger } from 'pino';
import type { FlowService, ServiceStats } from '../fnf/service.js';
import type { TenantServices } from './tenants.js';
import type { StandardFlowService } from '../executions/standard-flows.js';
import type { OosExecutionService } from '../executions/oos/index.js';
import { LazyAbortController } from '../shared/abort.js';
import { ErrorNames, FlowrunError } from '../shared/errors.js';
import { newUuid } from '../shared/ids.js';
import { API_VERSION, isActionName, runAction, validateParams } from './actions.js';
import type { ActionContext, ActionName } from './actions.js';
import { bodyKind, DEFAULT_BODY_LIMIT_BYTES, parseBody, readBody } from './body.js';
import type { BodyKind } from './body.js';
import { apiError, renderError } from './errors.js';
import { callerOf, isOosActionName, routeProduct, runOosAction, validateOosParams } from './oos-actions.js';
import type { OosActionName } from './oos-actions.js';

/** What an {@link Authenticator} sees of a request. */
export interface AuthRequest {
  action: ActionName | OosActionName;
  style: 'rpc' | 'path';
  method: string;
  /** Query and body parameters, merged (decoded). */
  params: Readonly<Record<string, unknown>>;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The request target as received, percent-encoded: path and query string (`req.originalUrl`). */
  url: string;
  /** How the body was parsed (undefined: no body). */
  bodyKind: BodyKind | undefined;
  /** The parsed body parameters (`{}` without a body). */
  body: Readonly<Record<string, unknown>>;
  /** The body the parameters were parsed from, as UTF-8 bytes (undefined: no body). */
  rawBody: Buffer | undefined;
}

/** The caller an {@link Authenticator} verified; the app keeps it in `res.locals.caller`. */
export interface AuthenticatedCaller {
  accountId: string;
  accessKeyId: string;
}

/**
 * Checks a request before its action runs; throws an API error (SignatureNotMatch,
 * InvalidAccessKeyID, RequestTimeTooSkewed, AccessDenied, MissingRequiredHeader …) to refuse it,
 * or returns the verified caller. Request signing plugs in here (see ./auth.ts); without one
 * every request is accepted.
 */
export type Authenticator = (request: AuthRequest) => AuthenticatedCaller | void | Promise<AuthenticatedCaller | void>;

export interface AppDeps {
  service: FlowService;
  /** Durable Standard-flow executions (StartExecution, StopExecution, ReportTask*, …). */
  standard?: StandardFlowService;
  /** Default: a pino logger at info level on stdout. */
  logger?: Logger;
  /** Default {@link DEFAULT_BODY_LIMIT_BYTES}. */
  bodyLimitBytes?: number;
  /** `HostId` of error bodies; default: the request's Host header. */
  hostId?: string;
  authenticate?: Authenticator;
  /** OOS executions (API 2019-06-01); absent: only FnF is served. */
  oos?: OosExecutionService;
  /**
   * Tenant isolation: the services of a verified caller's account (see ./tenants.ts). Absent, or
   * no verified caller: `service`, `standard` and `oos` serve every request.
   */
  tenants?: (account: string) => Promise<TenantServices>;
  /** Running/queued counts of `GET /health` (default: `service.stats()`). */
  stats?: () => ServiceStats;
}

interface RequestState {
  requestId: string;
  started: number;
  action?: string;
  note: ActionContext['note'];
  code?: string;
  /** The verified caller's account (when requests are signed). */
  account?: string;
  logged: boolean;
}

const PATH_ACTION = /^\/([A-Za-z][A-Za-z0-9]*)\/?$/;
const HEALTH_PATH = /^\/health\/?$/i;

function stateOf(res: Response): RequestState {
  return res.locals['flowrun'] as RequestState;
}

function queryParams(url: string): Record<string, string> {
  const q = url.indexOf('?');
  return q < 0 ? {} : Object.fromEntries(new URLSearchParams(url.slice(q + 1)));
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/**
 * Answers `body` as JSON with `status`. Other than for GET and HEAD this is exactly what express's
 * `res.json` sends with this app's settings (no ETag, no JSON replacer, spaces or escaping): the
 * same status, headers and bytes, without looking the settings up and parsing the Content-Type it
 * set on every call. GET and HEAD (RPC style allows them) go through `res.json`, which also
 * answers conditional requests (304) and leaves the body out for HEAD.
 */
function sendJson(req: Request, res: Response, status: number, body: object): void {
  if (req.method === 'GET' || req.method === 'HEAD') {
    res.status(status).json(body);
    return;
  }
  sendJsonText(res, status, JSON.stringify(body));
}

function sendJsonText(res: Response, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', JSON_CONTENT_TYPE);
  res.setHeader('Content-Length', String(Buffer.byteLength(text, 'utf8')));
  res.end(text, 'utf8');
}

/**
 * Answers a success: `{RequestId, ...result}` as JSON. Other than for GET and HEAD the text is
 * written without making that object: the RequestId member (a UUID: nothing to escape) joined to
 * the result's own JSON text, the same bytes.
 */
function sendSuccess(req: Request, res: Response, requestId: string, result: Record<string, unknown>): void {
  if (req.method === 'GET' || req.method === 'HEAD' || Object.hasOwn(result, 'RequestId')) {
    sendJson(req, res, 200, { RequestId: requestId, ...result });
    return;
  }
  const rest = JSON.stringify(result);
  sendJsonText(res, 200, rest.length === 2 ? `{"RequestId":"${requestId}"}` : `{"RequestId":"${requestId}",${rest.slice(1)}`);
}

export function createApp(deps: AppDeps): Express {
  const { service } = deps;
  const logger = deps.logger ?? pino({ level: 'info' });
  const bodyLimit = deps.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  /** The services of requests without a verified caller (or without tenants). */
  const ownServices: TenantServices = { service, standard: deps.standard };
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  /** Request id, response header, one log line per request. */
  const begin = (req: Request, res: Response): RequestState => {
    const state: RequestState = { requestId: newUuid(), started: performance.now(), note: {}, logged: false };
    res.locals['flowrun'] = state;
    res.setHeader('x-acs-request-id', state.requestId);
    // The request line is written at info: below that level, skip its listeners altogether.
    if (!logger.isLevelEnabled('info')) return state;
    const done = (): void => {
      if (state.logged) return;
      state.logged = true;
      const line = {
        requestId: state.requestId,
        method: req.method,
        action: state.action,
        flow: state.note.flow,
        execution: state.note.execution,
        account: state.account,
        status: res.writableFinished ? res.statusCode : undefined,
        code: state.code,
        aborted: !res.writableFinished || undefined,
        durationMs: Math.round((performance.now() - state.started) * 1000) / 1000,
      };
      logger.info(line, 'request');
    };
    res.once('finish', done);
    res.once('close', done);
    return state;
  };

  /** Answers an action request (either style). */
  const dispatch = async (req: Request, res: Response, state: RequestState): Promise<void> => {
    const path = req.path;
    const match = PATH_ACTION.exec(path);
    const style: 'rpc' | 'path' = path === '/' ? 'rpc' : 'path';
    if (style === 'path' && !match) throw apiError('ActionNotSupported', { args: [path.slice(0, 200)] });
    if (match) state.action = match[1];

    const kind = bodyKind(req, style);
    const text = kind ? await readBody(req, bodyLimit) : undefined;
    const body = kind && text !== undefined ? parseBody(text, kind) : {};
    // the parsed body is a fresh object: it is the parameters as is when there is no query string
    const params: Record<string, unknown> = req.originalUrl.includes('?') ? { ...queryParams(req.originalUrl), ...body } : body;

    const action = style === 'path' ? (match?.[1] as string) : (params['Action'] ?? firstHeader(req.headers['x-acs-action']));
    if (typeof action !== 'string' || action === '') throw apiError('MissingRequiredParams', { args: ['Action'] });
    state.action = action;
    const version = params['Version'] ?? firstHeader(req.headers['x-acs-version']);
    const authenticate = async (name: ActionName | OosActionName): Promise<AuthenticatedCaller | undefined> => {
      if (!deps.authenticate) return undefined;
      const rawBody = text === undefined ? undefined : Buffer.from(text, 'utf8');
      const caller = await deps.authenticate({ action: name, style, method: req.method, params, headers: req.headers, url: req.originalUrl, bodyKind: kind, body, rawBody });
      if (!caller) return undefined;
      res.locals['caller'] = caller;
      state.account = caller.accountId;
      return caller;
    };
    // Version picks the product: 2019-06-01 → OOS, 2019-03-15 → FnF. Without a Version (path style
    // only), a name FnF serves (StartExecution, ListExecutions…) is FnF's, any other OOS name OOS's.
    if (deps.oos && routeProduct(version, style, action) === 'oos') {
      if (!isOosActionName(action)) throw apiError('InvalidAction.NotFound');
      const verified = deps.authenticate ? await authenticate(action) : undefined;
      // a verified caller is who approves (NotifyExecution), not a parameter it may set
      const caller = verified ? verified.accessKeyId : callerOf(params, req.headers);
      const oos = verified && deps.tenants ? ((await deps.tenants(verified.accountId)).oos ?? deps.oos) : deps.oos;
      const result = await runOosAction(action, validateOosParams(action, params), { oos, caller, note: state.note });
      sendSuccess(req, res, state.requestId, result);
      return;
    }
    if (version !== API_VERSION && (style === 'rpc' || (version !== undefined && version !== ''))) {
      throw apiError('APIVersionNotSupported', { args: [typeof version === 'string' && version !== '' ? version : '(none)'] });
    }
    if (!isActionName(action)) throw apiError('ActionNotSupported', { args: [action.slice(0, 200)] });
    const verified = deps.authenticate ? await authenticate(action) : undefined;
    const services: TenantServices = verified && deps.tenants ? await deps.tenants(verified.accountId) : ownServices;

    const typed = validateParams(action, params);
    // The action may hand the controller to the service, which may abort it too (shutdown): whether
    // the client went away is kept apart.
    const controller = new LazyAbortController();
    let clientGone = false;
    const onClose = (): void => {
      if (res.writableFinished) return;
      clientGone = true;
      controller.abort(new FlowrunError(ErrorNames.Cancelled, 'the client closed the connection'));
    };
    // 'close' comes once: a plain listener, removed below, does what `once` would without its wrapper
    res.on('close', onClose);
    try {
      const result = await runAction(action, typed, { service: services.service, standard: services.standard, controller, note: state.note });
      if (clientGone) return; // nobody is listening
      sendSuccess(req, res, state.requestId, result);
    } finally {
      res.off('close', onClose);
    }
  };

  // One middleware for every request (each router layer costs its walk on every request): the
  // request's state, then `GET /health` — matched as an express route would (any case, with or
  // without a trailing slash; HEAD too) — or an action.
  app.use(async (req: Request, res: Response) => {
    const state = begin(req, res);
    if ((req.method === 'GET' || req.method === 'HEAD') && HEALTH_PATH.test(req.path)) {
      const { running, queued } = deps.stats ? deps.stats() : service.stats();
      res.json({ RequestId: state.requestId, Status: 'UP', Running: running, Queued: queued });
      return;
    }
    await dispatch(req, res, state);
  });

  // the one error middleware
  app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    const state = stateOf(res);
    if (res.headersSent) {
      next(err);
      return;
    }
    const rendered = renderError(err);
    state.code = rendered.code;
    if (rendered.unexpected) logger.error({ err, requestId: state.requestId, action: state.action }, 'internal error');
    if (res.destroyed) return; // the client is gone
    sendJson(req, res, rendered.status, {
      RequestId: state.requestId,
      HostId: deps.hostId ?? req.headers.host ?? 'flowrun',
      Code: rendered.code,
      Message: rendered.message,
    });
  });

  return app;
}
