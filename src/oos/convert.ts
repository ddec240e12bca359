/** Value conversions shared by functions, conditions, outputs and actions. */
import { isJsonObject } from '../shared/json.js';
import type { Json } from '../shared/json.js';
import { oosError, OosErrorNames } from './errors.js';

/** `true`/`false`, `'true'`/`'false'` (any case), numbers (≠ 0), null (false); anything else throws. */
export function toBoolean(value: Json, what: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (value === null) return false;
  if (typeof value === 'string') {
    const t = value.trim().toLowerCase();
    if (t === 'true') return true;
    if (t === 'false' || t === '') return false;
  }
  throw oosError(OosErrorNames.Function, `${what} needs a boolean (true/false), got ${JSON.stringify(value)}`);
}

/** How a value reads inside a longer string: strings as they are, null as '', others as JSON. */
export function interpolationText(value: Json): string {
  if (typeof value === 'string') return value;
  if (value === null) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** The value of a jq stream: nothing → null, one value → it, several → a list. */
export function streamValue(values: Json[]): Json {
  if (values.length === 0) return null;
  if (values.length === 1) return values[0] as Json;
  return values;
}

function deepEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i] as Json));
  if (isJsonObject(a) && isJsonObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k] as Json, b[k] as Json));
  }
  return false;
}

/**
 * Equality of `Fn::Equals`, `ACS::WaitFor` DesiredValues…: deep equality, except that a boolean
 * equals the strings 'true'/'false' (any case) and a number equals a string holding that number
 * (values often arrive as text from parameters and API responses). UNCONFIRMED: OOS's exact rule.
 */
export function looseEquals(a: Json, b: Json): boolean {
  if (deepEqual(a, b)) return true;
  const scalar = (x: Json): x is string | number | boolean => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean';
  if (!scalar(a) || !scalar(b)) return false;
  if (typeof a === 'boolean' || typeof b === 'boolean') {
    const s = typeof a === 'string' ? a : typeof b === 'string' ? b : undefined;
    const bool = typeof a === 'boolean' ? a : (b as boolean);
    return s !== undefined && s.trim().toLowerCase() === String(bool);
  }
  if (typeof a === 'number' || typeof b === 'number') {
    const s = typeof a === 'string' ? a : (b as string);
    const n = typeof a === 'number' ? a : (b as number);
    return typeof s === 'string' && s.trim() !== '' && Number(s) === n;
  }
  return false;
}
