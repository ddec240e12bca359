import type { JsonObject } from './json.js';

/**
 * Names of the errors flowrun itself raises inside executions. Retry and Catch rules match
 * these by name (`Errors: [FnF.Timeout]`); `FnF.ALL` matches every error.
 */
export const ErrorNames = {
  /** Wildcard used in Retry/Catch `Errors`. */
  All: 'FnF.ALL',
  /** A Task exceeded its `Timeout`, or the execution exceeded its time limit. */
  Timeout: 'FnF.Timeout',
  /** A task action failed without a more specific error name. */
  TaskFailed: 'FnF.TaskFailed',
  /** A data or expression error at run time: a constructor, path or condition could not be evaluated. */
  Runtime: 'FnF.Runtime',
  /** A state's input or output is larger than the 64 KiB limit, or a global is too large. */
  DataLimitExceeded: 'FnF.DataLimitExceeded',
  /** The execution entered more states than allowed (5,000; see MAX_TRANSITIONS_PER_EXECUTION). */
  EventLimitExceeded: 'FnF.EventLimitExceeded',
  /** The execution was cancelled (client gone, StopExecution, shutdown). */
  Cancelled: 'FnF.Cancelled',
  /** A Fail state without a `Code`. */
  Failed: 'FnF.Failed',
} as const;

export interface ErrorInfo {
  /** Name matched by Retry/Catch `Errors`. */
  Code: string;
  /** Human-readable cause. */
  Detail: string;
}

/**
 * The base error of flowrun. `code` is a name matched by Retry/Catch (inside executions) or an
 * API error code (at the edge); `retryable` says whether trying again may succeed.
 */
export class FlowrunError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly details: JsonObject | undefined;

  constructor(code: string, message: string, options: { retryable?: boolean; cause?: unknown; details?: JsonObject } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FlowrunError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }

  toInfo(): ErrorInfo {
    return { Code: this.code, Detail: this.message };
  }
}

/** Turns anything thrown into the `{Code, Detail}` an execution records. */
export function toErrorInfo(err: unknown, fallbackCode: string = ErrorNames.TaskFailed): ErrorInfo {
  if (err instanceof FlowrunError) return err.toInfo();
  if (err instanceof Error) {
    const code = typeof (err as { code?: unknown }).code === 'string' ? String((err as { code?: unknown }).code) : fallbackCode;
    return { Code: code, Detail: err.message };
  }
  return { Code: fallbackCode, Detail: typeof err === 'string' ? err : JSON.stringify(err) ?? String(err) };
}
