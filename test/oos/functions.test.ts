import { describe, expect, it } from 'vitest';
import { AGGREGATORS, FUNCTIONS, makeEnv, outputKey, ValueCompiler } from '../../src/oos/index.js';
import type { Problem } from '../../src/oos/index.js';
import type { Json } from '../../src/shared/json.js';
import { START } from './helpers.js';

const env = makeEnv({
  parameters: { list: [3, 1, 2], name: 'web', yes: 'true', t: '2026-01-01T10:00:00Z', hours: 5 },
  global: { [outputKey('t', 'missing')]: null },
  now: () => START + 3 * 3_600_000 + 30 * 60_000, // 03:30 UTC
});

function fn(raw: unknown): Json {
  const problems: Problem[] = [];
  const compiled = new ValueCompiler({ parameters: ['list', 'name', 'yes', 't', 'hours'], tasks: new Map() }, problems).compile(raw, '', {
    loopItem: false,
    rawTaskPaths: false,
    tasks: true,
  });
  expect(problems).toEqual([]);
  return compiled(env);
}

/** One or more [argument, expected] cases per function; every implemented function must appear. */
const CASES: Record<string, [unknown, Json][]> = {
  'Fn::Base64Encode': [['hello', 'aGVsbG8=']],
  'Fn::Base64Decode': [['aGVsbG8=', 'hello'], [['aMOpbGxvCg=='], 'héllo\n']],
  'Fn::MergeMapToList': [
    [
      [{ k1: ['a', 'b'] }, { k2: ['x', 'y', 'z'] }],
      [
        { k1: 'a', k2: 'x' },
        { k1: 'b', k2: 'y' },
        { k1: 'b', k2: 'z' },
      ],
    ],
  ],
  'Fn::MergeMap': [[[{ a: 1, b: 1 }, { b: 2 }], { a: 1, b: 2 }]],
  'Fn::Join': [[[',', ['a', 1, true]], 'a,1,true'], [['-', '{{ list }}'], '3-1-2']],
  'Fn::Select': [[[1, ['a', 'b']], 'b'], [['-1', ['a', 'b']], 'b'], [['k', { k: 'v' }], 'v']],
  'Fn::Split': [[[',', 'a,b,,c'], ['a', 'b', '', 'c']]],
  'Fn::Replace': [[[{ '-': '_', web: 'app' }, 'web-1-x'], 'app_1_x']],
  'Fn::Min': [['{{ list }}', 1], [[['10', '9']], '9']],
  'Fn::Max': [['{{ list }}', 3], [['b', 'a', 'c'], 'c']],
  'Fn::First': [['{{ list }}', 3], [[['x', 'y']], 'x']],
  'Fn::Last': [['{{ list }}', 2]],
  'Fn::ListJoin': [[['{{ name }}', 2, ['x']], ['web', 2, ['x']]]],
  'Fn::MergeList': [[[[1, 2], [3], 4], [1, 2, 3, 4]]],
  'Fn::Equals': [
    [['a', 'a'], true],
    [[true, '{{ yes }}'], true],
    [['1', 1], true],
    [[{ a: [1] }, { a: [1] }], true],
    [['a', 'b'], false],
    [[0, false], false],
  ],
  'Fn::If': [[[true, 'yes', 'no'], 'yes'], [['false', 'yes', 'no'], 'no']],
  'Fn::Not': [[true, false], ['false', true], [[false], true]],
  'Fn::And': [[[true, 'true'], true], [[true, false], false]],
  'Fn::Or': [[[false, 'false'], false], [[false, true], true]],
  'Fn::AddHour': [[['{{ t }}', '{{ hours }}'], '2026-01-01T15:00:00Z'], [['2026-01-01T10:00Z', -11], '2025-12-31T23:00:00Z']],
  'Fn::FormatUTCTime': [[['{{ t }}', '%Y-%m-%dT00:00Z'], '2026-01-01T00:00Z'], [['2026-03-05T07:08:09Z', '%y%j %H:%M:%S %a %b %%'], '26064 07:08:09 Thu Mar %']],
  'Fn::Eval': [[['(3 * 4) // 5 + 2 ** 3'], 10], ['1 < 2 < 3 and not False', true], [['len([1, 2]) + int("40")'], 42], ["'a' + 'b' in ['ab', 'cd']", true]],
  'Fn::CalculateTimeByOpsWindow': [[['02:00', '04:00'], '2026-01-01T03:30:00Z'], [['05:00', '06:00'], '2026-01-01T05:00:00Z'], [['01:00', '02:00'], '2026-01-02T01:00:00Z']],
  'Fn::Intersection': [[[[1, 2, 3], [2, 3, 4], [3, 2]], [2, 3]]],
  'Fn::Union': [[[[1, 2], [2, 3]], [1, 2, 3]]],
  'Fn::Difference': [[[[1, 2, 3], [2, 3, 4]], [1, 4]]],
  'Fn::Jq': [
    [['First', '.a[] | select(. > 1)', { a: [1, 2, 3] }], 2],
    [['All', '.a[]', { a: [1, 2] }], [1, 2]],
    [['First', '(3 / 4) >= 80/100', '{"": ""}'], false],
    [['First', '.missing', {}], null],
  ],
  'Fn::MapJoin': [[[['a', 'b'], [1, 2]], { a: 1, b: 2 }]],
  'Fn::IsIpInCIDR': [
    [['192.168.1.7', '192.168.0.0/16'], true],
    [['10.0.0.1', '192.168.0.0/16'], false],
    [['2001:db8::1', '2001:db8::/32'], true],
    [['10.0.0.1', '2001:db8::/32'], false],
  ],
  'Fn::Sub': [[['${a} and ${b}', { a: 'x', b: 2 }], 'x and 2'], ['name=${name}', 'name=web']],
  'Fn::DurationBetween': [[['2026-01-01T00:00:00Z', '2026-01-01T01:30:05Z'], 'PT1H30M5S'], [['2026-01-02T00:00:00Z', '2026-01-01T00:00:00Z'], 'PT0S']],
  'Fn::Escape': [[['a"$b`', 'powershell'], 'a`"`$b``'], [["it's", 'shell'], `'it'\\''s'`]],
  'Fn::ConvertMapToList': [[{ a: 1, b: 'x' }, [{ Key: 'a', Value: 1 }, { Key: 'b', Value: 'x' }]]],
  'Fn::Sum': [['{{ list }}', 6], [['1', 2.5], 3.5]],
  'Fn::RangeSelect': [[[1, -1, ['a', 'b', 'c', 'd']], ['b', 'c', 'd']], [[0, 1, ['a', 'b', 'c']], ['a', 'b']]],
  'Fn::ContainsSubString': [[['web-server', 'server'], true], [['web', 'db'], false]],
};

describe('Fn:: functions', () => {
  it('every implemented function has test cases', () => {
    expect(Object.keys(FUNCTIONS).sort()).toEqual(Object.keys(CASES).sort());
  });

  for (const [name, cases] of Object.entries(CASES)) {
    it(name, () => {
      for (const [arg, expected] of cases) expect(fn({ [name]: arg }), `${name} ${JSON.stringify(arg)}`).toEqual(expected);
    });
  }

  it('functions nest and are evaluated bottom-up', () => {
    expect(fn({ 'Fn::Join': ['/', { 'Fn::Split': [',', { 'Fn::Replace': [{ ';': ',' }, 'a;b'] }] }] })).toBe('a/b');
    expect(fn({ 'Fn::If': [{ 'Fn::Equals': ['{{ name }}', 'web'] }, { 'Fn::Base64Encode': 'x' }, 'no'] })).toBe('eA==');
  });

  it('Fn::If, Fn::And and Fn::Or evaluate only what they need', () => {
    const boom = { 'Fn::Select': [9, []] };
    expect(fn({ 'Fn::If': [true, 'ok', boom] })).toBe('ok');
    expect(fn({ 'Fn::And': [false, boom] })).toBe(false);
    expect(fn({ 'Fn::Or': [true, boom] })).toBe(true);
  });

  it('bad arguments fail with OOS.FunctionError naming the function', () => {
    expect(() => fn({ 'Fn::Select': [5, ['a']] })).toThrow(expect.objectContaining({ code: 'OOS.FunctionError', message: expect.stringMatching(/^Fn::Select: index 5 is out of range/) }));
    expect(() => fn({ 'Fn::Not': 'maybe' })).toThrow(/needs a boolean/);
    expect(() => fn({ 'Fn::AddHour': ['yesterday', 1] })).toThrow(/must be a UTC time/);
    expect(() => fn({ 'Fn::Eval': '1 +' })).toThrow(/Fn::Eval/);
    expect(() => fn({ 'Fn::Jq': ['Some', '.', {}] })).toThrow(/First or All/);
    expect(() => fn({ 'Fn::Jq': ['First', '.a.b', { a: 'x' }] })).toThrow(expect.objectContaining({ code: 'OOS.JqError' }));
    expect(() => fn({ 'Fn::Base64Decode': 'not base64!' })).toThrow(/is not Base64/);
  });

  it('loop aggregators', () => {
    expect(AGGREGATORS['Fn::ListJoin']?.(['a', 'b'])).toEqual(['a', 'b']);
    expect(AGGREGATORS['Fn::Sum']?.([1, '2', 3])).toBe(6);
    expect(AGGREGATORS['Fn::Max']?.([1, 5, 3])).toBe(5);
    expect(AGGREGATORS['Fn::MergeList']?.([[1], [2, 3]])).toEqual([1, 2, 3]);
  });
});
