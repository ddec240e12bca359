/** JSON values as they travel through flows and executions. */
export type JsonPrimitive = null | boolean | number | string;
export type Json = JsonPrimitive | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Name of a JSON value's type, for messages ("object", "array", "string", ...). */
export function jsonTypeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** UTF-8 size of the JSON text of `value`. */
export function jsonByteLength(value: Json): number {
  const text = JSON.stringify(value);
  return text === undefined ? 0 : Buffer.byteLength(text, 'utf8');
}

/**
 * Cheap upper bound of the JSON size of `value`, giving up (returning a number > `limit`) as soon
 * as the bound passes `limit`. Strings count 6 bytes per UTF-16 unit (the worst escape).
 */
function sizeBound(value: Json, limit: number, acc: number): number {
  if (acc > limit) return acc;
  switch (typeof value) {
    case 'string':
      return acc + 2 + value.length * 6;
    case 'number':
      return acc + 24;
    case 'boolean':
      return acc + 5;
    case 'object': {
      if (value === null) return acc + 4;
      let total = acc + 2;
      if (Array.isArray(value)) {
        for (const item of value) {
          total = sizeBound(item, limit, total + 1);
          if (total > limit) return total;
        }
        return total;
      }
      for (const key in value) {
        total = sizeBound(value[key] as Json, limit, total + 4 + key.length * 6);
        if (total > limit) return total;
      }
      return total;
    }
    default:
      return acc;
  }
}

/** True when the JSON text of `value` is at most `limit` bytes (exact; fast for small values). */
export function jsonFitsIn(value: Json, limit: number): boolean {
  if (sizeBound(value, limit, 0) <= limit) return true;
  return jsonByteLength(value) <= limit;
}
