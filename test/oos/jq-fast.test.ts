/**
 * The jq fast path against jq itself: every filter × input runs through the fast path and through
 * jq-web (in this thread, as the reference), and the results must be identical — or the fast path
 * must step aside (undefined) so that jq-web runs and gives jq's own error.
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fastCacheSize, fastProgram, parseFastPath, runFastPath } from '../../src/engine/actions/jq-fast.js';
import { jqCallCounts, jqSyntaxError, jqValues } from '../../src/engine/actions/jq.js';
import type { Json } from '../../src/shared/json.js';

interface JqWeb {
  raw(input: string, filter: string, flags?: string[]): string | undefined;
}
const jqWeb = await (createRequire(import.meta.url)('jq-web') as Promise<JqWeb>);

type Ref = { values: Json[] } | { error: string };

/** jq-web in this thread: the values of `filter` on `input`, or jq's error text. */
function reference(filter: string, input: unknown): Ref {
  const saved = process.exitCode;
  try {
    const out = jqWeb.raw(JSON.stringify(input) ?? 'null', filter, ['-c']) ?? '';
    return { values: out.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Json) };
  } catch (err) {
    return { error: (err as Error).message };
  } finally {
    process.exitCode = saved;
  }
}

/** The same text, key order included (toStrictEqual does not look at key order). */
const text = (values: Json[]): string => JSON.stringify(values);

const describeInstances = JSON.parse(
  JSON.stringify({
    RequestId: 'r-1',
    TotalCount: 2,
    Instances: {
      Instance: [
        { InstanceId: 'i-1', Status: 'Running', Cpu: 2, Tags: { Tag: [{ TagKey: 'env', TagValue: 'prod' }] }, VpcAttributes: { PrivateIpAddress: { IpAddress: ['10.0.0.1'] } } },
        { InstanceId: 'i-2', Status: 'Stopped', Cpu: 4, Tags: { Tag: [] }, VpcAttributes: { PrivateIpAddress: { IpAddress: ['10.0.0.2', '10.0.0.3'] } } },
      ],
    },
  }),
) as Json;

const INPUTS: unknown[] = [
  null,
  true,
  false,
  0,
  1.5,
  -3,
  1e300,
  5e-324,
  2 ** 53 + 2,
  0.1 + 0.2,
  123456789012345680000,
  'str',
  '',
  'héllo 😀',
  [],
  [1, 2, 3],
  [[1, [2]], [3], null, 'x'],
  [{ a: 1 }, { a: 2, b: [1] }, { b: 3 }],
  [null, { a: null }],
  {},
  { a: 1 },
  { a: null },
  { a: 'str' },
  { a: true, b: 1.25 },
  { a: { b: { c: 1 } } },
  { a: [{ b: 1 }, { b: 2 }, { c: 3 }], b: { c: [[1, 2], [3]] } },
  { a: [1, 'x', { b: 2 }, null, [4]] },
  { a: { b: [null, { c: 'deep' }] } },
  { b: 1, a: 2, '2': 3, '1': 4, '10': 5, '-1': 6, 'x y': 7 },
  { 'key with space': 1, é: 2, 日本: 3, '😀': 4, 'a"b': 5, 'a\\b': 6, '\n': 7, '\u0000': 8, '': 9, '1': 10, if: 11, end: 12 },
  JSON.parse('{"__proto__": {"x": 1}, "constructor": 2}') as unknown,
  { toString: 'no', valueOf: { a: 1 }, hasOwnProperty: [1] },
  { a: [[[[[[['deep']]]]]]] },
  describeInstances,
];

const FILTERS = [
  '.',
  ' . ',
  '.a',
  '.b',
  '.c',
  '.missing',
  '."a"',
  '.["a"]',
  '."key with space"',
  '.["key with space"]',
  '.["x y"]',
  '.a.b',
  '.a.b.c',
  '.a.b.c.d',
  '.a[0]',
  '.a[1]',
  '.a[2]',
  '.a[-1]',
  '.a[-2]',
  '.a[-5]',
  '.a[5]',
  '.[0]',
  '.[1]',
  '.[-1]',
  '.[-3]',
  '.[-4]',
  '.[3]',
  '.[007]',
  '.[-0]',
  '.[999999999]',
  '.[-999999999]',
  '.[]',
  '.[][]',
  '.[][][]',
  '.a[]',
  '.a[].b',
  '.a[].b[]',
  '.a[][]',
  '.b.c[]',
  '.b.c[][]',
  '.b.c[0][1]',
  '.a[0].b',
  '.a[1].b[0]',
  '.a.b[1].c',
  '.a.[0]',
  '.a.[]',
  '.a."b"',
  '.a.["b"]',
  '."a"."b"',
  '.["a"]["b"]',
  '.["a"].b',
  '.a?',
  '.a[]?',
  '.[]?',
  '.[]?[]?',
  '.[0]?',
  '.["a"]?',
  '."a"?',
  '.a.b?',
  '.a?.b',
  '.a?.b?',
  '.[]?.a?',
  '.[].a?',
  '.[]?.b',
  '.a[]?.b?',
  '.a[]?.b',
  '.a.b?.c',
  '.a[0]?.b',
  '.a | .b',
  '.a|.[]',
  '.a | .[0] | .b',
  '. | .',
  '.|.|.a',
  ' .a ',
  '.a\t|\n.b',
  '\n.a\n',
  '."é"',
  '."日本"',
  '."\\u00e9"',
  '."\\u65e5\\u672c"',
  '."😀"',
  '."a\\"b"',
  '."a\\\\b"',
  '."\\n"',
  '.["\\u0000"]',
  '.["\\/"]',
  '.""',
  '.[""]',
  '."1"',
  '.["10"]',
  '.["-1"]',
  '.if',
  '.end',
  '.__proto__',
  '.__proto__.x',
  '.constructor',
  '.toString',
  '.valueOf.a',
  '.hasOwnProperty[0]',
  '.a[0][0][0][0][0][0][0]',
  '.Instances.Instance[].InstanceId',
  '.Instances.Instance[0].Tags.Tag[].TagValue',
  '.Instances.Instance[].VpcAttributes.PrivateIpAddress.IpAddress[]',
  '.Instances.Instance[-1].Cpu',
  '.Instances.Instance[].Tags.Tag[0].TagKey',
  '.Instances.Instance[] | .Status',
  '.Instances.Instance[]?.Nope[]?',
  '.Instances.Nope[]?.x',
  '.TotalCount',
  '.RequestId',
];

describe('jq fast path, differential against jq-web', () => {
  it('every filter in the list is in the subset', () => {
    for (const f of FILTERS) expect(parseFastPath(f), f).toBeDefined();
  });

  it('gives jq’s values, or steps aside exactly where jq fails', () => {
    let fast = 0;
    let failures = 0;
    for (const filter of FILTERS) {
      const program = parseFastPath(filter);
      if (!program) throw new Error(`not in the subset: ${filter}`);
      for (const input of INPUTS) {
        const ref = reference(filter, input);
        const got = runFastPath(program, input as Json);
        const what = `${JSON.stringify(filter)} on ${JSON.stringify(input)?.slice(0, 80)}`;
        if ('error' in ref) {
          // jq fails: the fast path must not answer (jq-web then gives the error).
          expect(got, what).toBeUndefined();
          failures++;
        } else {
          expect(got, what).toBeDefined();
          expect(text(got ?? []), what).toBe(text(ref.values));
          expect(got, what).toStrictEqual(ref.values);
          fast++;
        }
      }
    }
    // Both sides are exercised substantially.
    expect(fast).toBeGreaterThan(1200);
    expect(failures).toBeGreaterThan(1200);
  });

  it('jqValues gives jq’s error message (through jq-web) where the fast path steps aside', () => {
    const cases: [string, unknown][] = [
      ['.a', [1]],
      ['.a', 'str'],
      ['.a', 1],
      ['.a.b', { a: true }],
      ['.[0]', {}],
      ['.[0]', 'abc'],
      ['.["a"]', [1]],
      ['.[]', null],
      ['.[]', 1],
      ['.a[]', { a: 'str' }],
      ['.[].a', [{ a: 1 }, 'x', { a: 2 }]],
      ['"s" | .a[]?', 's'],
      ['.a[]?', 's'],
      ['.a?.b', { a: 's' }],
    ];
    for (const [filter, input] of cases) {
      const ref = reference(filter, input);
      expect('error' in ref, filter).toBe(true);
      const message = 'error' in ref ? (ref.error.split('\n').find((l) => l.startsWith('jq: error')) ?? '').replace(/^jq: error \(at [^)]*\): /, '') : '';
      expect(message, filter).not.toBe('');
      expect(() => jqValues(filter, input as Json), filter).toThrow(expect.objectContaining({ code: 'OOS.JqError', message: `jq ${JSON.stringify(filter)}: ${message}` }));
    }
  });

  it('inputs jq-web would not see as they are go to jq-web', () => {
    const program = parseFastPath('.a');
    if (!program) throw new Error('not parsed');
    const odd: unknown[] = [
      { a: -0 },
      { a: Number.NaN },
      { a: Number.POSITIVE_INFINITY },
      { a: undefined },
      { a: 1, b: () => 1 },
      { a: new Date(0) },
      { a: 1, b: '\ud800' },
      { a: 1, '\udc00': 1 },
      // eslint-disable-next-line no-sparse-arrays -- a hole: JSON.stringify makes it null
      { a: [1, , 3] },
      { a: 1n },
      new Map([['a', 1]]),
      { a: JSON.parse('['.repeat(150) + ']'.repeat(150)) as unknown },
    ];
    for (const input of odd) expect(runFastPath(program, input as Json)).toBeUndefined();
    // What jqValues then gives is jq-web's answer on JSON.stringify(input).
    expect(jqValues('.a', { a: -0 } as Json)).toStrictEqual([0]);
    expect(jqValues('.a', { a: Number.NaN } as Json)).toStrictEqual([null]);
    expect(jqValues('.b', { a: undefined, b: 1 } as unknown as Json)).toStrictEqual([1]);
    expect(() => jqValues('.a', { a: '\ud800' })).toThrow(/surrogate/);
    const deep = JSON.parse('['.repeat(150) + ']'.repeat(150)) as Json;
    expect(jqValues('.[0][0]', deep)).toStrictEqual([JSON.parse('['.repeat(148) + ']'.repeat(148))]);
  });

  it('returns copies, never parts of its input', () => {
    const input = { a: { b: [1, { c: 2 }] } };
    const [got] = jqValues('.a', input) as [{ b: unknown[] }];
    expect(got).toEqual(input.a);
    expect(got).not.toBe(input.a);
    got.b.push(3);
    expect(input.a.b).toHaveLength(2);
    const [own] = jqValues('.', JSON.parse('{"__proto__": {"x": 1}}') as Json) as [object];
    expect(Object.getPrototypeOf(own)).toBe(Object.prototype);
    expect(Object.keys(own)).toEqual(['__proto__']);
  });

  it('filters outside the subset are not parsed (and jq-web gives the same answers through jqValues)', () => {
    const outside = [
      '',
      '..',
      '.a,.b',
      '.a // 1',
      '.[1:2]',
      '.a .b',
      '. a',
      '. .a',
      '.[ 0]',
      '.[ "a" ]',
      '.a??',
      '.a ?',
      '.?',
      '."\\(1)"',
      '."\\ud83d\\ude00"',
      '."\\a"',
      '."a\tb"',
      '.a::b',
      'length',
      '.a\r',
      '.[1.5]',
      '.[1e2]',
      '.[1234567890]',
      '.[-]',
      '.[+1]',
      '.a|',
      '|.a',
      '.a | | .b',
      '.é',
      '.a#c',
      '.a.',
      '.a"b"',
      '.[]a',
      '$__loc__',
      '.a-1',
      '.a[0]b',
      '[.a]',
      '.["a"',
      '."a',
    ];
    for (const f of outside) expect(parseFastPath(f), JSON.stringify(f)).toBeUndefined();
    const inputs: Json[] = [{ a: { b: 1 }, '😀': 2 }, [1, 2, 3], null];
    for (const f of outside) {
      for (const input of inputs) {
        const ref = reference(f, input);
        if ('error' in ref) expect(() => jqValues(f, input), f).toThrow(expect.objectContaining({ code: 'OOS.JqError' }));
        else expect(jqValues(f, input), f).toStrictEqual(ref.values);
      }
    }
  });

  it('random JSON × random paths agree with jq-web (property)', () => {
    const keys = ['a', 'b', 'key with space', 'é', '0', '__proto__', ''];
    const key = fc.constantFrom(...keys);
    const step = fc.oneof(
      key.map((k) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? `.${k}` : `.${JSON.stringify(k)}`)),
      key.map((k) => `[${JSON.stringify(k)}]`),
      fc.integer({ min: -4, max: 4 }).map((n) => `[${n}]`),
      fc.constant('[]'),
    );
    // Each step: its text, optional `?`, and how it joins the previous one ('' / '.' before a
    // bracket / ' | ').
    const path = fc.array(fc.tuple(step, fc.boolean(), fc.constantFrom('', '.', ' | ')), { maxLength: 5 }).map((steps) => {
      let out = '';
      steps.forEach(([s, opt, join], i) => {
        const bracket = s.startsWith('[');
        const sep = i === 0 || join === ' | ' ? (i === 0 ? '' : ' | ') : '';
        const dot = bracket && (i === 0 || join !== '') ? '.' : '';
        out += sep + dot + s + (opt ? '?' : '');
      });
      return out === '' ? '.' : out;
    });
    const value: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
      v: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.constantFrom(null, true, false, 0, -1, 2.5, 'x', ''),
        fc.array(tie('v'), { maxLength: 4 }),
        fc.dictionary(key, tie('v'), { maxKeys: 4 }),
      ),
    })).v;
    let fastCount = 0;
    fc.assert(
      fc.property(path, value, (filter, input) => {
        const program = parseFastPath(filter);
        expect(program, filter).toBeDefined();
        const ref = reference(filter, input);
        const got = runFastPath(program ?? [], input as Json);
        if ('error' in ref) {
          expect(got, filter).toBeUndefined();
        } else {
          fastCount++;
          expect(text(got ?? []), filter).toBe(text(ref.values));
        }
      }),
      { numRuns: 1000 },
    );
    expect(fastCount).toBeGreaterThan(200);
  });

  it('parses a filter once (bounded cache) and keeps common selectors off jq-web', () => {
    const before = jqCallCounts();
    for (let i = 0; i < 100; i++) expect(jqValues('.Pong', { Pong: 'pong' })).toEqual(['pong']);
    expect(jqValues('.Instances.Instance[].InstanceId', describeInstances)).toEqual(['i-1', 'i-2']);
    const after = jqCallCounts();
    expect(after.jqWeb - before.jqWeb).toBe(0);
    expect(after.fastPath - before.fastPath).toBe(101);
    expect(fastProgram('.Pong')).toBe(fastProgram('.Pong'));
    for (let i = 0; i < 1500; i++) fastProgram(`.k${i}`);
    expect(fastCacheSize()).toBe(1000);
    // The syntax check of a fast-path filter does not need jq-web either.
    expect(jqSyntaxError('.Instances.Instance[].InstanceId')).toBeUndefined();
    expect(jqCallCounts().jqWeb - before.jqWeb).toBe(0);
  });
});
