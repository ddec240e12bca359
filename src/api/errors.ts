/**
 * THE error catalog of the HTTP API: every error code with its HTTP status and message template
 * (`%s` placeholders). Route handlers never pick a status: they throw an error with a code (see
 * {@link apiError}) and the one error middleware renders it from this table. The first fifteen
 * rows are seed 004's table (StartSyncExecution); then flowrun's additions; then the OOS
 * (2019-06-01) codes of seeds 000–003 (`oosSeeds` says which pages list them) and OOS additions.
 */
import { apiFailure, errorParts } from '../fnf/errors.js';
import type { ApiErrorParts, FnfErrorCode } from '../fnf/errors.js';
import type { OosExecutionErrorCode } from '../executions/oos/errors.js';
import type { AuthErrorCode } from '../auth/errors.js';
import { FlowrunError } from '../shared/errors.js';

export type ApiErrorCode =
  | 'EntityTooLarge'
  | 'ExecutionAlreadyExists'
  | 'InvalidArgument'
  | 'MissingRequiredHeader'
  | 'MissingRequiredParams'
  | 'ActionNotSupported'
  | 'APIVersionNotSupported'
  | 'InvalidAccessKeyID'
  | 'RequestTimeTooSkewed'
  | 'SignatureNotMatch'
  | 'AccessDenied'
  | 'FlowNotExists'
  | 'UnsupportedMediaType'
  | 'ResourceThrottled'
  | 'InternalServerError'
  | 'ExecutionNotExists'
  | 'FlowAlreadyExists'
  | 'SignatureNonceUsed'
  | OosApiErrorCode;

/** The codes of the OOS API (2019-06-01): seeds 000–003 and flowrun's OOS additions. */
export type OosApiErrorCode =
  | 'InvalidVersion'
  | 'InvalidAction.NotFound'
  | 'User.NoPermission'
  | 'InvalidStsToken'
  | 'ExpiredStsToken'
  | 'InvalidAccountType'
  | 'AssumeRoleFailed'
  | 'QuotaExceed'
  | 'TemplateValidationError'
  | 'MissingExecutionParameter'
  | 'UnknownExecutionParameter'
  | 'EntityNotExists.Template'
  | 'EntityNotExist.Execution'
  | 'EntityNotExist.TaskExecution'
  | 'ExecutionCancelFailed'
  | 'InvalidParameter'
  | 'EntityNotExists.Execution'
  | 'EntityAlreadyExists.Template'
  | 'ExecutionNotifyFailed';

export interface ApiErrorSpec {
  /** HTTP status of the response. */
  status: number;
  /** Message template; `%s` placeholders are filled in order. */
  message: string;
  /** One line for the README's error table. */
  meaning: string;
  /** True for codes seed 004 lists; false for flowrun's additions. */
  seed: boolean;
  /** OOS codes: the seed pages (000–003) whose error table lists the code; [] for flowrun's OOS additions. */
  oosSeeds?: readonly string[];
}

export const API_ERRORS: { readonly [C in ApiErrorCode]: ApiErrorSpec } = {
  EntityTooLarge: {
    status: 400,
    message: 'The payload size exceeds maximum allowed size (%s bytes).',
    meaning: 'The request body is over the body limit (1 MiB by default), or StartSyncExecution `Input` is over 64 KiB.',
    seed: true,
  },
  ExecutionAlreadyExists: {
    status: 400,
    message: 'Execution %s for flow %s already exists.',
    meaning: 'An execution name is reused (StartExecution, standard flows; not raised by express executions, whose names get a UUID).',
    seed: true,
  },
  InvalidArgument: {
    status: 400,
    message: 'Parameter error.',
    meaning: 'A parameter is malformed: bad name, `Input` not a JSON object, invalid flow definition (every problem listed), bad `Limit` or `NextToken`, malformed JSON body.',
    seed: true,
  },
  MissingRequiredHeader: {
    status: 400,
    message: "The HTTP header '%s' must be specified.",
    meaning: 'A required HTTP header is missing (reserved for request signing).',
    seed: true,
  },
  MissingRequiredParams: {
    status: 400,
    message: "The HTTP query '%s' must be specified.",
    meaning: 'A required parameter (or `Action`) is missing; the message names it.',
    seed: true,
  },
  ActionNotSupported: {
    status: 400,
    message: 'The requested API operation %s is incorrect. Please check.',
    meaning: 'Unknown `Action` (or path); also StartSyncExecution on a Standard flow ("Standard execution is not supported").',
    seed: true,
  },
  APIVersionNotSupported: {
    status: 400,
    message: 'The requested API version %s is not supported yet. Please check.',
    meaning: '`Version` is not `2019-03-15` (RPC style: missing counts as wrong).',
    seed: true,
  },
  InvalidAccessKeyID: {
    status: 403,
    message: 'The AccessKey ID %s is invalid.',
    meaning: 'Unknown AccessKey ID (reserved for request signing).',
    seed: true,
  },
  RequestTimeTooSkewed: {
    status: 403,
    message: 'The difference between the request time %s and the current time %s is too large.',
    meaning: '`Timestamp` too far from the server time (reserved for request signing).',
    seed: true,
  },
  SignatureNotMatch: {
    status: 403,
    message: 'The request signature we calculated does not match the signature you provided. Check your access key and signing method.',
    meaning: 'Wrong request signature (reserved for request signing).',
    seed: true,
  },
  AccessDenied: {
    status: 403,
    message: 'The resources does not belong to you.',
    meaning: 'The caller may not use the resource (reserved for request signing).',
    seed: true,
  },
  FlowNotExists: {
    status: 404,
    message: 'Flow %s does not exist.',
    meaning: 'No flow of that name.',
    seed: true,
  },
  UnsupportedMediaType: {
    status: 415,
    message: 'The content type must be "application/json".',
    meaning: 'Path style (`POST /<Action>`) with a body that is not JSON; RPC style with a body neither form-encoded nor JSON.',
    seed: true,
  },
  ResourceThrottled: {
    status: 429,
    message: 'The request is throttled. Please try again later.',
    meaning: 'Every execution slot and every wait-queue place is taken (or the server is shutting down).',
    seed: true,
  },
  InternalServerError: {
    status: 500,
    message: 'An internal error has occurred. Please retry.',
    meaning: 'A bug in flowrun; the log has the details (the response has no stack trace).',
    seed: true,
  },
  ExecutionNotExists: {
    status: 404,
    message: 'Execution %s does not exist.',
    meaning: 'No execution of that name in the window of recent express executions.',
    seed: false,
  },
  FlowAlreadyExists: {
    status: 409,
    message: 'Flow %s already exists.',
    meaning: 'CreateFlow with a name that is taken.',
    seed: false,
  },
  SignatureNonceUsed: {
    status: 400,
    message: 'Specified signature nonce was used already.',
    meaning: 'With access keys configured: a `SignatureNonce` (or `x-acs-signature-nonce`) the same AccessKey already used within the 15-minute replay window (Alibaba Cloud gateway code).',
    seed: false,
  },
  // OOS (2019-06-01): seeds 000 NotifyExecution, 001 StartExecution, 002 CancelExecution, 003 ListResourceExecutionStatus
  InvalidVersion: {
    status: 400,
    message: 'Specified parameter Version is not valid.',
    meaning: 'OOS: the `Version` is not valid (reserved: flowrun routes unknown versions to FnF, which answers APIVersionNotSupported).',
    seed: false,
    oosSeeds: ['000', '001', '002'],
  },
  'InvalidAction.NotFound': {
    status: 400,
    message: 'Specified api is not found, please check your url and method.',
    meaning: 'OOS: an `Action` that OOS does not serve, with `Version` 2019-06-01.',
    seed: false,
    oosSeeds: ['000', '001', '002'],
  },
  'User.NoPermission': {
    status: 401,
    message: 'User has no permission to do the action: (%s)',
    meaning: 'OOS: RAM denial (reserved; no RAM locally). Seed 000 lists 400, seeds 001 and 002 list 401: flowrun uses 401.',
    seed: false,
    oosSeeds: ['000', '001', '002'],
  },
  InvalidStsToken: {
    status: 400,
    message: 'Invalid STS token to do the action: (%s)',
    meaning: 'OOS: invalid STS token (reserved for request signing).',
    seed: false,
    oosSeeds: ['000', '001', '002'],
  },
  ExpiredStsToken: {
    status: 400,
    message: 'Expired STS token to do the action: (%s)',
    meaning: 'OOS: expired STS token (reserved for request signing).',
    seed: false,
    oosSeeds: ['000', '001', '002'],
  },
  InvalidAccountType: {
    status: 400,
    message: 'The account type (%s) was not supported.',
    meaning: 'OOS: unsupported account type (reserved; no accounts locally).',
    seed: false,
    oosSeeds: ['000', '001', '002'],
  },
  AssumeRoleFailed: {
    status: 400,
    message: 'Assume role failed %s.',
    meaning: 'OOS: the RAM role could not be assumed (reserved; no RAM locally).',
    seed: false,
    oosSeeds: ['001'],
  },
  QuotaExceed: {
    status: 403,
    message: 'The Quota (%s) exceeded (%s).',
    meaning: 'OOS StartExecution past the configured number of running executions (default 100).',
    seed: false,
    oosSeeds: ['001'],
  },
  TemplateValidationError: {
    status: 400,
    message: '%s',
    meaning: 'OOS: template content that does not validate (every problem listed with its JSON pointer), or StartExecution parameters that break their constraints.',
    seed: false,
    oosSeeds: ['001'],
  },
  MissingExecutionParameter: {
    status: 400,
    message: 'The parameter %s was not provided in template.',
    meaning: 'OOS StartExecution: a template parameter without Default was not given.',
    seed: false,
    oosSeeds: ['001'],
  },
  UnknownExecutionParameter: {
    status: 400,
    message: 'The parameter %s was not defined in template.',
    meaning: 'OOS StartExecution: a parameter the template does not declare.',
    seed: false,
    oosSeeds: ['001'],
  },
  'EntityNotExists.Template': {
    status: 404,
    message: 'The specified template %s does not exist.',
    meaning: 'OOS: no template (or template version) of that name.',
    seed: false,
    oosSeeds: ['001'],
  },
  'EntityNotExist.Execution': {
    status: 404,
    message: 'The specific execution %s does not exist.',
    meaning: 'OOS: no execution of that id (NotifyExecution, CancelExecution and the other execution APIs).',
    seed: false,
    oosSeeds: ['000', '002'],
  },
  'EntityNotExist.TaskExecution': {
    status: 404,
    message: 'The specific task execution %s does not exist.',
    meaning: 'OOS: no task execution of that id (NotifyExecution, ListTaskExecutions, ListExecutionLogs).',
    seed: false,
    oosSeeds: ['000'],
  },
  ExecutionCancelFailed: {
    status: 403,
    message: 'Execution cancel failed %s',
    meaning: 'OOS CancelExecution on an execution that has already finished.',
    seed: false,
    oosSeeds: ['002'],
  },
  InvalidParameter: {
    status: 400,
    message: 'The parameter is invalid.',
    meaning: 'OOS: a parameter is missing or malformed (MaxResults out of range, bad NextToken, bad Mode, Tags…); the message says which.',
    seed: false,
    oosSeeds: ['003'],
  },
  'EntityNotExists.Execution': {
    status: 404,
    message: 'The specified execution does not exist.',
    meaning: 'OOS ListResourceExecutionStatus: no execution of that id (the spelling of seed 003).',
    seed: false,
    oosSeeds: ['003'],
  },
  'EntityAlreadyExists.Template': {
    status: 409,
    message: 'The template %s already exists.',
    meaning: 'OOS CreateTemplate with a name that is taken.',
    seed: false,
    oosSeeds: [],
  },
  ExecutionNotifyFailed: {
    status: 400,
    message: 'NotifyType %s cannot be applied to execution %s:',
    meaning: 'OOS NotifyExecution with a NotifyType the execution does not wait for (e.g. Approve while nothing waits for an approval, ExecuteTask outside Debug mode); the message says why.',
    seed: false,
    oosSeeds: [],
  },
};

/** Compile-time check: every code the flow service raises is in the catalog. */
type Extends<A extends B, B> = A;
export type ServiceCodesAreCatalogued = Extends<FnfErrorCode, ApiErrorCode>;
/** Compile-time check: every code the OOS execution service raises is in the catalog. */
export type OosCodesAreCatalogued = Extends<OosExecutionErrorCode, ApiErrorCode>;
/** Compile-time check: every code request authentication (src/auth) raises is in the catalog. */
export type AuthCodesAreCatalogued = Extends<AuthErrorCode, ApiErrorCode>;

export function isApiErrorCode(code: string): code is ApiErrorCode {
  return Object.hasOwn(API_ERRORS, code);
}

/** An API error to throw from a handler; the error middleware renders it. */
export function apiError(code: ApiErrorCode, parts: ApiErrorParts = {}): FlowrunError {
  return apiFailure(code, parts);
}

/** Fills `%s` placeholders in order (missing arguments become empty). */
export function formatTemplate(template: string, args: readonly string[] = []): string {
  let i = 0;
  return template.replace(/%s/g, () => args[i++] ?? '');
}

export interface RenderedError {
  status: number;
  code: ApiErrorCode;
  message: string;
  /** True when the error was not an API error (a bug): log it with its stack. */
  unexpected: boolean;
}

/** Turns anything thrown into the status, code and message of an error response. */
export function renderError(err: unknown): RenderedError {
  if (err instanceof FlowrunError && isApiErrorCode(err.code)) {
    const spec = API_ERRORS[err.code];
    const parts = errorParts(err);
    const message = parts.message ?? [formatTemplate(spec.message, parts.args), parts.reason].filter((s) => s !== undefined && s !== '').join(' ');
    return { status: spec.status, code: err.code, message, unexpected: false };
  }
  const spec = API_ERRORS.InternalServerError;
  return { status: spec.status, code: 'InternalServerError', message: spec.message, unexpected: true };
}
