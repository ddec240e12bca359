/** Opaque paging tokens of the OOS API and the MaxResults ranges of oos.md §4.4. */
import { isJsonObject } from '../../shared/json.js';
import type { Json, JsonObject } from '../../shared/json.js';
import { invalidParameter } from './errors.js';

export interface PageRange {
  min: number;
  max: number;
  default: number;
}

/** ListExecutions, ListTemplates, ListTemplateVersions, ListResourceExecutionStatus, ListExecutionLogs. */
export const PAGE_10_100: PageRange = { min: 10, max: 100, default: 50 };
/** ListTaskExecutions. */
export const PAGE_20_100: PageRange = { min: 20, max: 100, default: 50 };

export function maxResults(value: number | undefined, range: PageRange): number {
  if (value === undefined) return range.default;
  if (!Number.isInteger(value) || value < range.min || value > range.max) {
    throw invalidParameter(`MaxResults must be an integer from ${range.min} to ${range.max}, got ${String(value)}.`);
  }
  return value;
}

/** A token: base64url JSON, valid only for the operation (`kind`) and scope that issued it. */
export function encodeToken(kind: string, scope: string, position: JsonObject): string {
  return Buffer.from(JSON.stringify({ k: kind, s: scope, ...position }), 'utf8').toString('base64url');
}

export function decodeToken(token: string, kind: string, scope: string): JsonObject {
  const bad = (): Error => invalidParameter(`NextToken '${token.length > 64 ? `${token.slice(0, 64)}…` : token}' is not a valid paging token for this request.`);
  if (token.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(token)) throw bad();
  let value: Json;
  try {
    value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Json;
  } catch {
    throw bad();
  }
  if (!isJsonObject(value) || value['k'] !== kind || value['s'] !== scope) throw bad();
  return value;
}

/** Offset paging over a list computed per request. */
export function pageOf<T>(items: readonly T[], limit: number, token: string | undefined, kind: string, scope: string): { page: T[]; next?: string } {
  let offset = 0;
  if (token !== undefined && token !== '') {
    const t = decodeToken(token, kind, scope);
    const o = t['o'];
    if (typeof o !== 'number' || !Number.isInteger(o) || o < 0) throw invalidParameter('NextToken is not a valid paging token for this request.');
    offset = o;
  }
  const page = items.slice(offset, offset + limit);
  const out: { page: T[]; next?: string } = { page };
  if (offset + limit < items.length) out.next = encodeToken(kind, scope, { o: offset + limit });
  return out;
}
