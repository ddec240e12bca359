/**
 * Request bodies: content-type rules per protocol and a reader that refuses a body over the limit
 * as soon as the declared Content-Length or the bytes counted so far pass it. Nothing past the
 * limit is buffered: the rest of an oversized body is discarded so the connection stays usable.
 */
import type { IncomingMessage } from 'node:http';
import { isJsonObject, jsonTypeName } from '../shared/json.js';
import { apiError } from './errors.js';

/** Largest request body (CloudFlow's request size: 1,024 KiB). */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

export const JSON_MEDIA_TYPE = 'application/json';
export const FORM_MEDIA_TYPE = 'application/x-www-form-urlencoded';

export type BodyKind = 'json' | 'form';

/** The media type of the request (lower case, without parameters), if any. */
export function mediaTypeOf(req: IncomingMessage): string | undefined {
  const header = req.headers['content-type'];
  if (header === undefined) return undefined;
  if (header === JSON_MEDIA_TYPE) return header; // the usual one, already in its plain form
  const semicolon = header.indexOf(';');
  const type = (semicolon < 0 ? header : header.slice(0, semicolon)).trim().toLowerCase();
  return type === '' ? undefined : type;
}

/** Whether the request carries a body (a non-zero Content-Length or a chunked one). */
export function hasBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && length !== '0';
}

export function isJsonType(type: string | undefined): boolean {
  return type === JSON_MEDIA_TYPE || (type !== undefined && /^application\/[\w.+-]+\+json$/.test(type));
}

/**
 * Which body parser applies. Path style accepts only JSON (anything else with a body, or a
 * non-JSON Content-Type, is UnsupportedMediaType); RPC style accepts form-encoded and JSON.
 * Undefined: no body to read.
 */
export function bodyKind(req: IncomingMessage, style: 'rpc' | 'path'): BodyKind | undefined {
  const type = mediaTypeOf(req);
  const body = hasBody(req);
  if (style === 'path') {
    if (type !== undefined && !isJsonType(type)) throw apiError('UnsupportedMediaType');
    if (!body) return undefined;
    if (type === undefined) throw apiError('UnsupportedMediaType');
    return 'json';
  }
  if (!body) return undefined;
  if (type === FORM_MEDIA_TYPE) return 'form';
  if (isJsonType(type)) return 'json';
  throw apiError('UnsupportedMediaType', { message: `The content type must be "${FORM_MEDIA_TYPE}" or "${JSON_MEDIA_TYPE}".` });
}

/** Reads the body as UTF-8 text, refusing it (EntityTooLarge) once it passes `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const tooLarge = (): Error => apiError('EntityTooLarge', { args: [String(limit)] });
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    req.resume(); // discard, never buffer
    return Promise.reject(tooLarge());
  }
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        chunks.length = 0;
        req.resume(); // keep draining (discarding) so the response can be read by the client
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      // a small body arrives in one chunk: decode it without copying it first
      resolve((chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size)).toString('utf8'));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('the client closed the connection before sending the whole body'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/** Parses a body into parameters. Malformed JSON, or JSON that is not an object, is InvalidArgument. */
/** JSON request bodies may nest objects and arrays at most this deep. */
export const MAX_BODY_NESTING = 64;

/** Depth of the deepest `{`/`[` nesting in JSON text, counted without parsing (strings skipped). */
function nestingDepth(text: string, limit: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === 125 || c === 93) depth--;
  }
  return max;
}

export function parseBody(text: string, kind: BodyKind): Record<string, unknown> {
  if (kind === 'form') return Object.fromEntries(new URLSearchParams(text));
  if (text.trim() === '') return {};
  if (nestingDepth(text, MAX_BODY_NESTING) > MAX_BODY_NESTING) {
    throw apiError('InvalidArgument', { reason: `The request body nests JSON deeper than ${MAX_BODY_NESTING} levels.` });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw apiError('InvalidArgument', { reason: `The request body is not valid JSON: ${(err as Error).message}` });
  }
  if (!isJsonObject(value)) throw apiError('InvalidArgument', { reason: `The request body must be a JSON object, not ${jsonTypeName(value)}.` });
  return value;
}
