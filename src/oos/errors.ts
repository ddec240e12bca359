/**
 * Error codes of the OOS template language: API error codes raised at the edge (validation,
 * StartExecution parameter checks; the API layer maps them to HTTP 400) and the error names
 * executions record (Retry/Catch and `OnError` match them like any other error name).
 */
import { FlowrunError } from '../shared/errors.js';
import type { Problem } from '../flow/validate.js';

export type { Problem } from '../flow/validate.js';

/** API error codes (oos.md §4.3; seeds 001). All HTTP 400. */
export const OosApiErrorCodes = {
  /** The template content is not a valid template (every problem in `details.Problems`). */
  TemplateValidationError: 'TemplateValidationError',
  /** StartExecution: a parameter without Default was not given. */
  MissingExecutionParameter: 'MissingExecutionParameter',
  /** StartExecution: a parameter the template does not declare was given. */
  UnknownExecutionParameter: 'UnknownExecutionParameter',
} as const;

/** Error names raised while an OOS execution runs (matched by Retries/OnError like action errors). */
export const OosErrorNames = {
  /** A `{{ }}` reference could not be resolved (task not run yet, missing parameter store value…). */
  Reference: 'OOS.ReferenceError',
  /** A `Fn::` function got arguments it cannot use. */
  Function: 'OOS.FunctionError',
  /** A task output does not have its declared `Type`. */
  OutputType: 'OOS.OutputTypeMismatch',
  /** `Loop.Items` is not a list, or has more than 1,000 items. */
  LoopItems: 'OOS.InvalidLoopItems',
  /** More loop iterations failed than `MaxErrors` allows. */
  LoopMaxErrors: 'OOS.LoopMaxErrorsExceeded',
  /** `ACS::Sleep` got a Duration/EndDate it cannot read. */
  Sleep: 'OOS.InvalidSleep',
  /** A loop's rate control (Concurrency, MaxErrors) is not usable. */
  RateControl: 'OOS.InvalidRateControl',
} as const;

/** Template content that cannot be compiled: `problems` lists each reason with a JSON pointer. */
export class TemplateDefinitionError extends FlowrunError {
  readonly problems: Problem[];
  constructor(problems: Problem[], what = 'the template') {
    const lines = problems.map((p) => `  ${p.pointer || '/'}: ${p.message}`);
    super(
      OosApiErrorCodes.TemplateValidationError,
      `${what} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${lines.join('\n')}`,
      { details: { Problems: problems.map((p) => ({ Pointer: p.pointer, Message: p.message })) } },
    );
    this.name = 'TemplateDefinitionError';
    this.problems = problems;
  }
}

/** A runtime error of the template language (not retryable unless said). */
export function oosError(code: string, message: string, retryable = false): FlowrunError {
  return new FlowrunError(code, message, { retryable });
}
