import { describe, expect, it } from 'vitest';
import { compileCondition, compileExpression } from '../../src/flow/expr/index.js';
import { ErrorNames } from '../../src/shared/errors.js';
import { evaluate, runtimeFailure, scope } from './helpers.js';

describe('precedence and associativity', () => {
  it('binds ! tighter than && tighter than ||', () => {
    // !a && b || c  ==  ((!a) && b) || c
    const cases: [boolean, boolean, boolean][] = [];
    for (const a of [true, false]) for (const b of [true, false]) for (const c of [true, false]) cases.push([a, b, c]);
    const ev = compileCondition('!$Input.a && $Input.b || $Input.c');
    for (const [a, b, c] of cases) {
      expect(ev(scope({ input: { a, b, c } })), `a=${a} b=${b} c=${c}`).toBe((!a && b) || c);
    }
  });

  it('parentheses override precedence', () => {
    const ev = compileCondition('!($Input.a && $Input.b)');
    expect(ev(scope({ input: { a: true, b: false } }))).toBe(true);
    expect(ev(scope({ input: { a: true, b: true } }))).toBe(false);
    const ev2 = compileCondition('$Input.a && ($Input.b || $Input.c)');
    expect(ev2(scope({ input: { a: false, b: true, c: true } }))).toBe(false);
    expect(evaluate('true || false && false')).toBe(true);
    expect(evaluate('(true || false) && false')).toBe(false);
  });

  it('handles unary minus in comparisons', () => {
    expect(evaluate('-1 < 0')).toBe(true);
    expect(evaluate('-$Input.n < 0', { input: { n: 3 } })).toBe(true);
    expect(evaluate('- -2 == 2')).toBe(true);
    expect(evaluate('!!true')).toBe(true);
  });

  it('multiplies before adding and associates to the left', () => {
    expect(evaluate('1 + 2 * 3 == 7')).toBe(true);
    expect(evaluate('(1 + 2) * 3')).toBe(9);
    expect(evaluate('10 - 4 - 3')).toBe(3);
    expect(evaluate('8 / 2 / 2')).toBe(2);
    expect(evaluate('7 % 3 + 1')).toBe(2);
    expect(evaluate('2 * 3 > 5 && 1 + 1 == 2')).toBe(true);
    expect(evaluate('$Input.a * 2 + $Input.b', { input: { a: 4, b: 1 } })).toBe(9);
  });

  it('needs no spaces around operators', () => {
    expect(evaluate('$Input.a-1', { input: { a: 5 } })).toBe(4);
    expect(evaluate('$Input.items[0].id==1&&!$Input.f', { input: { items: [{ id: 1 }], f: false } })).toBe(true);
    expect(evaluate('"a"in$Input.l', { input: { l: ['a'] } })).toBe(true);
  });

  it('compares arithmetic results with comparison operators below them', () => {
    expect(evaluate('1 + 1 < 3')).toBe(true);
    expect(evaluate('1 < 2 == true')).toBe(true);
  });
});

describe('literals', () => {
  it('parses strings with all quote styles and escapes', () => {
    expect(evaluate('"a\\"b"')).toBe('a"b');
    expect(evaluate("'it\\'s'")).toBe("it's");
    expect(evaluate('`back`')).toBe('back');
    expect(evaluate('"tab\\tnl\\nbs\\\\"')).toBe('tab\tnl\nbs\\');
    expect(evaluate('"\\u00e9\\u4e2d"')).toBe('é中');
    expect(evaluate('"it\'s"')).toBe("it's");
  });

  it('parses numbers: integers, decimals, exponents', () => {
    expect(evaluate('42')).toBe(42);
    expect(evaluate('12.5')).toBe(12.5);
    expect(evaluate('1e3')).toBe(1000);
    expect(evaluate('1.5E-1')).toBe(0.15);
    expect(evaluate('2e+2')).toBe(200);
  });

  it('parses true, false, null, arrays and maps', () => {
    expect(evaluate('true')).toBe(true);
    expect(evaluate('false')).toBe(false);
    expect(evaluate('null')).toBeNull();
    expect(evaluate('[1, "a", $Input.x, [true]]', { input: { x: { y: 1 } } })).toEqual([1, 'a', { y: 1 }, [true]]);
    expect(evaluate('{"k": 1, \'j\': $Input.y, bare: [null]}', { input: { y: 'Y' } })).toEqual({ k: 1, j: 'Y', bare: [null] });
    expect(evaluate('[]')).toEqual([]);
    expect(evaluate('{}')).toEqual({});
  });

  it('builds maps and arrays of any size', () => {
    const keys = Array.from({ length: 11 }, (_, i) => `k${i}`);
    const src = `{${keys.map((k, i) => `"${k}": $Input.v + ${i}`).join(', ')}}`;
    const expected = Object.fromEntries(keys.map((k, i) => [k, 10 + i]));
    const v = evaluate(src, { input: { v: 10 } }) as Record<string, unknown>;
    expect(v).toEqual(expected);
    expect(Object.keys(v)).toEqual(keys);
    expect(evaluate('[$Input.v, $Input.v, $Input.v, 1]', { input: { v: 2 } })).toEqual([2, 2, 2, 1]);
  });

  it('creates a map key "__proto__" as an own property', () => {
    const v = evaluate('{"__proto__": $Input.x}', { input: { x: 1 } }) as Record<string, unknown>;
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
  });

  it('shares deep-frozen constant values and builds dynamic ones per call', () => {
    const constant = compileExpression('[1, {"a": 2}]');
    const first = constant(scope());
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen((first as unknown[])[1])).toBe(true);
    expect(constant(scope())).toBe(first);
    const dynamic = compileExpression('[1, $Input.x]');
    const d1 = dynamic(scope({ input: { x: 1 } }));
    expect(Object.isFrozen(d1)).toBe(false);
    expect(dynamic(scope({ input: { x: 1 } }))).not.toBe(d1);
  });
});

describe('equality', () => {
  it.each([
    ['1 == 1.0', true],
    ['"1" == 1', false],
    ['"a" == "a"', true],
    ['null == null', true],
    ['null == false', false],
    ['0 == false', false],
    ['[1, [2, {"a": 3}]] == [1, [2, {"a": 3}]]', true],
    ['[1, 2] == [2, 1]', false],
    ['{"a": 1, "b": 2} == {"b": 2, "a": 1}', true],
    ['{"a": 1} == {"a": 1, "b": null}', false],
    ['[] == {}', false],
    ['1 != 2', true],
    ['"x" != "x"', false],
  ])('%s → %s', (src, expected) => {
    expect(evaluate(src)).toBe(expected);
  });

  it('compares paths structurally', () => {
    const input = { a: { x: [1, 2] }, b: { x: [1, 2] }, c: { x: [1, 3] } };
    expect(evaluate('$Input.a == $Input.b', { input })).toBe(true);
    expect(evaluate('$Input.a != $Input.c', { input })).toBe(true);
    expect(evaluate('$Input.a.x[0] == 1', { input })).toBe(true);
    expect(evaluate('1 == $Input.a.x[0]', { input })).toBe(true);
    expect(evaluate('$Input.a == {"x": [1, 2]}', { input })).toBe(true);
  });
});

describe('ordering comparisons', () => {
  it.each([
    ['1 < 2', true],
    ['2 <= 2', true],
    ['3 > 2.5', true],
    ['2 >= 3', false],
    ['"apple" < "banana"', true],
    ['"b" >= "a"', true],
    ['"Z" < "a"', true],
    ['"10" < 9', false],
    ['"10" >= 9', false],
    ['1 < "2"', false],
    ['null < 1', false],
    ['true > false', false],
    ['[1] < [2]', false],
  ])('%s → %s', (src, expected) => {
    expect(evaluate(src)).toBe(expected);
  });

  it('compares values read from paths', () => {
    const ev = compileCondition('$Input.n >= 10 && $Input.s < "m"');
    expect(ev(scope({ input: { n: 10, s: 'a' } }))).toBe(true);
    expect(ev(scope({ input: { n: '10', s: 'a' } }))).toBe(false);
    expect(ev(scope({ input: { n: 11, s: 'z' } }))).toBe(false);
  });
});

describe('in', () => {
  it.each([
    ['2 in [1, 2, 3]', true],
    ['4 in [1, 2, 3]', false],
    ['"2" in [1, 2, 3]', false],
    ['{"a": [1]} in [{"a": [1]}, 2]', true],
    ['[1] in [[1], [2]]', true],
    ['"k" in {"k": null}', true],
    ['"x" in {"k": 1}', false],
    ['"toString" in {"k": 1}', false],
    ['"ell" in "hello"', true],
    ['"xyz" in "hello"', false],
    ['1 in "a1"', false],
    ['1 in {"1": true}', false],
    ['"a" in null', false],
    ['"a" in 5', false],
  ])('%s → %s', (src, expected) => {
    expect(evaluate(src)).toBe(expected);
  });

  it('works with paths on both sides', () => {
    const input = { status: 'ready', allowed: ['ready', 'done'], headers: { auth: 'x' } };
    expect(evaluate('$Input.status in $Input.allowed', { input })).toBe(true);
    expect(evaluate('"auth" in $Input.headers', { input })).toBe(true);
    expect(evaluate('"other" in $Input.headers', { input })).toBe(false);
    expect(evaluate('!("eady" in $Input.status)', { input })).toBe(false);
  });
});

describe('logical operators and truthiness', () => {
  it('treats only true as true', () => {
    expect(evaluate('1 && true')).toBe(false);
    expect(evaluate('"yes" || false')).toBe(false);
    expect(evaluate('!1')).toBe(true);
    expect(evaluate('!null')).toBe(true);
    expect(evaluate('!$Input.flag', { input: { flag: 'true' } })).toBe(true);
    expect(evaluate('$Input.a && $Input.b', { input: { a: true, b: true } })).toBe(true);
    expect(evaluate('$Input.a || $Input.b', { input: { a: 0, b: true } })).toBe(true);
  });

  it('short-circuits', () => {
    const input = { s: 'text' };
    // -$Input.s would throw if evaluated
    expect(evaluate('$Input.f && -$Input.s == 1', { input: { ...input, f: false } })).toBe(false);
    expect(evaluate('$Input.t || -$Input.s == 1', { input: { ...input, t: true } })).toBe(true);
    expect(evaluate('false && -$Input.s == 1', { input })).toBe(false);
    expect(evaluate('true || -$Input.s == 1', { input })).toBe(true);
    expect(runtimeFailure('true && -$Input.s == 1', { input }).code).toBe(ErrorNames.Runtime);
  });

  it('compileCondition returns true only for exactly true', () => {
    expect(compileCondition('$Input.v')(scope({ input: { v: true } }))).toBe(true);
    expect(compileCondition('$Input.v')(scope({ input: { v: 'true' } }))).toBe(false);
    expect(compileCondition('$Input.v')(scope({ input: { v: 1 } }))).toBe(false);
    expect(compileCondition('$Input.missing')(scope({ input: {} }))).toBe(false);
    expect(compileCondition('$Input.status == "ready"')(scope({ input: { status: 'ready' } }))).toBe(true);
    expect(compileCondition('1 < 2')(scope())).toBe(true);
    expect(compileCondition('"x"')(scope())).toBe(false);
  });
});

describe('arithmetic', () => {
  it('adds numbers and concatenates strings', () => {
    expect(evaluate('$Input.a + $Input.b', { input: { a: 1.5, b: 2 } })).toBe(3.5);
    expect(evaluate('$Input.a + "-" + $Input.b', { input: { a: 'x', b: 'y' } })).toBe('x-y');
  });

  it('fails at run time on wrong operand types', () => {
    const plus = runtimeFailure('$Input.a + $Input.b', { input: { a: 'x', b: 1 } });
    expect(plus.code).toBe(ErrorNames.Runtime);
    expect(plus.message).toMatch(/"\+" at column 10 needs two numbers or two strings, but got string and number/);
    const minus = runtimeFailure('$Input.a - 1', { input: { a: '5' } });
    expect(minus.code).toBe(ErrorNames.Runtime);
    expect(minus.message).toContain('needs two numbers');
    expect(runtimeFailure('$Input.a * 2', { input: { a: null } }).message).toContain('null and number');
    const neg = runtimeFailure('-$Input.a', { input: { a: 'x' } });
    expect(neg.code).toBe(ErrorNames.Runtime);
    expect(neg.message).toContain('needs a number, but got string');
  });

  it('fails at run time on division by zero and overflow', () => {
    expect(runtimeFailure('1 / $Input.z', { input: { z: 0 } }).message).toContain('division by zero');
    expect(runtimeFailure('5 % $Input.z', { input: { z: 0 } }).message).toContain('division by zero');
    expect(runtimeFailure('$Input.big * 10', { input: { big: 1e308 } }).message).toContain('not a finite number');
  });

  it('computes constant arithmetic at compile time', () => {
    expect(evaluate('-(2 * 3) + 10 % 4')).toBe(-4);
    expect(evaluate('1 / 4')).toBe(0.25);
  });
});
