import { describe, expect, it } from 'vitest';
import { makeEnv, outputKey, resultKey, ValueCompiler } from '../../src/oos/index.js';
import type { OosEnv, Problem } from '../../src/oos/index.js';
import type { ReferenceScope, ValueSite } from '../../src/oos/values.js';
import { parseTemplateString } from '../../src/oos/refs.js';
import type { Json } from '../../src/shared/json.js';
import { START } from './helpers.js';

const scope: ReferenceScope = {
  parameters: ['regionId', 'ids', 'count', 'flag', 'targets', 'webHookUrl'],
  tasks: new Map([
    ['getInstance', { outputs: ['instanceIds', 'first'], aggregates: [] }],
    ['runCommand', { outputs: ['commandOutput'], aggregates: ['commandOutputs'] }],
  ]),
};

const env = (extra: Partial<OosEnv> = {}): OosEnv =>
  makeEnv({
    parameters: { regionId: 'cn-hangzhou', ids: ['i-1', 'i-2'], count: 3, flag: true, targets: { Type: 'ResourceIds', ResourceIds: ['i-1'] }, webHookUrl: 'https://hook' },
    global: { [outputKey('getInstance', 'instanceIds')]: ['i-1', 'i-2'], [outputKey('runCommand', 'commandOutputs')]: ['a', 'b'] },
    executionId: 'exec-42',
    templateName: 'demo',
    now: () => START + 61_000,
    ...extra,
  });

function evaluate(raw: unknown, e: OosEnv = env(), site: Partial<ValueSite> = {}): Json {
  const problems: Problem[] = [];
  const fn = new ValueCompiler(scope, problems).compile(raw, '', { loopItem: false, rawTaskPaths: false, tasks: true, ...site });
  expect(problems).toEqual([]);
  return fn(e);
}

describe('{{ }} references', () => {
  it('a lone reference keeps the native type of its value', () => {
    expect(evaluate('{{ ids }}')).toEqual(['i-1', 'i-2']);
    expect(evaluate('{{count}}')).toBe(3);
    expect(evaluate('  {{ flag }} ')).toBe(true);
    expect(evaluate('{{ targets }}')).toEqual({ Type: 'ResourceIds', ResourceIds: ['i-1'] });
    expect(evaluate(['{{ targets }}'])).toEqual([{ Type: 'ResourceIds', ResourceIds: ['i-1'] }]);
  });

  it('inside a longer string values are interpolated as text (lists and maps as JSON)', () => {
    expect(evaluate('img-{{ regionId }}-{{ACS::ExecutionId}}')).toBe('img-cn-hangzhou-exec-42');
    expect(evaluate('n={{ count }} f={{ flag }} ids={{ ids }}')).toBe('n=3 f=true ids=["i-1","i-2"]');
  });

  it('task outputs and loop aggregates come from $Global', () => {
    expect(evaluate('{{ getInstance.instanceIds }}')).toEqual(['i-1', 'i-2']);
    expect(evaluate('{{ runCommand.commandOutputs }}')).toEqual(['a', 'b']);
  });

  it('a task output not produced yet fails with OOS.ReferenceError', () => {
    expect(() => evaluate('{{ getInstance.first }}')).toThrow(expect.objectContaining({ code: 'OOS.ReferenceError', message: expect.stringMatching(/has not produced output 'first'/) }));
  });

  it('a field of a Json parameter, by jq path', () => {
    expect(evaluate('{{ targets.ResourceIds[0] }}')).toBe('i-1');
    expect(evaluate('{{ ids[1] }}')).toBe('i-2');
  });

  it('names resolve ignoring case when only one name matches (public templates rely on it)', () => {
    expect(evaluate('{{ webhookUrl }}')).toBe('https://hook');
  });

  it('pseudo parameters (case-insensitive)', () => {
    const e = env({ regionId: 'cn-shanghai', accountId: '99', executeUser: 'root(99)' });
    expect(evaluate('{{ ACS::RegionId }}', e)).toBe('cn-shanghai');
    expect(evaluate('{{ acs::regionid }}', e)).toBe('cn-shanghai');
    expect(evaluate('{{ ACS::ExecutionId }}', e)).toBe('exec-42');
    expect(evaluate('{{ ACS::AccountId }}', e)).toBe('99');
    expect(evaluate('{{ ACS::ExecuteUser }}', e)).toBe('root(99)');
    expect(evaluate('{{ ACS::CurrentUTCTime }}', e)).toBe('2026-01-01T00:01:01Z');
    expect(evaluate('{{ Acs::CurrentDate }}', e)).toBe('2026-01-01');
    expect(evaluate('{{ ACS::TemplateName }}', e)).toBe('demo');
    expect(typeof evaluate('{{ ACS::OOSUtilVersion }}', e)).toBe('string');
  });

  it('ACS::TaskLoopItem (and a path into it) inside a loop', () => {
    const e = env({ loopItem: { value: { id: 'i-9', zone: 'h' } } });
    expect(evaluate('{{ ACS::TaskLoopItem }}', e, { loopItem: true })).toEqual({ id: 'i-9', zone: 'h' });
    expect(evaluate('{{ ACS::TaskLoopItem.id }}@{{ ACS::TaskLoopItem.zone }}', e, { loopItem: true })).toBe('i-9@h');
  });

  it('parameter-store values', () => {
    const store = (name: string, secret: boolean): Json | undefined => (name === 'db' ? (secret ? 's3cret' : 'db.local') : undefined);
    expect(evaluate('{{ oos:db }}/{{ oos-secret:db }}', env({ parameterStore: store }))).toBe('db.local/s3cret');
    expect(() => evaluate('{{ oos:missing }}', env({ parameterStore: store }))).toThrow(/no parameter named 'missing'/);
  });

  it('template outputs may read a task raw result by jq path', () => {
    const problems: Problem[] = [];
    const compiler = new ValueCompiler(scope, problems);
    const fn = compiler.compile('{{ getInstance.Instances.Instance[].InstanceId }}', '/Outputs/x/Value', { loopItem: false, rawTaskPaths: true, tasks: true });
    expect(problems).toEqual([]);
    expect(compiler.rawResultTasks.has('getInstance')).toBe(true);
    expect(fn(env({ global: { [resultKey('getInstance')]: { Instances: { Instance: [{ InstanceId: 'a' }, { InstanceId: 'b' }] } } } }))).toEqual(['a', 'b']);
  });

  it('references are parsed once: literal text is split from references', () => {
    const parsed = parseTemplateString('a {{ x }} b {{ .not.a.ref }} {{ ACS::RegionId }}');
    expect(parsed.parts.filter((p) => typeof p !== 'string')).toHaveLength(2);
    expect(parsed.whole).toBe(false);
    expect(parseTemplateString(' {{ x }} ').whole).toBe(true);
  });

  it('references resolve before functions', () => {
    expect(evaluate({ 'Fn::Join': ['-', '{{ ids }}'] })).toBe('i-1-i-2');
    expect(evaluate({ 'Fn::Select': ['{{ count }}', ['a', 'b', 'c', 'd']] })).toBe('d');
  });
});
