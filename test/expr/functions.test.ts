import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BUILTIN_FUNCTIONS, compileExpression } from '../../src/flow/expr/index.js';
import { ErrorNames } from '../../src/shared/errors.js';
import { evaluate, runtimeFailure, scope, syntaxError } from './helpers.js';

/** Asserts a run-time FnF.Runtime error whose message starts with "<fn>: " and contains `part`. */
function expectTypeError(fn: string, source: string, input: Record<string, unknown>, part: string): void {
  const err = runtimeFailure(source, { input: input as never });
  expect(err.code).toBe(ErrorNames.Runtime);
  expect(err.message.startsWith(`${fn}: `)).toBe(true);
  expect(err.message).toContain(part);
}

describe('BUILTIN_FUNCTIONS', () => {
  it('lists every documented built-in and the aliases', () => {
    for (const name of [
      'format',
      'length',
      'regexMatchString',
      'split',
      'get',
      'intAdd',
      'randomInt',
      'arrayContains',
      'arrayUnique',
      'toArray',
      'mapKeys',
      'mapValues',
      'fromBase64',
      'toBase64',
      'hash',
      'uuid',
      'stringToJson',
      'fromJSON',
      'jsonMerge',
      'jsonToString',
      'toJSON',
    ]) {
      expect(BUILTIN_FUNCTIONS).toContain(name);
    }
    expect(new Set(BUILTIN_FUNCTIONS).size).toBe(BUILTIN_FUNCTIONS.length);
  });
});

describe('format', () => {
  it('fills {} placeholders in order', () => {
    expect(evaluate('format("hello {}", "world")')).toBe('hello world');
    expect(evaluate('format("{}-{}", $Input.a, $Input.b)', { input: { a: 'x', b: 'y' } })).toBe('x-y');
    expect(evaluate('format("no placeholders")')).toBe('no placeholders');
  });

  it('JSON-stringifies non-string values', () => {
    expect(evaluate('format("{} {} {} {}", $Input.n, $Input.o, $Input.z, $Input.b)', { input: { n: 1.5, o: { a: [1] }, z: null, b: true } })).toBe(
      '1.5 {"a":[1]} null true',
    );
  });

  it('accepts a template from a path', () => {
    expect(evaluate('format($Input.t, 1, 2)', { input: { t: '{}+{}' } })).toBe('1+2');
  });

  it('rejects placeholder/value count mismatches (compile time for literal templates)', () => {
    const err = syntaxError('format("{} {}", $Input.a)');
    expect(err.message).toContain('2 "{}" placeholders but 1 value was given');
    expect(err.position).toBe(7);
    expectTypeError('format', 'format($Input.t, 1)', { t: 'none' }, '0 "{}" placeholders but 1 value was given');
  });

  it('needs a string template', () => {
    expectTypeError('format', 'format($Input.t)', { t: 5 }, 'first argument must be a string, but it is number');
    expect(syntaxError('format(5, $Input.a)').message).toContain('template must be a string');
  });
});

describe('length', () => {
  it('measures arrays, maps and strings', () => {
    expect(evaluate('length("name")')).toBe(4);
    expect(evaluate('length($Input.a)', { input: { a: [1, 2, 3] } })).toBe(3);
    expect(evaluate('length($Input.m)', { input: { m: { a: 1, b: 2 } } })).toBe(2);
    expect(evaluate('length("")')).toBe(0);
    expect(evaluate('length($Input.s)', { input: { s: 'é😀' } })).toBe(2);
  });

  it('rejects other types', () => {
    expectTypeError('length', 'length($Input.n)', { n: 5 }, 'must be an array, a map or a string, but it is number');
    expectTypeError('length', 'length($Input.missing)', {}, 'but it is null');
  });
});

describe('regexMatchString', () => {
  it('matches anywhere in the string', () => {
    expect(evaluate('regexMatchString($Input.s, "^ab+c$")', { input: { s: 'abbbc' } })).toBe(true);
    expect(evaluate('regexMatchString($Input.s, "b+")', { input: { s: 'abbbc' } })).toBe(true);
    expect(evaluate('regexMatchString($Input.s, "^b")', { input: { s: 'abbbc' } })).toBe(false);
    expect(evaluate('regexMatchString("2024-01-02", "^\\\\d{4}-\\\\d{2}-\\\\d{2}$")')).toBe(true);
  });

  it('accepts a regular expression from a path', () => {
    expect(evaluate('regexMatchString($Input.s, $Input.r)', { input: { s: 'abc', r: 'b.' } })).toBe(true);
    expect(evaluate('regexMatchString($Input.s, $Input.r)', { input: { s: 'abc', r: 'x' } })).toBe(false);
  });

  it('reports an invalid literal regex at compile time', () => {
    const err = syntaxError('regexMatchString($Input.s, "a(")');
    expect(err.message).toContain('invalid regular expression /a(/');
    expect(err.position).toBe(27);
  });

  it('reports an invalid dynamic regex at run time', () => {
    expectTypeError('regexMatchString', 'regexMatchString($Input.s, $Input.r)', { s: 'a', r: '[' }, 'invalid regular expression');
  });

  it('limits the regex source and the input size', () => {
    const long = 'a'.repeat(1001);
    expect(syntaxError(`regexMatchString($Input.s, "${long}")`).message).toContain('at most 1000');
    expectTypeError('regexMatchString', 'regexMatchString($Input.s, $Input.r)', { s: 'a', r: long }, 'at most 1000');
    expectTypeError('regexMatchString', 'regexMatchString($Input.s, "a")', { s: 'x'.repeat(64 * 1024 + 1) }, 'at most 65536');
    expect(evaluate('regexMatchString($Input.s, "x$")', { input: { s: 'x'.repeat(64 * 1024) } })).toBe(true);
  });

  it('rejects non-string arguments', () => {
    expectTypeError('regexMatchString', 'regexMatchString($Input.n, "a")', { n: 1 }, 'first argument must be a string, but it is number');
    expectTypeError('regexMatchString', 'regexMatchString("a", $Input.n)', { n: 1 }, 'second argument must be a string');
    expect(syntaxError('regexMatchString($Input.s, 5)').message).toContain('must be a string');
  });
});

describe('split', () => {
  it('splits by a delimiter', () => {
    expect(evaluate('split("a,b,,c", ",")')).toEqual(['a', 'b', '', 'c']);
    expect(evaluate('split($Input.s, "::")', { input: { s: 'x::y' } })).toEqual(['x', 'y']);
    expect(evaluate('split("abc", "")')).toEqual(['a', 'b', 'c']);
    expect(evaluate('split("", ",")')).toEqual(['']);
  });

  it('rejects non-strings', () => {
    expectTypeError('split', 'split($Input.a, ",")', { a: [1] }, 'first argument must be a string, but it is array');
    expectTypeError('split', 'split("a", $Input.d)', { d: 1 }, 'second argument must be a string');
  });
});

describe('get', () => {
  const input = { arr: ['a', 'b', 'c'], map: { k: 'v', n: null } };
  it('reads array elements and map values, null when absent', () => {
    expect(evaluate('get($Input.arr, 1)', { input })).toBe('b');
    expect(evaluate('get($Input.arr, -1)', { input })).toBe('c');
    expect(evaluate('get($Input.arr, 5)', { input })).toBeNull();
    expect(evaluate('get($Input.map, "k")', { input })).toBe('v');
    expect(evaluate('get($Input.map, "missing")', { input })).toBeNull();
    expect(evaluate('get($Input.map, "toString")', { input })).toBeNull();
    expect(evaluate('get([10, 20], 0)')).toBe(10);
  });

  it('rejects wrong container or key types', () => {
    expectTypeError('get', 'get($Input.arr, "1")', input, 'an array needs an integer index');
    expectTypeError('get', 'get($Input.arr, 1.5)', input, 'the number 1.5');
    expectTypeError('get', 'get($Input.map, 1)', input, 'a map needs a string key');
    expectTypeError('get', 'get($Input.s, 0)', { s: 'abc' }, 'first argument must be an array or a map, but it is string');
  });
});

describe('intAdd', () => {
  it('adds integers', () => {
    expect(evaluate('intAdd(2, 3)')).toBe(5);
    expect(evaluate('intAdd($Input.n, -10)', { input: { n: 4 } })).toBe(-6);
  });

  it('rejects non-integers and unsafe sums', () => {
    expectTypeError('intAdd', 'intAdd($Input.n, 1)', { n: 1.5 }, 'first argument must be an integer, but it is the number 1.5');
    expectTypeError('intAdd', 'intAdd(1, $Input.n)', { n: '2' }, 'second argument must be an integer, but it is string');
    expectTypeError('intAdd', 'intAdd($Input.n, $Input.n)', { n: Number.MAX_SAFE_INTEGER }, 'too large');
  });
});

describe('randomInt', () => {
  it('returns integers with min inclusive and max exclusive', () => {
    const ev = compileExpression('randomInt(3, 6)');
    const seen = new Set<unknown>();
    for (let i = 0; i < 500; i++) seen.add(ev(scope()));
    expect([...seen].sort()).toEqual([3, 4, 5]);
    expect(evaluate('randomInt(7, 8)')).toBe(7);
  });

  it('rejects bad bounds and non-integers', () => {
    expectTypeError('randomInt', 'randomInt($Input.a, 5)', { a: 5 }, 'max (5) must be greater than min (5)');
    expectTypeError('randomInt', 'randomInt($Input.a, 5)', { a: 'x' }, 'first argument must be an integer');
  });
});

describe('arrayContains', () => {
  it('tests membership by deep equality', () => {
    expect(evaluate('arrayContains(["Tom", 10], 10)')).toBe(true);
    expect(evaluate('arrayContains(["Tom", 10], "10")')).toBe(false);
    expect(evaluate('arrayContains($Input.a, {"x": [1]})', { input: { a: [{ x: [1] }] } })).toBe(true);
    expect(evaluate('arrayContains($Input.a, {"x": [2]})', { input: { a: [{ x: [1] }] } })).toBe(false);
    expect(evaluate('arrayContains([], null)')).toBe(false);
  });

  it('needs an array', () => {
    expectTypeError('arrayContains', 'arrayContains($Input.s, "a")', { s: 'abc' }, 'first argument must be an array, but it is string');
  });
});

describe('arrayUnique', () => {
  it('removes duplicates by deep equality, keeping first occurrences in order', () => {
    expect(evaluate('arrayUnique([1, 2, 3, 1])')).toEqual([1, 2, 3]);
    expect(evaluate('arrayUnique($Input.a)', { input: { a: ['b', 1, '1', 'b', { k: [1] }, { k: [1] }, null, null, 1.0] } })).toEqual([
      'b',
      1,
      '1',
      { k: [1] },
      null,
    ]);
  });

  it('needs an array', () => {
    expectTypeError('arrayUnique', 'arrayUnique($Input.m)', { m: {} }, 'must be an array, but it is object');
  });
});

describe('toArray', () => {
  it('collects its arguments', () => {
    expect(evaluate('toArray(1, "a", $Input.x)', { input: { x: [2] } })).toEqual([1, 'a', [2]]);
    expect(evaluate('toArray()')).toEqual([]);
    expect(evaluate('toArray($Input.x)', { input: { x: 1 } })).toEqual([1]);
  });
});

describe('mapKeys and mapValues', () => {
  it('list keys and values in order', () => {
    const input = { m: { b: 1, a: [2] } };
    expect(evaluate('mapKeys($Input.m)', { input })).toEqual(['b', 'a']);
    expect(evaluate('mapValues($Input.m)', { input })).toEqual([1, [2]]);
    expect(evaluate('mapKeys({})')).toEqual([]);
  });

  it('need a map', () => {
    expectTypeError('mapKeys', 'mapKeys($Input.a)', { a: [1] }, 'must be a map (JSON object), but it is array');
    expectTypeError('mapValues', 'mapValues($Input.a)', { a: null }, 'but it is null');
  });
});

describe('base64', () => {
  it('decodes and encodes UTF-8 text', () => {
    expect(evaluate('fromBase64("Rm5G")')).toBe('FnF');
    expect(evaluate('toBase64("FnF")')).toBe('Rm5G');
    expect(evaluate('toBase64($Input.s)', { input: { s: 'héllo' } })).toBe(Buffer.from('héllo').toString('base64'));
    expect(evaluate('fromBase64(toBase64($Input.s))', { input: { s: '中文 ✓' } })).toBe('中文 ✓');
    expect(evaluate('fromBase64("aGk")')).toBe('hi');
    expect(evaluate('fromBase64("")')).toBe('');
  });

  it('rejects invalid input', () => {
    expectTypeError('fromBase64', 'fromBase64($Input.s)', { s: 'not base64!' }, 'not valid base64');
    expectTypeError('fromBase64', 'fromBase64($Input.s)', { s: 'abcde' }, 'not valid base64');
    expectTypeError('fromBase64', 'fromBase64($Input.s)', { s: 1 }, 'must be a string, but it is number');
    expectTypeError('toBase64', 'toBase64($Input.s)', { s: {} }, 'must be a string, but it is object');
    expect(syntaxError('fromBase64("@@")').message).toContain('not valid base64');
  });
});

describe('hash', () => {
  it('computes hex digests', () => {
    expect(evaluate('hash("abc", "MD5")')).toBe('900150983cd24fb0d6963f7d28e17f72');
    expect(evaluate('hash("abc", "SHA-1")')).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(evaluate('hash($Input.s, "SHA-256")', { input: { s: 'abc' } })).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(evaluate('hash("abc", "sha-512")')).toBe(createHash('sha512').update('abc').digest('hex'));
    expect(evaluate('hash($Input.s, $Input.algo)', { input: { s: 'abc', algo: 'md5' } })).toBe('900150983cd24fb0d6963f7d28e17f72');
  });

  it('hashes non-string input as JSON text', () => {
    expect(evaluate('hash($Input.o, "MD5")', { input: { o: { a: 1 } } })).toBe(createHash('md5').update('{"a":1}').digest('hex'));
  });

  it('rejects unknown algorithms', () => {
    const err = syntaxError('hash($Input.s, "SHA-3")');
    expect(err.message).toContain('unknown algorithm "SHA-3"');
    expect(err.message).toContain('MD5, SHA-1, SHA-256, SHA-512');
    expect(err.position).toBe(15);
    expectTypeError('hash', 'hash("a", $Input.algo)', { algo: 'crc32' }, 'unknown algorithm "crc32"');
    expectTypeError('hash', 'hash("a", $Input.algo)', { algo: 256 }, 'must be a string');
  });
});

describe('uuid', () => {
  it('returns a new v4 UUID on every call', () => {
    const ev = compileExpression('uuid()');
    const a = ev(scope());
    const b = ev(scope());
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(b).not.toBe(a);
  });
});

describe('JSON functions', () => {
  it('stringToJson / fromJSON parse JSON text', () => {
    expect(evaluate('stringToJson($Input.s)', { input: { s: '{"a":[1,true]}' } })).toEqual({ a: [1, true] });
    expect(evaluate('fromJSON("[1, 2]")')).toEqual([1, 2]);
    expect(evaluate('get(stringToJson("{\\"k\\": 1}"), "k") == 1')).toBe(true);
  });

  it('stringToJson rejects bad input', () => {
    expectTypeError('stringToJson', 'stringToJson($Input.s)', { s: '{oops' }, 'not valid JSON');
    expectTypeError('fromJSON', 'fromJSON($Input.s)', { s: 1 }, 'must be a string');
  });

  it('jsonMerge merges shallowly, the second map winning', () => {
    expect(evaluate('jsonMerge($Input.a, $Input.b)', { input: { a: { x: 1, y: { p: 1 } }, b: { y: { q: 2 }, z: 3 } } })).toEqual({
      x: 1,
      y: { q: 2 },
      z: 3,
    });
    expectTypeError('jsonMerge', 'jsonMerge($Input.a, [1])', { a: {} }, 'second argument must be a map');
  });

  it('jsonToString / toJSON serialise any value', () => {
    expect(evaluate('jsonToString($Input.o)', { input: { o: { a: [1, 'x'] } } })).toBe('{"a":[1,"x"]}');
    expect(evaluate('toJSON("s")')).toBe('"s"');
    expect(evaluate('toJSON(null)')).toBe('null');
  });

  it('toString and toNumber convert values', () => {
    expect(evaluate('toString($Input.n)', { input: { n: 12 } })).toBe('12');
    expect(evaluate('toString("s")')).toBe('s');
    expect(evaluate('toNumber(" 12.5 ")')).toBe(12.5);
    expect(evaluate('toNumber($Input.n) > 3', { input: { n: '10' } })).toBe(true);
    expectTypeError('toNumber', 'toNumber($Input.n)', { n: 'abc' }, '"abc" is not a number');
    expectTypeError('toNumber', 'toNumber($Input.n)', { n: '' }, 'is not a number');
    expectTypeError('toNumber', 'toNumber($Input.n)', { n: '0x10' }, '"0x10" is not a number');
    expectTypeError('toNumber', 'toNumber($Input.n)', { n: 'Infinity' }, 'is not a number');
    expect(evaluate('toNumber("-1e2")')).toBe(-100);
    expect(evaluate('toNumber("0.5")')).toBe(0.5);
    expectTypeError('toNumber', 'toNumber($Input.n)', { n: [] }, 'must be a string or a number');
  });
});

describe('calls', () => {
  it('nest up to 10 levels', () => {
    const ten = `${'toArray('.repeat(9)}length("abc")${')'.repeat(9)}`;
    expect(evaluate(ten)).toEqual([[[[[[[[[3]]]]]]]]]);
  });

  it('fold pure calls with literal arguments at compile time, but not uuid/randomInt', () => {
    const folded = compileExpression('toArray(1, 2)');
    expect(folded(scope())).toBe(folded(scope()));
    const dynamic = compileExpression('toArray(1, $Input.x)');
    expect(dynamic(scope())).not.toBe(dynamic(scope()));
    const u = compileExpression('toArray(uuid())');
    expect(u(scope())).not.toEqual(u(scope()));
  });

  it('report run-time errors as FnF.Runtime errors', () => {
    const err = runtimeFailure('length($Input.x)', { input: { x: 1 } });
    expect(err.code).toBe(ErrorNames.Runtime);
    expect(err.toInfo()).toEqual({ Code: 'FnF.Runtime', Detail: err.message });
  });
});
