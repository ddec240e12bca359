import { describe, expect, it } from 'vitest';
import { checkParameters } from '../../src/oos/index.js';
import { ManualClock } from '../../src/shared/clock.js';
import { doc, START, tpl } from './helpers.js';

const t = tpl(
  doc(`Parameters:
  name: { Type: String, AllowedPattern: '[a-z]+', MinLength: 2, MaxLength: 5 }
  count: { Type: Number, MinValue: 1, MaxValue: 10, Default: 3 }
  enabled: { Type: Boolean, Default: false }
  ids: { Type: List, Default: [] }
  targets: { Type: Json, Default: { Type: ResourceIds } }
  mode: { Type: String, AllowedValues: [fast, slow], Default: fast }
  region: { Type: String, Default: '{{ ACS::RegionId }}' }
  stamp: { Type: String, Default: 'run-{{ ACS::CurrentUTCTime }}' }
  label: { Type: String, Default: '{{ name }}-{{ mode }}' }
  forceSet: { Type: String, Default: 1 }
Tasks:
  - { Name: a, Action: ACS::Pause }
`),
  { regionId: 'cn-beijing', clock: new ManualClock(START) },
);

function error(params: unknown): { code: string; message: string; details: { Problems: string[]; Unknown: string[]; Missing: string[] } } {
  try {
    checkParameters(t, params);
  } catch (err) {
    return err as never;
  }
  throw new Error('expected an error');
}

describe('checkParameters', () => {
  it('applies Defaults (with pseudo parameters and earlier parameters) and keeps given values', () => {
    expect(checkParameters(t, { name: 'abc' })).toEqual({
      name: 'abc',
      count: 3,
      enabled: false,
      ids: [],
      targets: { Type: 'ResourceIds' },
      mode: 'fast',
      region: 'cn-beijing',
      stamp: 'run-2026-01-01T00:00:00Z',
      label: 'abc-fast',
      forceSet: '1',
    });
  });

  it('accepts the Parameters JSON string of the API (and an empty one means {})', () => {
    expect(checkParameters(t, '{"name":"xy","count":"7"}')).toMatchObject({ name: 'xy', count: 7 });
    expect(error('')).toMatchObject({ code: 'MissingExecutionParameter' });
  });

  it('coerces: numbers and booleans from text, lists and Json from JSON text, strings from numbers', () => {
    const out = checkParameters(t, { name: 'abc', count: '4', enabled: 'TRUE', ids: '["i-1","i-2"]', targets: '{"Type":"Tags"}', forceSet: 0 });
    expect(out).toMatchObject({ count: 4, enabled: true, ids: ['i-1', 'i-2'], targets: { Type: 'Tags' }, forceSet: '0' });
  });

  it('MissingExecutionParameter: a parameter without Default is not given', () => {
    const e = error({});
    expect(e.code).toBe('MissingExecutionParameter');
    expect(e.details.Missing).toEqual(['name']);
    expect(e.message).toMatch(/The parameter name was not provided/);
  });

  it('UnknownExecutionParameter: a parameter the template does not declare (with a hint)', () => {
    const e = error({ name: 'abc', Count: 2 });
    expect(e.code).toBe('UnknownExecutionParameter');
    expect(e.details.Unknown).toEqual(['Count']);
    expect(e.message).toMatch(/did you mean 'count'/);
  });

  it('TemplateValidationError: types and constraints, every problem listed', () => {
    const e = error({ name: 'ABCDEFG', count: 11, enabled: 'maybe', ids: 'i-1', mode: 'medium' });
    expect(e.code).toBe('TemplateValidationError');
    const all = e.details.Problems.join('\n');
    expect(all).toMatch(/'name' must match the pattern \[a-z\]\+/);
    expect(all).toMatch(/'name' must have at most 5 characters/);
    expect(all).toMatch(/'count' must be at most 10/);
    expect(all).toMatch(/'enabled' must be a boolean/);
    expect(all).toMatch(/'ids' must be a list/);
    expect(all).toMatch(/'mode' must be one of "fast", "slow"/);
  });

  it('AllowedPattern matches the whole value; MinLength and MinValue apply', () => {
    expect(error({ name: 'abc1' }).details.Problems.join()).toMatch(/pattern/);
    expect(error({ name: 'a' }).details.Problems.join()).toMatch(/at least 2 characters/);
    expect(error({ name: 'abc', count: 0 }).details.Problems.join()).toMatch(/at least 1/);
  });

  it('Parameters must be a JSON object', () => {
    expect(error('[1]')).toMatchObject({ code: 'TemplateValidationError', message: expect.stringMatching(/must be a JSON object/) });
    expect(error('{oops')).toMatchObject({ code: 'TemplateValidationError', message: expect.stringMatching(/not valid JSON/) });
  });

  it('reports unknown before missing when both happen', () => {
    const e = error({ nmae: 'abc' });
    expect(e.code).toBe('UnknownExecutionParameter');
    expect(e.details.Missing).toEqual(['name']);
  });
});
