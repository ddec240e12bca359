/**
 * The API errors request authentication raises, with the HTTP status each one should get.
 *
 * The errors are {@link FlowrunError}s whose `details` follow the `{args, reason}` shape of
 * `src/fnf/errors.ts` (`apiFailure`/`errorParts`), so the HTTP layer's renderer fills the
 * catalog's message template from them. No error built here ever holds a secret: not the
 * AccessKeySecret, not the expected signature.
 */
import { FlowrunError } from '../shared/errors.js';
import type { JsonObject } from '../shared/json.js';

export interface AuthErrorSpec {
  /** HTTP status of the response. */
  status: number;
  /** Message template; `%s` placeholders are filled from `details.args` in order. */
  message: string;
  /** Why flowrun raises it, and where the code comes from. */
  meaning: string;
}

/**
 * Every code {@link verifyRequest} (and the nonce cache) can throw. All but `SignatureNonceUsed`
 * are in the FnF error table of cloudflow.md §4.3 (with the same status and template);
 * `SignatureNonceUsed` (400) is the code Alibaba Cloud's RPC gateway returns for a reused
 * `SignatureNonce` ("Specified signature nonce was used already.").
 */
export const AUTH_ERRORS = {
  MissingRequiredParams: {
    status: 400,
    message: "The HTTP query '%s' must be specified.",
    meaning: 'RPC V2: a signing parameter is missing (AccessKeyId, Signature, SignatureMethod, SignatureVersion, SignatureNonce, Timestamp).',
  },
  MissingRequiredHeader: {
    status: 400,
    message: "The HTTP header '%s' must be specified.",
    meaning: 'ACS3: x-acs-date, x-acs-signature-nonce or x-acs-content-sha256 is missing, or a header named in SignedHeaders is absent.',
  },
  InvalidArgument: {
    status: 400,
    message: 'Parameter error.',
    meaning:
      'A signing field is malformed or unsupported: SignatureMethod not HMAC-SHA1, SignatureVersion not 1.0, an ACS3 algorithm other than ACS3-HMAC-SHA256, a bad Timestamp/x-acs-date format, a malformed Authorization header, a parameter given twice, STS/bearer tokens.',
  },
  InvalidAccessKeyID: {
    status: 403,
    message: 'The AccessKey ID %s is invalid.',
    meaning: 'The AccessKeyId (or ACS3 Credential) is not in the access keys file.',
  },
  SignatureNotMatch: {
    status: 403,
    message: 'The request signature we calculated does not match the signature you provided. Check your access key and signing method.',
    meaning: 'Wrong signature: wrong secret, a parameter/header/body changed after signing, signed for another HTTP method; ACS3: a header that must be signed is not, or the body does not match x-acs-content-sha256.',
  },
  RequestTimeTooSkewed: {
    status: 403,
    message: 'The difference between the request time %s and the current time %s is too large.',
    meaning: '`Timestamp` (V2) or `x-acs-date` (ACS3) is more than 15 minutes from the server clock, either way.',
  },
  SignatureNonceUsed: {
    status: 400,
    message: 'Specified signature nonce was used already.',
    meaning: 'A `SignatureNonce` / `x-acs-signature-nonce` seen before from the same AccessKey within the replay window (Alibaba Cloud gateway code).',
  },
  ResourceThrottled: {
    status: 429,
    message: 'The request is throttled. Please try again later.',
    meaning: 'The replay-protection nonce cache is full of live nonces; the request is refused (retryable) rather than forgetting one.',
  },
} as const satisfies Record<string, AuthErrorSpec>;

export type AuthErrorCode = keyof typeof AUTH_ERRORS;

export interface AuthErrorParts {
  /** Fill the template's `%s` placeholders in order. */
  args?: readonly string[];
  /** A sentence appended after the filled template. */
  reason?: string;
  /** Extra diagnostic details (never secret), e.g. the server's string-to-sign. */
  extra?: JsonObject;
}

function fill(template: string, args: readonly string[] = []): string {
  let i = 0;
  return template.replace(/%s/g, () => args[i++] ?? '');
}

/** The error to throw for an authentication failure. */
export function authError(code: AuthErrorCode, parts: AuthErrorParts = {}): FlowrunError {
  const details: JsonObject = { ...(parts.extra ?? {}), status: AUTH_ERRORS[code].status };
  if (parts.args) details['args'] = [...parts.args];
  if (parts.reason !== undefined) details['reason'] = parts.reason;
  const text = [fill(AUTH_ERRORS[code].message, parts.args), parts.reason].filter((s) => s !== undefined && s !== '').join(' ');
  return new FlowrunError(code, `${code}: ${text}`, { retryable: code === 'ResourceThrottled', details });
}

/** Shortens a client-supplied value before it is echoed in a message. */
export function clip(value: string, max = 64): string {
  return value.length <= max ? value : `${value.slice(0, max)}…`;
}
