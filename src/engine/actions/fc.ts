import { FlowrunError } from '../../shared/errors.js';
import { newUuid } from '../../shared/ids.js';
import { isJsonObject } from '../../shared/json.js';
import type { Json } from '../../shared/json.js';
import { EngineErrorNames } from '../errors.js';
import { FUNCTION_NAME_PATTERN, functionNameFromArn } from '../functions.js';
import type { FunctionContext, FunctionLoader } from '../functions.js';
import type { ActionDefinition, ActionRunContext } from '../types.js';

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
    run: (parameters, ctx) => invoke(loader, parameters, ctx),
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

async function invoke(loader: FunctionLoader, parameters: Json, ctx: ActionRunContext): Promise<Json> {
  const name = targetFunctionName(parameters);
  const fn = await loader.load(name);
  const params = parameters as Record<string, Json>;
  // The function gets its own copy: parameters share objects with the execution's state.
  const event = structuredClone(params.body !== undefined ? params.body : (params.payload ?? null));
  // the request id and the signal are made when the handler reads them (most never do)
  let requestId: string | undefined;
  const context: FunctionContext = {
    functionName: name,
    get requestId(): string {
      return (requestId ??= newUuid());
    },
    get signal(): AbortSignal {
      return ctx.signal;
    },
  };
  if (ctx.deadline !== undefined) context.deadline = ctx.deadline;
  if (ctx.logger) context.logger = ctx.logger.child({ function: name });
  let result: unknown;
  try {
    result = await fn.handler(event, context);
  } catch (err) {
    throw functionError(name, err);
  }
  return { StatusCode: 200, Body: toJson(name, result) };
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

function toJson(name: string, value: unknown): Json {
  if (value === undefined) return null;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  try {
    return JSON.parse(JSON.stringify(value) ?? 'null') as Json;
  } catch (err) {
    throw new FlowrunError(EngineErrorNames.FcFunctionError, `function '${name}' returned a value that is not JSON: ${(err as Error).message}`, {
      retryable: false,
    });
  }
}
