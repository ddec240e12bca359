/**
 * ACS3-HMAC-SHA256 (signature V3), cloudflow.md §5.4, as the Darabonba `getAuthorization`
 * computes it:
 *
 *   CanonicalRequest = METHOD \n CanonicalURI \n CanonicalQueryString \n CanonicalHeaders \n
 *                      SignedHeaders \n HashedPayload
 *   StringToSign     = 'ACS3-HMAC-SHA256\n' + hex(sha256(CanonicalRequest))
 *   Signature        = hex(HMAC-SHA256(secret, StringToSign))
 *   Authorization: ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<h1;h2>,Signature=<hex>
 *
 * - CanonicalURI: the path as sent, with `+` → `%20`, `*` → `%2A`, `%7E` → `~`; empty → `/`.
 * - CanonicalQueryString: decoded names sorted, `enc(name)=enc(value)` joined by `&` (the V3 doc
 *   encodes the name too; the SDK does not, which only differs for names outside `A–Z a–z 0–9 - _ . ~`).
 * - CanonicalHeaders: each signed header, lowercased name, trimmed value (several values: each
 *   trimmed, sorted, joined by `,`), sorted by name, one `name:value\n` line each.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { Clock } from '../shared/clock.js';
import { formatTimestamp, percentEncode, sha256Hex } from './encoding.js';

export const ACS3_ALGORITHM = 'ACS3-HMAC-SHA256';

export type HeaderValue = string | readonly string[] | undefined;

export interface Acs3CanonicalInput {
  method: string;
  /** The request path as sent (percent-encoded, without the query string). */
  path: string;
  /** Decoded query parameters (one value per name). */
  query: Readonly<Record<string, string>>;
  /** Request headers; names in any case. */
  headers: Readonly<Record<string, HeaderValue>>;
  /** Names of the signed headers (any case, any order). */
  signedHeaders: readonly string[];
  /** Hex SHA-256 of the body (the `x-acs-content-sha256` value). */
  hashedPayload: string;
}

/** Lower-cases header names, merging names that differ only in case. */
export function lowerCaseHeaders(headers: Readonly<Record<string, HeaderValue>>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    const values = out.get(key) ?? [];
    if (typeof value === 'string') values.push(value);
    else values.push(...value);
    out.set(key, values);
  }
  return out;
}

/** The sorted, deduplicated, lower-cased signed header names. */
export function normalizeSignedHeaders(names: readonly string[]): string[] {
  return [...new Set(names.map((n) => n.trim().toLowerCase()).filter((n) => n !== ''))].sort();
}

export function acs3CanonicalUri(path: string): string {
  if (path === '') return '/';
  return path.replace(/\+/g, '%20').replace(/\*/g, '%2A').replace(/%7E/g, '~');
}

export function acs3CanonicalQuery(query: Readonly<Record<string, string>>): string {
  return Object.keys(query)
    .sort()
    .map((name) => `${percentEncode(name)}=${percentEncode(query[name] ?? '')}`)
    .join('&');
}

export function acs3CanonicalRequest(input: Acs3CanonicalInput): string {
  const headers = lowerCaseHeaders(input.headers);
  const signed = normalizeSignedHeaders(input.signedHeaders);
  const canonicalHeaders = signed
    .map((name) => {
      const values = (headers.get(name) ?? []).map((v) => v.trim()).sort();
      return `${name}:${values.join(',')}\n`;
    })
    .join('');
  return [input.method.toUpperCase(), acs3CanonicalUri(input.path), acs3CanonicalQuery(input.query), canonicalHeaders, signed.join(';'), input.hashedPayload].join('\n');
}

export function acs3StringToSign(canonicalRequest: string): string {
  return `${ACS3_ALGORITHM}\n${sha256Hex(canonicalRequest)}`;
}

export function acs3Signature(secret: string, stringToSign: string): string {
  return createHmac('sha256', secret).update(stringToSign, 'utf8').digest('hex');
}

export interface Acs3Authorization {
  algorithm: string;
  credential: string;
  signedHeaders: string[];
  signature: string;
}

/**
 * Parses `ALGORITHM Credential=…,SignedHeaders=…,Signature=…` (spaces after the commas allowed,
 * fields in any order). Returns `undefined` when the header is not of that shape.
 */
export function parseAcs3Authorization(value: string): Acs3Authorization | undefined {
  const m = /^\s*(\S+)\s+(.*)$/s.exec(value);
  if (!m) return undefined;
  const algorithm = m[1] ?? '';
  const fields = new Map<string, string>();
  for (const part of (m[2] ?? '').split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    const name = part.slice(0, eq).trim();
    if (fields.has(name)) return undefined;
    fields.set(name, part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential === undefined || credential === '' || signedHeaders === undefined || signature === undefined || signature === '') return undefined;
  return { algorithm, credential, signedHeaders: signedHeaders.split(';'), signature };
}

/** Whether a header must be covered by an ACS3 signature when present: host, content-type, x-acs-*. */
export function mustSignHeader(lowerName: string): boolean {
  return lowerName === 'host' || lowerName === 'content-type' || lowerName.startsWith('x-acs-');
}

export interface Acs3SignInput {
  method: string;
  /** Default `/`. */
  path?: string;
  /** Decoded query parameters. */
  query?: Readonly<Record<string, string>>;
  /** Headers to send (host, x-acs-action, x-acs-version, content-type …). */
  headers: Readonly<Record<string, string>>;
  /** The exact body bytes that will be sent (default: empty). */
  body?: string | Buffer;
  accessKeyId: string;
  secret: string;
  /** Fills `x-acs-date` when the headers have none. */
  clock?: Clock;
  /** Fills `x-acs-signature-nonce` when the headers have none (default: a random UUID). */
  nonce?: string;
}

export interface Acs3Signed {
  /** The headers to send: the input's (lower-cased names), x-acs-date, x-acs-signature-nonce, x-acs-content-sha256, authorization. */
  headers: Record<string, string>;
  authorization: string;
  signature: string;
  signedHeaders: string[];
  canonicalRequest: string;
  stringToSign: string;
}

/**
 * Signs a request with ACS3-HMAC-SHA256 like the Darabonba SDK: every header named host,
 * content-type or x-acs-* is signed; `x-acs-content-sha256` is the hex SHA-256 of the body.
 */
export function signAcs3Request(input: Acs3SignInput): Acs3Signed {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.headers)) headers[name.toLowerCase()] = value;
  if (headers['x-acs-date'] === undefined) {
    if (!input.clock) throw new TypeError('signAcs3Request: give an x-acs-date header or a clock');
    headers['x-acs-date'] = formatTimestamp(input.clock.now());
  }
  headers['x-acs-signature-nonce'] ??= input.nonce ?? randomUUID();
  headers['x-acs-content-sha256'] = sha256Hex(input.body ?? '');
  const signedHeaders = normalizeSignedHeaders(Object.keys(headers).filter(mustSignHeader));
  const canonicalRequest = acs3CanonicalRequest({
    method: input.method,
    path: input.path ?? '/',
    query: input.query ?? {},
    headers,
    signedHeaders,
    hashedPayload: headers['x-acs-content-sha256'],
  });
  const stringToSign = acs3StringToSign(canonicalRequest);
  const signature = acs3Signature(input.secret, stringToSign);
  const authorization = `${ACS3_ALGORITHM} Credential=${input.accessKeyId},SignedHeaders=${signedHeaders.join(';')},Signature=${signature}`;
  headers['authorization'] = authorization;
  return { headers, authorization, signature, signedHeaders, canonicalRequest, stringToSign };
}
