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

/** Powers of ten, for the digits of an integer. */
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16];

/**
 * An upper bound of the UTF-8 size of the JSON text of `value` (plus `acc`), giving up (returning
 * a number > `limit`) as soon as it passes `limit`. Cheap: strings count 6 bytes per UTF-16 unit
 * (the worst escape) and numbers 25 (the longest a double prints: `-1.2345678901234567e-7`).
 * Tight: exact for integers and for strings of printable ASCII (up to 256 units, scanned), within
 * a byte per array or object (a separator counted for each member). Both checked against JSON.stringify on random values.
 */
function sizeBound(value: Json, limit: number, acc: number, tight: boolean): number {
  if (acc > limit) return acc;
  switch (typeof value) {
    case 'string':
      return acc + (tight ? stringBound(value) : 2 + value.length * 6);
    case 'number':
      return acc + (tight ? numberBound(value) : 25);
    case 'boolean':
      return acc + 5;
    case 'object': {
      if (value === null) return acc + 4;
      let total = acc + 2;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          total = sizeBound(value[i] as Json, limit, total + 1, tight);
          if (total > limit) return total;
        }
        return total;
      }
      for (const key in value) {
        const v = value[key];
        if (v === undefined) continue;
        total = sizeBound(v, limit, total + (tight ? 2 + stringBound(key) : 4 + key.length * 6), tight);
        if (total > limit) return total;
      }
      return total;
    }
    default:
      return acc + 4; // as null (in an array; a member of an object is left out)
  }
}

/** Bytes of a number's JSON text: exact for safe integers, else the longest a double prints. */
function numberBound(value: number): number {
  if (!Number.isSafeInteger(value)) return 25;
  let a = value;
  let d = 1;
  if (a < 0) {
    a = -a;
    d = 2;
  }
  for (let k = 1; k < 16 && a >= (POW10[k] as number); k++) d++;
  return d;
}

/** Bytes of a string's JSON text, quotes included (exact for printable ASCII, an upper bound past it). */
function stringBound(text: string): number {
  const n = text.length;
  if (n > 256) return 2 + n * 6;
  let bytes = n + 2;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7e) bytes += 5;
  }
  return bytes;
}

/** True when the JSON text of `value` is at most `limit` bytes (exact; fast for small values). */
export function jsonFitsIn(value: Json, limit: number): boolean {
  if (sizeBound(value, limit, 0, false) <= limit) return true;
  return jsonByteLength(value) <= limit;
}

/**
 * An upper bound of the UTF-8 size of the JSON text of `value`, exact for integers and printable
 * ASCII text (a byte over per array or object member at most); past `limit` it stops counting and
 * returns some number above `limit`.
 */
export function jsonSizeBound(value: Json, limit: number): number {
  return sizeBound(value, limit, 0, true);
}

/**
 * The same answer as {@link jsonFitsIn}, with the tight bound first: for large values of ASCII
 * text and integers (a Map's 1,000 results) it decides without writing the JSON text.
 */
export function jsonFitsTightly(value: Json, limit: number): boolean {
  if (sizeBound(value, limit, 0, true) <= limit) return true;
  return jsonByteLength(value) <= limit;
}
