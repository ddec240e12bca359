/**
 * Request signing on the HTTP side: builds what `src/auth`'s `verifyRequest` takes from what the
 * app received, verifies it, and enforces the rules the signature schemes leave to the HTTP layer
 * (src/auth/README.md, "Notes for the HTTP layer"):
 *
 * - the query and a form body are decoded with their repeated names kept (`parseUrlEncoded`): a
 *   parameter given twice — repeated, or in both the query and the body — is refused, so the
 *   value that was signed is the value the action reads;
 * - the body bytes are handed over for ACS3 (`x-acs-content-sha256`). They are the UTF-8 of the
 *   text the parameters were parsed from, so what is verified is exactly what is parsed (a body
 *   that is not valid UTF-8 fails to verify);
 * - RPC signature V2 signs neither the path, nor the headers, nor a JSON body: on a V2-signed
 *   request a JSON body's parameters are verified as if they were form parameters (so only
 *   string values are accepted), the action served must be the signed `Action` (path style too),
 *   and `x-acs-version` cannot choose the product unless `Version` is signed;
 * - ACS3 signs the path, the query, the body and every `x-acs-*` header, so the action and version
 *   read from `x-acs-action` / `x-acs-version` are authenticated.
 *
 * The verified caller (`{accountId, accessKeyId}`) is returned to the app, which keeps it in
 * `res.locals.caller` (see {@link verifiedCaller}).
 */
import type { Response } from 'express';
import { NonceCache, parseUrlEncoded, verifyRequest } from '../auth/index.js';
import type { AccessKeyLookup, VerifiedCaller } from '../auth/index.js';
import { authError } from '../auth/errors.js';
import type { Clock } from '../shared/clock.js';
import { FlowrunError } from '../shared/errors.js';
import type { AuthenticatedCaller, Authenticator, AuthRequest } from './app.js';

export interface SignatureAuthOptions {
  /** The configured AccessKeys (an `AccessKeyStore` from `loadAccessKeys`). */
  keys: AccessKeyLookup;
  /** The clock the time window and the nonce expiry are measured with. */
  clock: Clock;
  /** Default: a new cache of `maxNonceEntries` entries. */
  nonceCache?: NonceCache;
  /** Live nonces remembered at most (default `DEFAULT_NONCE_CACHE_ENTRIES`, 200,000). */
  maxNonceEntries?: number;
  /** Accepted clock skew, either way (default 15 minutes). */
  maxSkewMs?: number;
}

/** An authenticator that requires every request to be signed, and the replay cache it uses. */
export interface SignatureAuthenticator {
  authenticate: Authenticator;
  nonceCache: NonceCache;
}

/** Where the app keeps the verified caller of a request. */
export const CALLER_LOCAL = 'caller';

/** The caller the authenticator verified for this response's request (undefined: unsigned server). */
export function verifiedCaller(res: Response): AuthenticatedCaller | undefined {
  return res.locals[CALLER_LOCAL] as AuthenticatedCaller | undefined;
}

type Params = Record<string, string | string[]>;

function clip(value: string, max = 64): string {
  return value.length <= max ? value : `${value.slice(0, max)}…`;
}

function header(headers: AuthRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function isAcs3(headers: AuthRequest['headers']): boolean {
  const authorization = header(headers, 'authorization');
  return authorization !== undefined && /^\s*ACS3-/i.test(authorization);
}

function given(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** A parameter given more than once (repeated in one source, or in both the query and the body) is refused. */
function refuseDuplicates(query: Params, form: Params | undefined, json: Readonly<Record<string, unknown>> | undefined): void {
  const twice = (name: string): FlowrunError => authError('InvalidArgument', { reason: `The parameter "${clip(name)}" is given more than once.` });
  for (const source of [query, form]) if (source) for (const [name, value] of Object.entries(source)) if (Array.isArray(value)) throw twice(name);
  for (const source of [form, json]) if (source) for (const name of Object.keys(source)) if (Object.hasOwn(query, name)) throw twice(name);
}

/** The form parameters of a form body, with repeated names kept. */
function formOf(request: AuthRequest): Params | undefined {
  if (request.bodyKind !== 'form' || request.rawBody === undefined) return undefined;
  return parseUrlEncoded(request.rawBody.toString('utf8'));
}

/** V2 does not sign JSON: a JSON body's parameters are verified as form parameters, strings only. */
function jsonAsForm(body: Readonly<Record<string, unknown>>): Params {
  const out: Params = Object.create(null) as Params;
  for (const [name, value] of Object.entries(body)) {
    if (typeof value !== 'string') {
      throw authError('InvalidArgument', {
        reason: `With signature V2 a JSON body is signed as form parameters, so every value must be a string; "${clip(name)}" is not. Send the parameters in the query or a form body, or sign with ACS3-HMAC-SHA256.`,
      });
    }
    out[name] = value;
  }
  return out;
}

/** V2 signs parameters only: the action served and the product chosen must come from them. */
function bindRpcV2(request: AuthRequest, signed: Map<string, string>): void {
  const action = signed.get('Action');
  if (action === undefined || action === '') throw authError('MissingRequiredParams', { args: ['Action'] });
  if (action !== request.action) {
    throw authError('SignatureNotMatch', { reason: `The signed Action "${clip(action)}" is not the requested operation "${clip(request.action)}".` });
  }
  const headerVersion = header(request.headers, 'x-acs-version');
  const version = signed.get('Version');
  if (headerVersion !== undefined && headerVersion !== '' && (version === undefined || version === '')) {
    throw authError('MissingRequiredParams', { args: ['Version'] });
  }
}

/**
 * An {@link Authenticator} requiring every request to be signed with an AccessKey of `keys`
 * (RPC signature V2 or ACS3-HMAC-SHA256); errors are the catalog's (InvalidAccessKeyID,
 * SignatureNotMatch, RequestTimeTooSkewed, SignatureNonceUsed, MissingRequiredParams,
 * MissingRequiredHeader, InvalidArgument, ResourceThrottled when the nonce cache is full).
 */
export function createSignatureAuthenticator(options: SignatureAuthOptions): SignatureAuthenticator {
  const nonceCache =
    options.nonceCache ?? new NonceCache({ clock: options.clock, ...(options.maxNonceEntries !== undefined ? { maxEntries: options.maxNonceEntries } : {}) });
  const verifyOptions = {
    keys: options.keys,
    clock: options.clock,
    nonceCache,
    ...(options.maxSkewMs !== undefined ? { maxSkewMs: options.maxSkewMs } : {}),
  };
  const authenticate: Authenticator = (request: AuthRequest): AuthenticatedCaller => {
    const q = request.url.indexOf('?');
    const path = q < 0 ? request.url : request.url.slice(0, q);
    const query: Params = q < 0 ? {} : parseUrlEncoded(request.url.slice(q + 1));
    const acs3 = isAcs3(request.headers);
    let form: Params | undefined;
    if (request.bodyKind === 'form') form = formOf(request);
    else if (request.bodyKind === 'json' && !acs3) form = jsonAsForm(request.body);
    refuseDuplicates(query, form, request.bodyKind === 'json' ? request.body : undefined);

    let caller: VerifiedCaller;
    try {
      caller = verifyRequest({ method: request.method, path, query, form, headers: request.headers, ...(request.rawBody ? { rawBody: request.rawBody } : {}) }, verifyOptions);
    } catch (err) {
      throw withStringToSign(err);
    }
    if (caller.scheme === 'RPC-V2') {
      const signed = new Map<string, string>();
      for (const source of [query, form ?? {}]) for (const [name, value] of Object.entries(source)) signed.set(name, given(value) ?? '');
      bindRpcV2(request, signed);
    }
    return { accountId: caller.accountId, accessKeyId: caller.accessKeyId };
  };
  return { authenticate, nonceCache };
}

/**
 * SignatureNotMatch carries the server's string-to-sign (derived from the request alone, never
 * secret): it goes into the message, as Alibaba Cloud's gateway does, so a client can see what
 * was signed.
 */
function withStringToSign(err: unknown): unknown {
  if (!(err instanceof FlowrunError) || err.code !== 'SignatureNotMatch') return err;
  const details = err.details ?? {};
  const stringToSign = details['stringToSign'];
  if (typeof stringToSign !== 'string') return err;
  const reason = typeof details['reason'] === 'string' ? `${details['reason']} ` : '';
  return authError('SignatureNotMatch', { reason: `${reason}Server string to sign: ${stringToSign}` });
}
