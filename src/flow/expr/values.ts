import type { Json, JsonObject } from '../../shared/json.js';

/**
 * Structural equality of JSON values: numbers by value (`1 == 1.0`), no type coercion
 * (`"1" != 1`), arrays element by element, objects by their own keys regardless of order.
 */
export function deepEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
      if (!deepEqual(a[i] as Json, b[i] as Json)) return false;
    }
    return true;
  }
  if (Array.isArray(b)) return false;
  const ak = Object.keys(a);
  if (ak.length !== Object.keys(b).length) return false;
  for (const k of ak) {
    if (!Object.hasOwn(b, k) || !deepEqual(a[k] as Json, b[k] as Json)) return false;
  }
  return true;
}

/** Freezes a JSON value and everything inside it, so it can be shared between evaluations. */
export function deepFreeze<T extends Json>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  if (Array.isArray(value)) {
    for (const item of value) deepFreeze(item);
  } else {
    for (const key of Object.keys(value)) deepFreeze((value as JsonObject)[key] as Json);
  }
  return Object.freeze(value);
}

/** Sets an own property, also for the key `__proto__` (which plain assignment would not create). */
export function setOwn(target: JsonObject, key: string, value: Json): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/**
 * The internalized (unique) copy of a string used as a property key. Keys cut out of a larger
 * string (`slice`) are not internalized, and V8 then looks them up in its string table on every
 * property access or object literal that uses them; doing it once at compile time avoids that.
 */
export function internalize(key: string): string {
  return Object.keys({ [key]: true })[0] ?? key;
}
