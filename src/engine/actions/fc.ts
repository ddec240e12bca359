import { FlowrunError } from '../../shared/errors.js';
import { newUuid } from '../../shared/ids.js';
import type { Logger } from 'pino';
import { isJsonObject } from '../../shared/json.js';
import type { Json, JsonObject } from '../../shared/json.js';
import { EngineErrorNames } from '../errors.js';
import { FUNCTION_NAME_PATTERN, functionNameFromArn } from '../functions.js';
import type { FunctionContext, FunctionLoader, LoadedFunction } from '../functions.js';
import type { ActionDefinition, ActionRunContext, TaskListener } from '../types.js';

export const INVOKE_FUNCTION_ACTION = 'FC:InvokeFunction';

export const invokeFunctionParametersSchema = {
  type: 'object',
  additionalProperties: false,
  anyOf: [{ required: ['functionName'] }, { required: ['resourceArn'] }],
  'x-message': 'need functionName or resourceArn',
  properties: {
    functionName: { type: 'string', pattern: FUNCTION_NAME_PATTERN.source },
    resourceArn: { type: 'string', pattern: '^acs:fc:' },
    qualifier: { type: 'string' },
    invocationType: { enum: ['Sync'] },
    body: {},
    payload: {},
  },
} as const;

/**
 * `FC:InvokeFunction`, answered by a local function (see {@link FunctionLoader}).
 *
 * Parameters: `functionName` or `resourceArn` (`acs:fc:<region>:<uid>:functions/<name>[/<qualifier>]`
 * or `...:services/<svc>[.<qualifier>]/functions/<name>`; `functionName` wins when both are given),
 * `body` (or `payload`) as the event, `invocationType` (only `Sync`), `qualifier` (ignored).
 * The handler gets `(event, { functionName, requestId, signal, deadline?, logger? })`.
 * Output: `{ StatusCode: 200, Body: <the handler's return value as JSON> }` — the cloud's shape
 * (flows read `$Output.Body`); `undefined` becomes `null`.
 *
 * A handler's error becomes a FlowrunError whose code is, in order: the error's `errorType` when it
 * is a non-empty string (as FC reports user errors, e.g. `ValidationError`); the error's `name` when
 * it is not plain `Error` (`TypeError`, a custom class); else `FC.FunctionError`. Detail is the
 * message; it is retryable only when the error has `retryable: true`. A FlowrunError passes as is.
 * Unknown function → `FC.FunctionNotFound`; bad name/ARN → `FC.InvalidArgument`; import failure or
 * no handler → `FC.FunctionLoadFailed` (all non-retryable).
 */
export function createInvokeFunctionAction(loader: FunctionLoader): ActionDefinition {
  return {
    name: INVOKE_FUNCTION_ACTION,
    description: 'Invokes a local function from the functions directory and returns {StatusCode, Body}.',
    parametersSchema: invokeFunctionParametersSchema,
    highRisk: false,
    run: (parameters, ctx) =>
      new Promise<Json>((resolve, reject) => {
        invoke(loader, parameters, ctx, { succeeded: resolve, failed: reject });
      }),
    start: (parameters, ctx, listener) => invoke(loader, parameters, ctx, listener),
  };
}

function invalid(message: string): FlowrunError {
  return new FlowrunError(EngineErrorNames.FcInvalidArgument, `${INVOKE_FUNCTION_ACTION}: ${message}`, { retryable: false });
}

/** The function name a FC:InvokeFunction call targets. */
export function targetFunctionName(parameters: Json): string {
  if (!isJsonObject(parameters)) throw invalid('parameters must be an object');
  const { functionName, resourceArn, invocationType } = parameters;
  if (invocationType !== undefined && invocationType !== 'Sync') {
    throw invalid(`invocationType ${JSON.stringify(invocationType)} is not supported locally (only Sync)`);
  }
  if (typeof functionName === 'string') return functionName;
  if (typeof resourceArn === 'string') {
    const name = functionNameFromArn(resourceArn);
    if (name === undefined) throw invalid(`resourceArn ${JSON.stringify(resourceArn)} is not a function ARN`);
    return name;
  }
  throw invalid('functionName (a string) or resourceArn is required');
}

function invoke(loader: FunctionLoader, parameters: Json, ctx: ActionRunContext, listener: TaskListener): void {
  let name: string;
  try {
    name = targetFunctionName(parameters);
  } catch (err) {
    listener.failed(err);
    return;
  }
  // once the module is cached: no promise and no microtask before the handler runs
  const fn = loader.loaded?.(name);
  if (fn) call(fn, name, parameters as JsonObject, ctx, listener);
  else loader.load(name).then((loaded) => call(loaded, name, parameters as JsonObject, ctx, listener), (err: unknown) => listener.failed(err));
}

/**
 * Calls a loaded handler and tells `listener` its result as `{StatusCode, Body}`: the handler's
 * promise is chained once (no async frame kept per call, no promise of the action's own).
 */
function call(fn: LoadedFunction, name: string, params: JsonObject, ctx: ActionRunContext, listener: TaskListener): void {
  let event: Json;
  let context: InvocationContext;
  try {
    // The function gets its own copy: parameters share objects with the execution's state.
    event = copyJson(params['body'] !== undefined ? params['body'] : (params['payload'] ?? null));
    context = new InvocationContext(name, ctx);
  } catch (err) {
    listener.failed(err);
    return;
  }
  let result: unknown;
  try {
    result = fn.handler(event, context);
  } catch (err) {
    listener.failed(functionError(name, err));
    return;
  }
  if (!isThenable(result)) {
    tell(listener, name, result);
    return;
  }
  // Promise.resolve: a native promise as it is; a foreign thenable adopted once
  Promise.resolve(result).then(
    (value) => tell(listener, name, value),
    (err: unknown) => listener.failed(functionError(name, err)),
  );
}

/** Tells `listener` the handler's value as the action's output (or why it is not JSON). */
function tell(listener: TaskListener, name: string, value: unknown): void {
  let output: JsonObject;
  try {
    output = invocationOutput(name, value);
  } catch (err) {
    listener.failed(err);
    return;
  }
  listener.succeeded(output);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function invocationOutput(name: string, result: unknown): JsonObject {
  return { StatusCode: 200, Body: toJson(name, result) };
}

/**
 * The handler's context. The request id and the signal are made when the handler reads them (most
 * never do): they are getters of the class, not of each object (an object literal with getters is
 * built in V8's slow path, about a microsecond per call), so a spread copy of the context leaves
 * them out; read them from the context itself.
 */
class InvocationContext implements FunctionContext {
  readonly #ctx: ActionRunContext;
  #requestId: string | undefined;
  functionName: string;
  deadline?: number;
  logger?: Logger;

  constructor(name: string, ctx: ActionRunContext) {
    this.#ctx = ctx;
    this.functionName = name;
    if (ctx.deadline !== undefined) this.deadline = ctx.deadline;
    if (ctx.logger) this.logger = ctx.logger.child({ function: name });
  }

  get requestId(): string {
    return (this.#requestId ??= newUuid());
  }

  get signal(): AbortSignal {
    return this.#ctx.signal;
  }
}

/** A handler's thrown value as the FlowrunError the Task fails with. */
export function functionError(name: string, err: unknown): FlowrunError {
  if (err instanceof FlowrunError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as { errorType?: unknown; name?: unknown; message?: unknown; retryable?: unknown };
  const code =
    typeof e.errorType === 'string' && e.errorType !== ''
      ? e.errorType
      : typeof e.name === 'string' && e.name !== '' && e.name !== 'Error'
        ? e.name
        : EngineErrorNames.FcFunctionError;
  const message = typeof e.message === 'string' ? e.message : typeof err === 'string' ? err : `function '${name}' failed`;
  return new FlowrunError(code, message, { retryable: e.retryable === true, cause: err });
}

/**
 * A handler's return value as JSON: what `JSON.parse(JSON.stringify(value))` gives (`undefined`
 * and non-finite numbers become null), and a copy the handler cannot change afterwards. Plain data
 * (plain objects, arrays, strings, finite numbers, booleans, null) is copied in one walk; anything
 * else (a `toJSON` method, a Date, a Map, a class instance, a BigInt, a cycle) takes the JSON round
 * trip itself, which applies JSON's own rules or throws `FC.FunctionError`.
 */
export function toJson(name: string, value: unknown): Json {
  if (value === undefined) return null;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  try {
    const copy = copyPlainJson(value, 0);
    return copy !== NOT_PLAIN ? copy : (JSON.parse(JSON.stringify(value) ?? 'null') as Json);
  } catch (err) {
    throw new FlowrunError(EngineErrorNames.FcFunctionError, `function '${name}' returned a value that is not JSON: ${(err as Error).message}`, {
      retryable: false,
    });
  }
}

const hasOwn = Object.prototype.hasOwnProperty;

const NOT_PLAIN: unique symbol = Symbol('not plain JSON');
/** Deeper than this, {@link copyPlainJson} gives up (a cycle, or data JSON.stringify should judge). */
const MAX_PLAIN_DEPTH = 256;

/**
 * A deep copy of `value` as JSON.stringify would write it, when `value` is plain data; else
 * NOT_PLAIN. In objects, `undefined`, functions and symbols are left out; in arrays they become
 * null; non-finite numbers become null, -0 becomes 0.
 */
function copyPlainJson(value: unknown, depth: number): Json | typeof NOT_PLAIN {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value + 0 : null;
    case 'object': {
      if (value === null) return null;
      if (depth >= MAX_PLAIN_DEPTH) return NOT_PLAIN;
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return NOT_PLAIN;
      if (Array.isArray(value)) {
        if (Object.getPrototypeOf(value) !== Array.prototype) return NOT_PLAIN;
        const out: Json[] = new Array<Json>(value.length);
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          if (item === undefined || typeof item === 'function' || typeof item === 'symbol') {
            out[i] = null;
            continue;
          }
          const copy = copyPlainJson(item, depth + 1);
          if (copy === NOT_PLAIN) return NOT_PLAIN;
          out[i] = copy;
        }
        return out;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return NOT_PLAIN;
      const out: JsonObject = {};
      // for-in over own keys: no keys array per object (Object.keys makes one)
      for (const key in value) {
        if (!hasOwn.call(value, key)) continue;
        const item: unknown = (value as Record<string, unknown>)[key];
        if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
        const copy = copyPlainJson(item, depth + 1);
        if (copy === NOT_PLAIN) return NOT_PLAIN;
        setOwn(out, key, copy);
      }
      return out;
    }
    default:
      return NOT_PLAIN; // bigint (JSON.stringify throws); functions and symbols are handled by the caller
  }
}

/**
 * The event a function receives: a deep copy of the parameters' body (they share objects with the
 * execution's state), as JSON carries it to a function in the cloud. A flow's values are plain
 * JSON and take {@link copyPlainJson}'s one walk; anything else takes the JSON round trip.
 */
export function copyJson(value: Json): Json {
  if (value === null || typeof value !== 'object') return value;
  const copy = copyPlainJson(value, 0);
  return copy !== NOT_PLAIN ? copy : (JSON.parse(JSON.stringify(value)) as Json);
}

/** `out[key] = value`, as an own property even for `__proto__` (which would set the prototype). */
function setOwn(out: JsonObject, key: string, value: Json): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value, writable: true, enumerable: true, configurable: true });
  else out[key] = value;
}
