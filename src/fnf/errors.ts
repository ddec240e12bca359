/**
 * The error codes the FnF flow service raises. They are FnF API error codes (the HTTP layer's
 * catalog in `src/api/errors.ts` gives each its HTTP status and message template, and fails to
 * compile if one of these is missing there).
 */
import { FlowrunError } from '../shared/errors.js';
import type { JsonObject } from '../shared/json.js';

export const FnfErrorCodes = {
  InvalidArgument: 'InvalidArgument',
  EntityTooLarge: 'EntityTooLarge',
  ActionNotSupported: 'ActionNotSupported',
  FlowNotExists: 'FlowNotExists',
  FlowAlreadyExists: 'FlowAlreadyExists',
  ExecutionNotExists: 'ExecutionNotExists',
  ResourceThrottled: 'ResourceThrottled',
} as const;

export type FnfErrorCode = (typeof FnfErrorCodes)[keyof typeof FnfErrorCodes];

/**
 * How an API error's message is built from its catalog template (`%s` placeholders):
 * - `args` fill the placeholders in order;
 * - `reason`, when given, is appended after the filled template ("Parameter error. Limit must be ≤ 999.");
 * - `message`, when given, replaces the template entirely (e.g. "Standard execution is not supported").
 */
export interface ApiErrorParts {
  args?: readonly string[];
  reason?: string;
  message?: string;
}

/** Reads the {@link ApiErrorParts} carried by an error made with {@link apiFailure}. */
export function errorParts(err: FlowrunError): ApiErrorParts {
  const d = err.details;
  if (!d) return {};
  const parts: ApiErrorParts = {};
  if (Array.isArray(d['args'])) parts.args = d['args'].map((a) => String(a));
  if (typeof d['reason'] === 'string') parts.reason = d['reason'];
  if (typeof d['message'] === 'string') parts.message = d['message'];
  return parts;
}

/**
 * A FlowrunError whose `code` is an API error code and whose details say how to build the
 * response message. Its own `message` (for logs) is a plain rendering of the same parts.
 */
export function apiFailure(code: string, parts: ApiErrorParts = {}): FlowrunError {
  const details: JsonObject = {};
  if (parts.args) details['args'] = [...parts.args];
  if (parts.reason !== undefined) details['reason'] = parts.reason;
  if (parts.message !== undefined) details['message'] = parts.message;
  const text = parts.message ?? [parts.args?.join(', '), parts.reason].filter((s) => s !== undefined && s !== '').join(': ');
  return new FlowrunError(code, text === '' ? code : `${code}: ${text}`, { retryable: code === FnfErrorCodes.ResourceThrottled, details });
}

/** An error of the flow service. */
export function fnfError(code: FnfErrorCode, parts: ApiErrorParts = {}): FlowrunError {
  return apiFailure(code, parts);
}

/** `InvalidArgument` with a sentence saying what is wrong. */
export function invalidArgument(reason: string): FlowrunError {
  return fnfError(FnfErrorCodes.InvalidArgument, { reason });
}
