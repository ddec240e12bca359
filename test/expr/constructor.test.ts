import { describe, expect, it } from 'vitest';
import { compileConstructor, compileValueTemplate, ConstructorError, isDynamic } from '../../src/flow/expr/index.js';
import type { ConstructorProblem } from '../../src/flow/expr/index.js';
import type { Json, JsonObject } from '../../src/shared/json.js';
import { ErrorNames, FlowrunError } from '../../src/shared/errors.js';
import { scope } from './helpers.js';

function problemsOf(template: JsonObject, options = {}): ConstructorProblem[] {
  try {
    compileConstructor(template, options);
  } catch (e) {
    if (e instanceof ConstructorError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConstructorError');
}

describe('compileConstructor', () => {
  const s = scope({ input: { name: 'Ann', items: [{ id: 1 }, { id: 2 }], n: 2 }, global: { env: 'prod' } });

  it('evaluates keys ending in .$ and strips the suffix', () => {
    const build = compileConstructor({ 'who.$': '$Input.name', 'count.$': 'length($Input.items)', 'env.$': '$Global.env' });
    expect(build(s)).toEqual({ who: 'Ann', count: 2, env: 'prod' });
  });

  it('keeps keys without .$ literal, including strings that look like expressions', () => {
    const build = compileConstructor({ literal: '$Input.name', n: 1, flag: false, nothing: null, 'x.$': '$Input.n' });
    expect(build(s)).toEqual({ literal: '$Input.name', n: 1, flag: false, nothing: null, x: 2 });
  });

  it('constructs nested objects and arrays recursively', () => {
    const build = compileConstructor({
      outer: { 'inner.$': '$Input.items[0].id', deeper: { 'k.$': 'format("hi {}", $Input.name)', keep: 'raw' } },
      list: [{ 'id.$': '$Input.items[1].id' }, 'plain', 3, ['nested', { 'v.$': '$Input.n * 10' }]],
      'arr.$': '[$Input.n, $Input.name]',
    });
    expect(build(s)).toEqual({
      outer: { inner: 1, deeper: { k: 'hi Ann', keep: 'raw' } },
      list: [{ id: 2 }, 'plain', 3, ['nested', { v: 20 }]],
      arr: [2, 'Ann'],
    });
  });

  it('supports $.x shorthand, JSONPath wildcards and $Output when allowed', () => {
    const build = compileConstructor({ 'ids.$': '$Input.items[*].id', 'first.$': '$.items[0]', 'res.$': '$Output.r' }, { allowOutput: true });
    expect(build(scope({ input: { items: [{ id: 'a' }, { id: 'b' }] }, output: { r: 5 } }))).toEqual({ ids: ['a', 'b'], first: { id: 'a' }, res: 5 });
  });

  it('returns a new object on every call', () => {
    const dynamic = compileConstructor({ 'a.$': '$Input.n', nested: { b: 1 } });
    const d1 = dynamic(s);
    const d2 = dynamic(s);
    expect(d1).not.toBe(d2);
    expect(d1).toEqual(d2);
    d1['extra'] = true;
    expect(dynamic(s)).not.toHaveProperty('extra');

    const constant = compileConstructor({ a: 1, nested: { b: [1, 2] } });
    const c1 = constant(s);
    const c2 = constant(s);
    expect(c1).not.toBe(c2);
    expect(c1).toEqual({ a: 1, nested: { b: [1, 2] } });
    c1['a'] = 99;
    delete c1['nested'];
    expect(constant(s)).toEqual({ a: 1, nested: { b: [1, 2] } });
  });

  it('deep-freezes shared nested constants so they cannot be corrupted', () => {
    const build = compileConstructor({ 'x.$': '$Input.n', fixed: { list: [1, 2] } });
    const out = build(s);
    expect(Object.isFrozen(out)).toBe(false);
    expect(Object.isFrozen(out['fixed'])).toBe(true);
    expect(() => ((out['fixed'] as { list: number[] }).list as number[]).push(3)).toThrow(TypeError);
    expect(build(s)['fixed']).toEqual({ list: [1, 2] });
  });

  it('does not freeze or alias the template itself', () => {
    const template: JsonObject = { fixed: { list: [1] }, 'x.$': '$Input.n' };
    const build = compileConstructor(template);
    expect(Object.isFrozen(template['fixed'])).toBe(false);
    expect(build(s)['fixed']).not.toBe(template['fixed']);
  });

  it('reports a non-string value under a .$ key with its pointer', () => {
    const problems = problemsOf({ 'a.$': 5 });
    expect(problems).toHaveLength(1);
    expect(problems[0]?.pointer).toBe('/a.$');
    expect(problems[0]?.message).toContain('must be a string holding an expression');
    expect(problems[0]?.message).toContain('number');
  });

  it('reports every problem at once, with RFC 6901 pointers', () => {
    const problems = problemsOf({
      'ok.$': '$Input.x',
      'bad.$': '$Input.x ==',
      'a/b': { 'c.$': { nested: true }, 'tilde~key.$': 'lenght(1)' },
      list: [{ 'x.$': '$Output.y' }],
      'num.$': 1,
    });
    expect(problems.map((p) => p.pointer)).toEqual(['/bad.$', '/a~1b/c.$', '/a~1b/tilde~0key.$', '/list/0/x.$', '/num.$']);
    expect(problems[0]?.message).toContain('Invalid expression');
    expect(problems[0]?.message).toContain('"==" has nothing on its right');
    expect(problems[1]?.message).toContain('object');
    expect(problems[2]?.message).toContain('did you mean "length"?');
    expect(problems[3]?.message).toContain('$Output is only available');
  });

  it('lists all problems in the error message', () => {
    try {
      compileConstructor({ 'a.$': 1, b: { 'c.$': '(' } });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConstructorError);
      const msg = (e as Error).message;
      expect(msg).toContain('2 problems');
      expect(msg).toContain('/a.$');
      expect(msg).toContain('/b/c.$');
    }
  });

  it('reports keys that produce the same output key', () => {
    const problems = problemsOf({ x: 1, 'x.$': '$Input.n' });
    expect(problems).toEqual([{ pointer: '/x.$', message: expect.stringContaining('"x" and "x.$" both produce the output key "x"') }]);
  });

  it('allows $Output only with allowOutput', () => {
    expect(problemsOf({ 'o.$': '$Output' })[0]?.pointer).toBe('/o.$');
    expect(() => compileConstructor({ 'o.$': '$Output' }, { allowOutput: true })).not.toThrow();
  });

  it('rejects a template that is not an object', () => {
    expect(() => compileConstructor([] as unknown as JsonObject)).toThrow(ConstructorError);
  });

  it('adds the failing key to run-time errors', () => {
    const build = compileConstructor({ outer: { 'len.$': 'length($Input.n)' } });
    try {
      build(s);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(FlowrunError);
      const err = e as FlowrunError;
      expect(err.code).toBe(ErrorNames.Runtime);
      expect(err.message).toContain('length: ');
      expect(err.message).toContain('/outer/len.$');
      expect(err.details?.['pointer']).toBe('/outer/len.$');
    }
  });

  it('builds objects with many keys, keeping key order', () => {
    const template: JsonObject = {};
    for (let i = 0; i < 12; i++) template[i % 2 === 0 ? `k${i}.$` : `k${i}`] = i % 2 === 0 ? `$Input.n + ${i}` : i;
    const out = compileConstructor(template)(s);
    expect(Object.keys(out)).toEqual(Array.from({ length: 12 }, (_, i) => `k${i}`));
    expect(out['k0']).toBe(2);
    expect(out['k1']).toBe(1);
    expect(out['k10']).toBe(12);
    expect(out['k11']).toBe(11);
  });

  it('creates a "__proto__" output key as an own property', () => {
    const out = compileConstructor({ '__proto__.$': '$Input.n' })(s);
    expect(Object.keys(out)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });
});

describe('compileValueTemplate', () => {
  const s = scope({ input: { a: 1, b: 'B' } });

  it('handles objects like compileConstructor', () => {
    expect(compileValueTemplate({ 'x.$': '$Input.a', y: 'lit' })(s)).toEqual({ x: 1, y: 'lit' });
  });

  it('handles arrays and primitives', () => {
    expect(compileValueTemplate([{ 'x.$': '$Input.b' }, 2])(s)).toEqual([{ x: 'B' }, 2]);
    expect(compileValueTemplate('$Input.a')(s)).toBe('$Input.a');
    expect(compileValueTemplate(7)(s)).toBe(7);
    expect(compileValueTemplate(null)(s)).toBeNull();
  });

  it('returns a new top-level array or object for constant templates', () => {
    const arr = compileValueTemplate([1, 2]);
    const a1 = arr(s) as Json[];
    a1.push(3);
    expect(arr(s)).toEqual([1, 2]);
    const obj = compileValueTemplate({ k: 'v' });
    expect(obj(s)).not.toBe(obj(s));
  });

  it('reports problems with pointers relative to the value', () => {
    try {
      compileValueTemplate([{ ok: 1 }, { 'bad.$': true }]);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConstructorError);
      expect((e as ConstructorError).problems.map((p) => p.pointer)).toEqual(['/1/bad.$']);
    }
  });
});

describe('isDynamic', () => {
  it.each<[Json, boolean]>([
    [{ a: 1 }, false],
    [{ 'a.$': '$Input' }, true],
    [{ a: { b: [{ 'c.$': '1' }] } }, true],
    [[1, { x: 'y' }], false],
    [[{ 'x.$': 'y' }], true],
    ['x.$', false],
    [{ 'a.$b': 1 }, false],
    [null, false],
  ])('%j → %s', (template, expected) => {
    expect(isDynamic(template)).toBe(expected);
  });
});
