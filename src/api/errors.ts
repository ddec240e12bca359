/**
 * THE error catalog of the HTTP API: every error code with its HTTP status and message template
 * (`%s` placeholders). Route handlers never pick a status: they throw an error with a code (see
 * {@link apiError}) and the one error middleware renders it from this table. The first fifteen
 * rows are seed 004's table (StartSyncExecution); the rest are flowrun's additions.
 */
import { apiFailure, errorParts } from '../fnf/errors.js';
import type { ApiErrorParts, FnfErrorCode } from '../fnf/errors.js';
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
  | 'FlowAlreadyExists';

export interface ApiErrorSpec {
  /** HTTP status of the response. */
  status: number;
  /** Message template; `%s` placeholders are filled in order. */
  message: string;
  /** One line for the README's error table. */
  meaning: string;
  /** True for codes seed 004 lists; false for flowrun's additions. */
  seed: boolean;
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
};

/** Compile-time check: every code the flow service raises is in the catalog. */
type Extends<A extends B, B> = A;
export type ServiceCodesAreCatalogued = Extends<FnfErrorCode, ApiErrorCode>;

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
