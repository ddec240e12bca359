/**
 * Request verification, framework-neutral: the HTTP layer hands over what it received and gets
 * the caller's account back, or a FlowrunError with an API error code (see `./errors.ts`).
 *
 * Two schemes are accepted:
 * - ACS3-HMAC-SHA256, chosen when an `Authorization` header starts with `ACS3-`;
 * - RPC signature V2 (HMAC-SHA1) otherwise, from the query and form-body parameters.
 *
 * Order of the checks (each failure throws): required fields → supported method/version and
 * well-formed fields → known AccessKey → time window → signature → nonce. The nonce is recorded
 * only once the signature is good, so nobody without the secret can burn or fill nonces.
 */
import { createHmac } from 'node:crypto';
import type { Clock } from '../shared/clock.js';
import {
  ACS3_ALGORITHM,
  acs3CanonicalRequest,
  acs3Signature,
  acs3StringToSign,
  lowerCaseHeaders,
  mustSignHeader,
  normalizeSignedHeaders,
  parseAcs3Authorization,
} from './acs3.js';
import { constantTimeEqual, formatTimestamp, parseTimestamp, sha256Hex } from './encoding.js';
import { authError, clip } from './errors.js';
import type { AccessKey, AccessKeyLookup } from './keys.js';
import { MAX_NONCE_LENGTH } from './nonce-cache.js';
import type { NonceCache } from './nonce-cache.js';
import { rpcStringToSign } from './rpc-v2.js';

/** Signatures are accepted within 15 minutes of the server clock, either way (Alibaba's rule). */
export const DEFAULT_MAX_SKEW_MS = 15 * 60 * 1000;

/** What the HTTP layer received. */
export interface SignedRequest {
  /** The HTTP method actually received. */
  method: string;
  /** The request path as received (percent-encoded; a query string, if any, is ignored). */
  path: string;
  /** Decoded query parameters; a name given several times maps to an array (see `parseUrlEncoded`). */
  query: Readonly<Record<string, string | string[]>>;
  /** Decoded `application/x-www-form-urlencoded` body parameters; undefined without such a body. */
  form: Readonly<Record<string, string | string[]>> | undefined;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body bytes as received; required to verify an ACS3 request that has a body. */
  rawBody?: Buffer;
}

export interface VerifyOptions {
  keys: AccessKeyLookup;
  clock: Clock;
  nonceCache: NonceCache;
  /** Default {@link DEFAULT_MAX_SKEW_MS}. */
  maxSkewMs?: number;
}

export type SignatureScheme = 'RPC-V2' | 'ACS3-HMAC-SHA256';

export interface VerifiedCaller {
  accountId: string;
  accessKeyId: string;
  scheme: SignatureScheme;
}

/** The V2 parameters that must be present and non-empty, in the order they are checked. */
export const RPC_REQUIRED_PARAMS = ['AccessKeyId', 'Signature', 'SignatureMethod', 'SignatureVersion', 'SignatureNonce', 'Timestamp'] as const;

/** The ACS3 headers that must be present and signed. */
export const ACS3_REQUIRED_HEADERS = ['x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256'] as const;

const MAX_STRING_TO_SIGN_IN_DETAILS = 2048;

function duplicate(name: string): never {
  throw authError('InvalidArgument', { reason: `The parameter "${clip(name)}" is given more than once.` });
}

/** One value per name; a name repeated (in one source or across query and body) is refused. */
function singleValued(sources: readonly (Readonly<Record<string, string | string[]>> | undefined)[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const source of sources) {
    if (source === undefined) continue;
    for (const [name, value] of Object.entries(source)) {
      if (Array.isArray(value)) {
        if (value.length !== 1) duplicate(name);
      }
      const v: unknown = Array.isArray(value) ? value[0] : value;
      if (typeof v !== 'string') throw authError('InvalidArgument', { reason: `The parameter "${clip(name)}" must be a string.` });
      if (out.has(name)) duplicate(name);
      out.set(name, v);
    }
  }
  return out;
}

function lookUp(keys: AccessKeyLookup, accessKeyId: string): AccessKey {
  const key = keys.get(accessKeyId);
  if (!key) throw authError('InvalidAccessKeyID', { args: [clip(accessKeyId)] });
  return key;
}

function parseTime(text: string, field: string): number {
  const ms = parseTimestamp(text);
  if (ms === undefined) throw authError('InvalidArgument', { reason: `The ${field} "${clip(text)}" is not a UTC time of the form YYYY-MM-DDThh:mm:ssZ.` });
  return ms;
}

function checkWindow(requestTime: number, text: string, clock: Clock, maxSkewMs: number): void {
  const now = clock.now();
  if (Math.abs(now - requestTime) > maxSkewMs) throw authError('RequestTimeTooSkewed', { args: [clip(text), formatTimestamp(now)] });
}

function checkNonce(nonce: string, field: string): void {
  if (nonce.length > MAX_NONCE_LENGTH) throw authError('InvalidArgument', { reason: `The ${field} must be at most ${MAX_NONCE_LENGTH} characters.` });
}

function rememberNonce(cache: NonceCache, key: AccessKey, nonce: string, requestTime: number, maxSkewMs: number): void {
  // Scoped to the AccessKey: one tenant's nonces never collide with another's. The request could
  // pass the window check until requestTime + maxSkewMs, so it is remembered until then.
  if (!cache.remember(`${key.accessKeyId}\u0000${nonce}`, requestTime + maxSkewMs)) throw authError('SignatureNonceUsed');
}

function signatureMismatch(stringToSign: string, reason?: string): never {
  throw authError('SignatureNotMatch', {
    ...(reason === undefined ? {} : { reason }),
    extra: { stringToSign: clip(stringToSign, MAX_STRING_TO_SIGN_IN_DETAILS) },
  });
}

function verifyRpcV2(request: SignedRequest, options: VerifyOptions, maxSkewMs: number): VerifiedCaller {
  const params = singleValued([request.query, request.form]);
  for (const name of RPC_REQUIRED_PARAMS) {
    const value = params.get(name);
    if (value === undefined || value === '') throw authError('MissingRequiredParams', { args: [name] });
  }
  const get = (name: (typeof RPC_REQUIRED_PARAMS)[number]): string => params.get(name) as string;
  if (get('SignatureMethod') !== 'HMAC-SHA1') {
    throw authError('InvalidArgument', { reason: `The specified parameter "SignatureMethod" is not valid: "${clip(get('SignatureMethod'))}" is not supported, use HMAC-SHA1.` });
  }
  if (get('SignatureVersion') !== '1.0') {
    throw authError('InvalidArgument', { reason: `The specified parameter "SignatureVersion" is not valid: "${clip(get('SignatureVersion'))}" is not supported, use 1.0.` });
  }
  if (params.has('SignatureType')) throw authError('InvalidArgument', { reason: 'The parameter "SignatureType" (bearer tokens) is not supported.' });
  if (params.has('SecurityToken')) throw authError('InvalidArgument', { reason: 'STS security tokens ("SecurityToken") are not supported.' });
  checkNonce(get('SignatureNonce'), 'SignatureNonce');
  const timestamp = get('Timestamp');
  const requestTime = parseTime(timestamp, 'Timestamp');

  const key = lookUp(options.keys, get('AccessKeyId'));
  checkWindow(requestTime, timestamp, options.clock, maxSkewMs);

  const stringToSign = rpcStringToSign(params, request.method);
  const expected = createHmac('sha1', `${key.revealSecret()}&`).update(stringToSign, 'utf8').digest('base64');
  // Base64 never holds a space: a '+' sent unencoded in a query string arrives as one.
  const provided = get('Signature').replace(/ /g, '+');
  if (!constantTimeEqual(expected, provided)) signatureMismatch(stringToSign);

  rememberNonce(options.nonceCache, key, get('SignatureNonce'), requestTime, maxSkewMs);
  return { accountId: key.accountId, accessKeyId: key.accessKeyId, scheme: 'RPC-V2' };
}

function verifyAcs3(request: SignedRequest, authorization: string, headers: Map<string, string[]>, options: VerifyOptions, maxSkewMs: number): VerifiedCaller {
  const auth = parseAcs3Authorization(authorization);
  if (!auth) {
    throw authError('InvalidArgument', { reason: 'The Authorization header is malformed: expected "ACS3-HMAC-SHA256 Credential=…,SignedHeaders=…,Signature=…".' });
  }
  if (auth.algorithm !== ACS3_ALGORITHM) {
    throw authError('InvalidArgument', { reason: `The signature algorithm "${clip(auth.algorithm)}" is not supported, use ${ACS3_ALGORITHM}.` });
  }
  const single = (name: string): string | undefined => {
    const values = headers.get(name);
    if (values === undefined || values.length === 0) return undefined;
    if (values.length > 1) throw authError('InvalidArgument', { reason: `The HTTP header "${name}" is given more than once.` });
    return values[0];
  };
  const required = new Map<string, string>();
  for (const name of ACS3_REQUIRED_HEADERS) {
    const value = single(name)?.trim();
    if (value === undefined || value === '') throw authError('MissingRequiredHeader', { args: [name] });
    required.set(name, value);
  }
  if (headers.has('x-acs-security-token')) throw authError('InvalidArgument', { reason: 'STS security tokens ("x-acs-security-token") are not supported.' });
  const nonce = required.get('x-acs-signature-nonce') as string;
  checkNonce(nonce, 'x-acs-signature-nonce');
  const dateText = required.get('x-acs-date') as string;
  const requestTime = parseTime(dateText, 'x-acs-date');
  const contentSha256 = (required.get('x-acs-content-sha256') as string).toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(contentSha256)) {
    throw authError('InvalidArgument', { reason: 'The x-acs-content-sha256 header must be the hex SHA-256 of the body (unsigned payloads are not supported).' });
  }
  const query = singleValued([request.query]);

  const key = lookUp(options.keys, auth.credential);
  checkWindow(requestTime, dateText, options.clock, maxSkewMs);

  const signedHeaders = normalizeSignedHeaders(auth.signedHeaders);
  const signedSet = new Set(signedHeaders);
  for (const name of [...ACS3_REQUIRED_HEADERS, ...[...headers.keys()].filter(mustSignHeader).sort()]) {
    if (!signedSet.has(name)) throw authError('SignatureNotMatch', { reason: `The header "${clip(name)}" must be signed.` });
  }
  for (const name of signedHeaders) {
    if (!headers.has(name)) throw authError('MissingRequiredHeader', { args: [clip(name)] });
  }

  const body = request.rawBody;
  if (body === undefined && request.form !== undefined && Object.keys(request.form).length > 0) {
    // A wiring bug in the caller: the form parameters would go unauthenticated. Fail loudly.
    throw new Error('verifyRequest: rawBody is required to verify an ACS3-signed request with a body');
  }
  if (sha256Hex(body ?? Buffer.alloc(0)) !== contentSha256) {
    throw authError('SignatureNotMatch', { reason: 'The x-acs-content-sha256 header does not match the request body.' });
  }

  const q = request.path.indexOf('?');
  const canonicalRequest = acs3CanonicalRequest({
    method: request.method,
    path: q < 0 ? request.path : request.path.slice(0, q),
    query: Object.fromEntries(query),
    headers: Object.fromEntries(headers),
    signedHeaders,
    hashedPayload: contentSha256,
  });
  const stringToSign = acs3StringToSign(canonicalRequest);
  const expected = acs3Signature(key.revealSecret(), stringToSign);
  if (!constantTimeEqual(expected, auth.signature.toLowerCase())) signatureMismatch(stringToSign);

  rememberNonce(options.nonceCache, key, nonce, requestTime, maxSkewMs);
  return { accountId: key.accountId, accessKeyId: key.accessKeyId, scheme: ACS3_ALGORITHM };
}

/**
 * Verifies a signed request (RPC V2 or ACS3-HMAC-SHA256) and returns the caller's account.
 * Throws a FlowrunError whose `code` is the API error code: MissingRequiredParams,
 * MissingRequiredHeader, InvalidArgument, InvalidAccessKeyID, RequestTimeTooSkewed,
 * SignatureNotMatch, SignatureNonceUsed, or ResourceThrottled (nonce cache full).
 */
export function verifyRequest(request: SignedRequest, options: VerifyOptions): VerifiedCaller {
  const maxSkewMs = options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  const headers = lowerCaseHeaders(request.headers);
  const authorization = headers.get('authorization')?.[0];
  if (authorization !== undefined && /^\s*ACS3-/i.test(authorization)) return verifyAcs3(request, authorization, headers, options, maxSkewMs);
  return verifyRpcV2(request, options, maxSkewMs);
}
