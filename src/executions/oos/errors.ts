/**
 * The API error codes the OOS execution service raises (OOS 2019-06-01, seeds 000–003 plus
 * flowrun's additions). The HTTP layer's catalog (src/api/errors.ts) gives each its status and
 * message template; `test/api/oos-catalog.test.ts` checks that every code here is catalogued.
 *
 * Errors carry `details {args, reason, message}` like the FnF service's: `args` fill the catalog
 * template's `%s`, `reason` follows it, `message` replaces it.
 */
import { FlowrunError } from '../../shared/errors.js';
import type { JsonObject } from '../../shared/json.js';

export const OosExecutionErrorCodes = {
  /** A parameter is malformed or missing (seed 003). */
  InvalidParameter: 'InvalidParameter',
  /** Template content that does not validate; StartExecution parameters that do not fit (seed 001). */
  TemplateValidationError: 'TemplateValidationError',
  /** StartExecution: a parameter without Default was not given (seed 001). */
  MissingExecutionParameter: 'MissingExecutionParameter',
  /** StartExecution: a parameter the template does not declare (seed 001). */
  UnknownExecutionParameter: 'UnknownExecutionParameter',
  /** No template (or template version) of that name (seed 001). */
  TemplateNotFound: 'EntityNotExists.Template',
  /** CreateTemplate with a name that is taken (flowrun; naming UNCONFIRMED). */
  TemplateAlreadyExists: 'EntityAlreadyExists.Template',
  /** No execution of that id (seeds 000, 002: NotifyExecution, CancelExecution and the others). */
  ExecutionNotFound: 'EntityNotExist.Execution',
  /** No execution of that id, as ListResourceExecutionStatus spells it (seed 003). */
  ExecutionNotFoundResource: 'EntityNotExists.Execution',
  /** No task execution of that id (seed 000). */
  TaskExecutionNotFound: 'EntityNotExist.TaskExecution',
  /** CancelExecution on an execution that has already finished (seed 002). */
  ExecutionCancelFailed: 'ExecutionCancelFailed',
  /** NotifyExecution with a NotifyType the execution's state does not accept (flowrun). */
  ExecutionNotifyFailed: 'ExecutionNotifyFailed',
  /** A template or execution of another account (tenant isolation with signed requests). */
  NoPermission: 'User.NoPermission',
  /** Past the configured number of running executions (seed 001). */
  QuotaExceed: 'QuotaExceed',
} as const;

export type OosExecutionErrorCode = (typeof OosExecutionErrorCodes)[keyof typeof OosExecutionErrorCodes];

/** An API error of the OOS service (see the module comment for `parts`). */
export function oosApiError(code: OosExecutionErrorCode, parts: { args?: readonly string[]; reason?: string; message?: string } = {}): FlowrunError {
  const details: JsonObject = {};
  if (parts.args) details['args'] = [...parts.args];
  if (parts.reason !== undefined) details['reason'] = parts.reason;
  if (parts.message !== undefined) details['message'] = parts.message;
  const text = parts.message ?? [parts.args?.join(', '), parts.reason].filter((s) => s !== undefined && s !== '').join(': ');
  return new FlowrunError(code, text === '' ? code : `${code}: ${text}`, { details });
}

/** User.NoPermission: `what` belongs to another account. */
export const noPermission = (what: string): FlowrunError => oosApiError(OosExecutionErrorCodes.NoPermission, { args: [`${what} belongs to another account`] });

/** InvalidParameter with a sentence saying what is wrong. */
export const invalidParameter = (reason: string): FlowrunError => oosApiError(OosExecutionErrorCodes.InvalidParameter, { reason });

/** Error names OOS executions record (Retries/OnError match them like action errors). */
export const OosLifecycleErrorNames = {
  /** The execution was cancelled (CancelExecution, or its parent was). */
  Cancelled: 'OOS.Cancelled',
  /** An approval or a high-risk confirmation was rejected (NotifyExecution Reject). */
  Rejected: 'OOS.Rejected',
  /** A running task was cancelled in debug mode (NotifyExecution CancelTask). */
  TaskCancelled: 'OOS.TaskCancelled',
  /** NotifyExecution CompleteExecution ended a debug execution as Failed. */
  CompletedFailed: 'OOS.CompletedAsFailed',
} as const;
