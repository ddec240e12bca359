import { ErrorNames, FlowrunError } from '../../shared/errors.js';
import { isJsonObject } from '../../shared/json.js';
import type { Json, JsonObject } from '../../shared/json.js';
import { cancellationError, EngineErrorNames, httpStatusErrorName, invalidParameters } from '../errors.js';
import type { ActionDefinition, ActionRunContext } from '../types.js';

export const HTTP_REQUEST_ACTION = 'HTTP:Request';
/** Largest response body HTTP:Request reads (bigger → `HTTP.ResponseTooLarge`). */
export const MAX_HTTP_RESPONSE_BYTES = 1024 * 1024;
/** Characters of the response body quoted in the Detail of an `HTTP.<status>` error. */
export const HTTP_ERROR_BODY_EXCERPT_CHARS = 200;
export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

const scalar = { type: ['string', 'number', 'boolean'] };

export const httpRequestParametersSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: {
    method: { enum: [...HTTP_METHODS] },
    url: { type: 'string', pattern: '^[Hh][Tt][Tt][Pp][Ss]?://' },
    headers: { type: 'object', additionalProperties: scalar },
    query: { type: 'object', additionalProperties: scalar },
    body: { type: ['object', 'array', 'string', 'null'] },
    timeoutSeconds: { type: 'number', exclusiveMinimum: 0 },
  },
} as const;

export interface HttpRequestActionOptions {
  /** Default {@link MAX_HTTP_RESPONSE_BYTES}. */
  maxResponseBytes?: number;
}

/**
 * `HTTP:Request`: a real HTTP call with Node's `fetch`.
 *
 * Parameters: `{ method = GET, url (http/https), headers?, query? (scalars, appended to the URL),
 * body? (object/array → JSON with content-type application/json unless set; string → as is),
 * timeoutSeconds? }`. Output: `{ StatusCode, Headers (lower-case names), Body }`, Body parsed when
 * the response content-type is JSON (`application/json`, `*+json`) and parses, else text.
 *
 * Errors: non-2xx → `HTTP.<status>` (retryable for 429 and 5xx; Detail has the status and a body
 * excerpt); network failure → `HTTP.ConnectionError` (retryable); body over the limit →
 * `HTTP.ResponseTooLarge`; `timeoutSeconds` elapsed → `FnF.Timeout` (retryable), like a Task Timeout.
 * Aborting the task's signal aborts the request (the connection is closed).
 */
export function createHttpRequestAction(options: HttpRequestActionOptions = {}): ActionDefinition {
  const maxBytes = options.maxResponseBytes ?? MAX_HTTP_RESPONSE_BYTES;
  return {
    name: HTTP_REQUEST_ACTION,
    description: 'Sends an HTTP request and returns {StatusCode, Headers, Body}.',
    parametersSchema: httpRequestParametersSchema,
    highRisk: true,
    run: (parameters, ctx) => httpRequest(parameters, ctx, maxBytes),
  };
}

interface PreparedRequest {
  method: string;
  url: URL;
  /** URL without query and credentials, for messages. */
  display: string;
  init: RequestInit;
  timeoutMs: number | undefined;
}

function prepare(parameters: Json): PreparedRequest {
  const bad = (message: string): FlowrunError => invalidParameters(HTTP_REQUEST_ACTION, message);
  if (!isJsonObject(parameters)) throw bad('parameters must be an object');
  const { method = 'GET', url, headers, query, body, timeoutSeconds } = parameters;
  if (typeof method !== 'string' || !(HTTP_METHODS as readonly string[]).includes(method)) {
    throw bad(`method must be one of ${HTTP_METHODS.join(', ')}, got ${JSON.stringify(method)}`);
  }
  if (typeof url !== 'string') throw bad('url must be a string');
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw bad(`url ${JSON.stringify(url)} is not a valid URL`);
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw bad(`url must use http or https, got ${target.protocol}`);
  const display = `${target.origin}${target.pathname}`;
  if (query !== undefined && query !== null) {
    if (!isJsonObject(query)) throw bad('query must be an object');
    for (const [key, value] of Object.entries(query)) {
      if (!isScalar(value)) throw bad(`query.${key} must be a string, number or boolean`);
      target.searchParams.append(key, String(value));
    }
  }
  const requestHeaders = new Headers();
  if (headers !== undefined && headers !== null) {
    if (!isJsonObject(headers)) throw bad('headers must be an object');
    for (const [key, value] of Object.entries(headers)) {
      if (!isScalar(value)) throw bad(`headers.${key} must be a string, number or boolean`);
      try {
        requestHeaders.set(key, String(value));
      } catch {
        throw bad(`header ${JSON.stringify(key)} is not a valid header`);
      }
    }
  }
  let payload: string | undefined;
  if (body !== undefined && body !== null) {
    if (method === 'GET' || method === 'HEAD') throw bad(`a ${method} request cannot have a body`);
    if (typeof body === 'string') payload = body;
    else if (typeof body === 'object') {
      payload = JSON.stringify(body);
      if (!requestHeaders.has('content-type')) requestHeaders.set('content-type', 'application/json');
    } else throw bad('body must be an object, an array or a string');
  }
  let timeoutMs: number | undefined;
  if (timeoutSeconds !== undefined && timeoutSeconds !== null) {
    if (typeof timeoutSeconds !== 'number' || !(timeoutSeconds > 0)) throw bad('timeoutSeconds must be a positive number');
    timeoutMs = timeoutSeconds * 1000;
  }
  const init: RequestInit = { method, headers: requestHeaders };
  if (payload !== undefined) init.body = payload;
  return { method, url: target, display, init, timeoutMs };
}

async function httpRequest(parameters: Json, ctx: ActionRunContext, maxBytes: number): Promise<Json> {
  const req = prepare(parameters);
  // One controller for this request: follows the task's signal and the optional timeoutSeconds.
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(ctx.signal.reason);
  if (ctx.signal.aborted) throw cancellationError(ctx.signal.reason);
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const timer = req.timeoutMs === undefined ? undefined : new AbortController();
  let timeoutError: FlowrunError | undefined;
  if (timer && req.timeoutMs !== undefined) {
    const ms = req.timeoutMs;
    ctx.clock.sleep(ms, timer.signal).then(
      () => {
        timeoutError = new FlowrunError(ErrorNames.Timeout, `${req.method} ${req.display} timed out after ${ms / 1000} s`, { retryable: true });
        controller.abort(timeoutError);
      },
      () => undefined,
    );
  }
  const failure = (err: unknown): unknown => {
    if (timeoutError) return timeoutError;
    if (ctx.signal.aborted) return cancellationError(ctx.signal.reason);
    return err;
  };
  try {
    let response: Response;
    try {
      response = await fetch(req.url, { ...req.init, signal: controller.signal });
    } catch (err) {
      const cause = (err as { cause?: { message?: string; code?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw failure(
        new FlowrunError(EngineErrorNames.HttpConnectionError, `${req.method} ${req.display} failed: ${why}`, { retryable: true, cause: err }),
      );
    }
    let text: string;
    try {
      text = await readCapped(response, maxBytes, req);
    } catch (err) {
      if (err instanceof FlowrunError && err.code === EngineErrorNames.HttpResponseTooLarge) throw err;
      throw failure(
        new FlowrunError(EngineErrorNames.HttpConnectionError, `${req.method} ${req.display}: reading the response failed: ${(err as Error).message}`, {
          retryable: true,
          cause: err,
        }),
      );
    }
    const headers: JsonObject = {};
    response.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const status = response.status;
    if (status < 200 || status > 299) {
      const excerpt = text.length > HTTP_ERROR_BODY_EXCERPT_CHARS ? `${text.slice(0, HTTP_ERROR_BODY_EXCERPT_CHARS)}…` : text;
      throw new FlowrunError(
        httpStatusErrorName(status),
        `${req.method} ${req.display} returned HTTP ${status}${response.statusText ? ` ${response.statusText}` : ''}${excerpt ? `: ${excerpt}` : ''}`,
        { retryable: status === 429 || status >= 500, details: { StatusCode: status, BodyExcerpt: excerpt } },
      );
    }
    return { StatusCode: status, Headers: headers, Body: parseBody(text, response.headers.get('content-type')) };
  } finally {
    timer?.abort();
    ctx.signal.removeEventListener('abort', onAbort);
  }
}

/** Reads the body as UTF-8 text, failing once more than `maxBytes` arrive (the stream is cancelled). */
async function readCapped(response: Response, maxBytes: number, req: PreparedRequest): Promise<string> {
  const tooLarge = (): FlowrunError =>
    new FlowrunError(EngineErrorNames.HttpResponseTooLarge, `${req.method} ${req.display}: response body is larger than ${maxBytes} bytes`, {
      retryable: false,
    });
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(text: string, contentType: string | null): Json {
  const mime = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  if (mime === 'application/json' || mime.endsWith('+json')) {
    try {
      return JSON.parse(text) as Json;
    } catch {
      return text;
    }
  }
  return text;
}

function isScalar(value: Json): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}
