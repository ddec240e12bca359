/**
 * jsonFitsIn / jsonFitsTightly answer exactly whether the JSON text of a value fits in a number
 * of UTF-8 bytes: their size bounds must never come in under the real size.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonFitsIn, jsonFitsTightly, jsonSizeBound } from '../../src/shared/json.js';
import type { Json } from '../../src/shared/json.js';

const bytes = (v: Json): number => Buffer.byteLength(JSON.stringify(v), 'utf8');

const values = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  // text that escapes, leaves ASCII or pairs surrogates; integers of every length; -0
  fc.array(fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 300 }), fc.integer(), fc.constant(-0), fc.double({ noNaN: true, noDefaultInfinity: true })), { maxLength: 30 }),
  fc.dictionary(fc.string({ unit: 'binary', maxLength: 12 }), fc.oneof(fc.string({ unit: 'binary' }), fc.maxSafeInteger(), fc.boolean()), { maxKeys: 20 }),
) as fc.Arbitrary<Json>;

describe('JSON size checks', () => {
  it('fit at exactly their size and not a byte below (random values)', () => {
    fc.assert(
      fc.property(values, (v) => {
        const n = bytes(v);
        expect(jsonFitsIn(v, n)).toBe(true);
        expect(jsonFitsTightly(v, n)).toBe(true);
        if (n > 0) {
          expect(jsonFitsIn(v, n - 1)).toBe(false);
          expect(jsonFitsTightly(v, n - 1)).toBe(false);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('jsonSizeBound never comes in under the size, and passes the limit once the size does', () => {
    fc.assert(
      fc.property(values, (v) => {
        const n = bytes(v);
        expect(jsonSizeBound(v, Number.MAX_SAFE_INTEGER)).toBeGreaterThanOrEqual(n);
        if (n > 0) expect(jsonSizeBound(v, n - 1)).toBeGreaterThan(n - 1);
      }),
      { numRuns: 2000 },
    );
  });

  it('counts the longest numbers JSON prints (25 bytes: -0.0000012345678901234567)', () => {
    const value: Json = Array.from({ length: 2621 }, () => -0.0000012345678901234567);
    const n = bytes(value);
    expect(n).toBeGreaterThan(65536);
    expect(jsonFitsIn(value, 65536)).toBe(false);
    expect(jsonFitsTightly(value, 65536)).toBe(false);
    expect(jsonFitsIn(value, n)).toBe(true);
  });

  it('the tight check decides a large ASCII/integer value at the limit', () => {
    const items = Array.from({ length: 1000 }, (_, i) => ({ Item: { v: i }, Status: 'Success', Outputs: { id: `i-${i}` } }));
    const value: Json = { Items: items };
    const n = bytes(value);
    expect(jsonFitsTightly(value, n)).toBe(true);
    expect(jsonFitsTightly(value, n - 1)).toBe(false);
  });
});
