/**
 * Opaque paging tokens: base64url JSON `{k: kind, ...position}`. A token is only accepted by the
 * operation (and, where it matters, the flow) that issued it; anything else is InvalidArgument.
 */
import { isJsonObject } from '../shared/json.js';
import type { JsonObject } from '../shared/json.js';
import { invalidArgument } from './errors.js';

/** Longest NextToken accepted (tokens we issue are far shorter). */
export const MAX_TOKEN_LENGTH = 1024;

export type TokenKind = 'flows' | 'executions' | 'history';

export function encodeToken(kind: TokenKind, position: JsonObject): string {
  return Buffer.from(JSON.stringify({ k: kind, ...position }), 'utf8').toString('base64url');
}

/**
 * Decodes a token issued by {@link encodeToken} for `kind`; `accept` checks the position's shape.
 * Throws InvalidArgument for anything else.
 */
export function decodeToken<T>(kind: TokenKind, token: string, accept: (position: JsonObject) => T | undefined): T {
  const bad = (): Error => invalidArgument(`NextToken '${token.length > 64 ? `${token.slice(0, 64)}…` : token}' is not a valid paging token.`);
  if (token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) throw bad();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!isJsonObject(value) || value['k'] !== kind) throw bad();
  const position = accept(value);
  if (position === undefined) throw bad();
  return position;
}
