/**
 * Encoding helpers shared by both signature schemes: the RFC 3986 percent-encoding of
 * cloudflow.md §5.1, form/query decoding, the SDK timestamp format, constant-time comparison.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** The encoding of each byte value: itself when unreserved, `%XX` otherwise. */
const BYTE_ENCODING: readonly string[] = Array.from({ length: 256 }, (_, byte) =>
  isUnreserved(byte) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
);

const SDK_EXTRA_ESCAPES: Readonly<Record<string, string>> = { '!': '%21', "'": '%27', '(': '%28', ')': '%29', '*': '%2A' };

function isUnreserved(byte: number): boolean {
  return (
    (byte >= 0x41 && byte <= 0x5a) || // A-Z
    (byte >= 0x61 && byte <= 0x7a) || // a-z
    (byte >= 0x30 && byte <= 0x39) || // 0-9
    byte === 0x2d || // -
    byte === 0x5f || // _
    byte === 0x2e || // .
    byte === 0x7e // ~
  );
}

/**
 * Percent-encodes `value` the way the Alibaba Cloud SDKs do (`encodeURIComponent` then `! ' ( ) *`
 * escaped): RFC 3986 unreserved characters `A–Z a–z 0–9 - _ . ~` stay, every other UTF-8 byte
 * becomes `%XX` in uppercase hex — so space is `%20`, `+` is `%2B`, `*` is `%2A`, `~` stays.
 * Never throws: a lone surrogate (which no SDK can send) is encoded as U+FFFD.
 */
export function percentEncode(value: string): string {
  try {
    return encodeURIComponent(value).replace(/[!'()*]/g, (c) => SDK_EXTRA_ESCAPES[c] ?? c);
  } catch {
    // URIError: a lone surrogate. Encode the UTF-8 bytes (U+FFFD for the surrogate) instead.
  }
  const bytes = Buffer.from(value, 'utf8');
  const parts = new Array<string>(bytes.length);
  for (let i = 0; i < bytes.length; i++) parts[i] = BYTE_ENCODING[bytes[i] as number] as string;
  return parts.join('');
}

/**
 * Decodes a query string or an `application/x-www-form-urlencoded` body (`+` is a space, then
 * `%XX`) into a map; a name given more than once maps to the array of its values, in order.
 */
export function parseUrlEncoded(text: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const [name, value] of new URLSearchParams(text.startsWith('?') ? text.slice(1) : text)) {
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = [prev, value];
  }
  return out;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** `YYYY-MM-DDThh:mm:ssZ` (UTC, no milliseconds): what pop-core and the Darabonba SDKs send. */
export function formatTimestamp(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}Z`;
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;

/**
 * Parses an ISO-8601 UTC timestamp `YYYY-MM-DDThh:mm:ssZ`, optionally with a fraction of a
 * second (`…:ss.SSSZ`); returns milliseconds since the epoch, or `undefined` when the text is not
 * in that format or names an impossible date (month 13, 31 February, hour 24 …).
 */
export function parseTimestamp(text: string): number | undefined {
  const m = TIMESTAMP.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const fraction = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  const ms = Date.UTC(year, month - 1, day, hour, minute, second, fraction);
  const d = new Date(ms);
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day || d.getUTCHours() !== hour || d.getUTCMinutes() !== minute || d.getUTCSeconds() !== second) {
    return undefined;
  }
  return ms;
}

/**
 * Compares two strings in time independent of where they differ and of their lengths: both are
 * hashed to 32 bytes and the digests compared with `crypto.timingSafeEqual` (equal-length
 * buffers always; strings of different lengths are a mismatch with no early exit).
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
