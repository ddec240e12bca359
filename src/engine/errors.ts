import { ErrorNames, FlowrunError } from '../shared/errors.js';

/**
 * Error names raised by the task engine and its built-in actions, besides the shared
 * {@link ErrorNames} (`FnF.Timeout`, `FnF.Cancelled`, `FnF.TaskFailed`). Retry/Catch match these.
 * `HTTP.<status>` (e.g. `HTTP.503`) is produced by {@link httpStatusErrorName}.
 */
export const EngineErrorNames = {
  /** HTTP:Request could not connect, or the connection failed mid-way. Retryable. */
  HttpConnectionError: 'HTTP.ConnectionError',
  /** HTTP:Request's response body exceeded the size limit. Not retryable. */
  HttpResponseTooLarge: 'HTTP.ResponseTooLarge',
  /** FC:InvokeFunction: no `<name>.js|.mjs|.ts` in the functions directory. Not retryable. */
  FcFunctionNotFound: 'FC.FunctionNotFound',
  /** FC:InvokeFunction: bad function name, ARN or invocation type. Not retryable. */
  FcInvalidArgument: 'FC.InvalidArgument',
  /** FC:InvokeFunction: the module failed to load or exports no handler. Not retryable. */
  FcFunctionLoadFailed: 'FC.FunctionLoadFailed',
  /** FC:InvokeFunction: local functions are not enabled on this server (`--functions DIR`). Not retryable. */
  FcFunctionsDisabled: 'FC.FunctionsDisabled',
  /** FC:InvokeFunction: the handler threw a plain `Error` (no `errorType`, no specific name). */
  FcFunctionError: 'FC.FunctionError',
  /** FnF:StartSyncExecution: the child would be deeper than the engine allows. Not retryable. */
  FnfNestingTooDeep: 'FnF.NestingTooDeep',
  /** FnF:StartSyncExecution: the child flow is already on the execution chain. Not retryable. */
  FnfRecursiveExecution: 'FnF.RecursiveExecution',
  /** Mock task runner: a Task state has no mocked response in the test case. Not retryable. */
  MockNotMocked: 'Mock.NotMocked',
  /** A mock configuration file is unreadable or does not match its schema. */
  MockInvalidConfig: 'Mock.InvalidConfig',
} as const;

/** `HTTP.<status>`, the name of an HTTP:Request error for a non-2xx status. */
export function httpStatusErrorName(status: number): string {
  return `HTTP.${status}`;
}

/** A resolved parameter an action cannot use (caught at compile time when the value is constant). */
export function invalidParameters(action: string, message: string): FlowrunError {
  return new FlowrunError(ErrorNames.TaskFailed, `${action}: ${message}`, { retryable: false });
}

/** The error a task rejects with when its signal aborts: a FlowrunError reason is kept as is. */
export function cancellationError(reason: unknown): FlowrunError {
  if (reason instanceof FlowrunError) return reason;
  const why = reason instanceof Error ? reason.message : reason === undefined ? '' : String(reason);
  return new FlowrunError(ErrorNames.Cancelled, why && why !== 'This operation was aborted' ? `task cancelled: ${why}` : 'task cancelled', {
    retryable: false,
    cause: reason,
  });
}

/** Anything an action threw, as a FlowrunError (`FnF.TaskFailed` unless it already is one). */
export function toTaskError(err: unknown): FlowrunError {
  if (err instanceof FlowrunError) return err;
  const message = err instanceof Error ? err.message : typeof err === 'string' ? err : (JSON.stringify(err) ?? String(err));
  return new FlowrunError(ErrorNames.TaskFailed, message, { retryable: false, cause: err });
}
