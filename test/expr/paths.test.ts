import { describe, expect, it } from 'vitest';
import { compileExpression } from '../../src/flow/expr/index.js';
import type { EvalScope } from '../../src/flow/expr/index.js';
import { evaluate, scope, syntaxError } from './helpers.js';

const input = {
  a: { b: { c: 42 } },
  items: [
    { id: 'i1', price: 5, tags: ['x'] },
    { id: 'i2', price: 15, tags: ['y', 'z'] },
    { id: 'i3', price: 25, tags: [] },
  ],
  matrix: [
    [1, 2],
    [3, 4],
  ],
  'a b': { 'c.d': 'dotted' },
  "it's": 'quote',
  zero: 0,
  nothing: null,
  list: ['p', 'q'],
};

describe('simple paths', () => {
  it('reads nested keys', () => {
    expect(evaluate('$Input.a.b.c', { input })).toBe(42);
    expect(evaluate('$Input.a.b', { input })).toEqual({ c: 42 });
    expect(evaluate('$Input', { input })).toBe(input);
  });

  it('reads array indices, including nested and negative ones', () => {
    expect(evaluate('$Input.items[0].id', { input })).toBe('i1');
    expect(evaluate('$Input.items[2].price', { input })).toBe(25);
    expect(evaluate('$Input.matrix[1][0]', { input })).toBe(3);
    expect(evaluate('$Input.items[1].tags[1]', { input })).toBe('z');
    expect(evaluate('$Input.items[-1].id', { input })).toBe('i3');
    expect(evaluate('$Input.list.1', { input })).toBe('q');
  });

  it('reads bracket-quoted keys with any quote style and escapes', () => {
    expect(evaluate('$Input["a b"]["c.d"]', { input })).toBe('dotted');
    expect(evaluate("$Input['a b']['c.d']", { input })).toBe('dotted');
    expect(evaluate('$Input[`a b`]', { input })).toEqual({ 'c.d': 'dotted' });
    expect(evaluate('$Input["it\\u0027s"]', { input })).toBe('quote');
    expect(evaluate('$Input[ "a b" ].x', { input: { 'a b': { x: 1 } } })).toBe(1);
  });

  it('treats $.x as $Input.x and $ alone as $Input', () => {
    expect(evaluate('$.a.b.c', { input })).toBe(42);
    expect(evaluate('$.items[1].id', { input })).toBe('i2');
    expect(evaluate('$', { input })).toBe(input);
    expect(evaluate('$["a b"]["c.d"]', { input })).toBe('dotted');
  });

  it('reads $Global, $Context and $Output', () => {
    const s = { input, global: { counter: 3, cfg: { on: true } }, output: { Body: { y: 'out' } } };
    expect(evaluate('$Global.counter', s)).toBe(3);
    expect(evaluate('$Global.cfg.on', s)).toBe(true);
    expect(evaluate('$Context.Execution.Input.x', s)).toBe(1);
    expect(evaluate('$Context.Current.Name', s)).toBe('S1');
    expect(evaluate('$Output.Body.y', s)).toBe('out');
    expect(evaluate('$Output', s)).toEqual({ Body: { y: 'out' } });
  });

  it('keeps falsy values (0, null, false) as they are', () => {
    expect(evaluate('$Input.zero', { input })).toBe(0);
    expect(evaluate('$Input.nothing', { input })).toBeNull();
    expect(evaluate('$Input.f', { input: { f: false } })).toBe(false);
  });

  it('evaluates the same compiled path against different scopes', () => {
    const ev = compileExpression('$Input.a[0]');
    expect(ev(scope({ input: { a: ['one'] } }))).toBe('one');
    expect(ev(scope({ input: { a: ['two'] } }))).toBe('two');
  });

  it('calls context() only when a $Context path is evaluated', () => {
    let calls = 0;
    const s: EvalScope = {
      input: { x: 1 },
      global: {},
      context: () => {
        calls++;
        return { Current: { Name: 'N' } };
      },
    };
    expect(compileExpression('$Input.x')(s)).toBe(1);
    expect(calls).toBe(0);
    expect(compileExpression('$Context.Current.Name')(s)).toBe('N');
    expect(calls).toBe(1);
  });
});

describe('missing paths evaluate to null', () => {
  it.each([
    ['$Input.nope'],
    ['$Input.a.nope.deeper'],
    ['$Input.items[7]'],
    ['$Input.items[-9]'],
    ['$Input.zero.x'],
    ['$Input.a[0]'],
    ['$Input.items.id'],
    ['$Input.nothing.x'],
    ['$Global.missing'],
    ['$Context.Current.Error.Code'],
  ])('%s → null', (path) => {
    expect(evaluate(path, { input })).toBeNull();
  });

  it('does not read inherited properties', () => {
    expect(evaluate('$Input.constructor', { input })).toBeNull();
    expect(evaluate('$Input.toString', { input })).toBeNull();
    expect(evaluate('$Input.__proto__', { input })).toBeNull();
    expect(evaluate('$Input.items.length', { input })).toBeNull();
  });

  it('reads an own "__proto__" key of parsed JSON', () => {
    const own = JSON.parse('{"__proto__": {"x": 7}, "toString": "own"}') as Record<string, never>;
    expect(evaluate('$Input.__proto__.x', { input: own })).toBe(7);
    expect(evaluate('$Input.toString', { input: own })).toBe('own');
  });

  it('gives null for $Output where no output exists', () => {
    expect(compileExpression('$Output.x', { allowOutput: true })(scope({ input }))).toBeNull();
    expect(compileExpression('$Output', { allowOutput: true })(scope({ input }))).toBeNull();
  });

  it('lets a condition test a missing path against null', () => {
    expect(evaluate('$Input.nope == null', { input })).toBe(true);
    expect(evaluate('$Input.a == null', { input })).toBe(false);
  });
});

describe('JSONPath features (jsonpath-plus)', () => {
  it('returns the array of matches of a wildcard', () => {
    expect(evaluate('$Input.items[*].id', { input })).toEqual(['i1', 'i2', 'i3']);
    expect(evaluate('$.items[*].price', { input })).toEqual([5, 15, 25]);
    expect(evaluate('$Input.a.*', { input })).toEqual([{ c: 42 }]);
  });

  it('returns an empty array when a wildcard matches nothing', () => {
    expect(evaluate('$Input.nope[*].id', { input })).toEqual([]);
    expect(evaluate('$Input.items[*].id', { input: {} })).toEqual([]);
    expect(evaluate('$Input.x[*]', { input: { x: 0 } })).toEqual([]);
  });

  it('supports filters, recursive descent, slices and unions', () => {
    expect(evaluate('$Input.items[?(@.price > 10)].id', { input })).toEqual(['i2', 'i3']);
    expect(evaluate('$Input.a..c', { input })).toEqual([42]);
    expect(evaluate('$Input.items[0:2].id', { input })).toEqual(['i1', 'i2']);
    expect(evaluate('$Input.items[0,2].id', { input })).toEqual(['i1', 'i3']);
    expect(evaluate('$Input.items[-2:].price', { input })).toEqual([15, 25]);
  });

  it('mixes bracket keys and negative indices with JSONPath selectors', () => {
    expect(evaluate('$Input["a b"].*', { input })).toEqual(['dotted']);
    expect(evaluate('$Input.items[-1].tags[*]', { input: { items: [{ tags: ['a'] }, { tags: ['b', 'c'] }] } })).toEqual(['b', 'c']);
  });

  it('works from $Global and $Context roots', () => {
    expect(evaluate('$Global.list[*].n', { global: { list: [{ n: 1 }, { n: 2 }] } })).toEqual([1, 2]);
    expect(evaluate('$Context.Execution.*', {})).toEqual(['exec-1', { x: 1 }]);
  });

  it('can be used inside other expressions', () => {
    expect(evaluate('length($Input.items[*].id)', { input })).toBe(3);
    expect(evaluate('"i2" in $Input.items[*].id', { input })).toBe(true);
  });

  it('refuses bracket keys JSONPath cannot express when combined with selectors', () => {
    const err = syntaxError("$Input[\"it's\"][*]");
    expect(err.position).toBe(0);
    expect(err.message).toContain('JSONPath cannot express');
  });

  it('refuses assignments inside filters', () => {
    const err = syntaxError('$Input.items[?(@.price = 1)]');
    expect(err.message).toContain('==');
    expect(err.position).toBe(13);
  });
});
