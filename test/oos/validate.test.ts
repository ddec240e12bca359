import { describe, expect, it } from 'vitest';
import { compileTemplate, validateTemplate, validateTemplateName } from '../../src/oos/index.js';
import { MAX_TEMPLATE_BYTES } from '../../src/oos/limits.js';
import { parseTemplateText } from '../../src/oos/parse.js';
import { doc, problems } from './helpers.js';

/** The single problem at `pointer` (fails when there is none). */
function at(list: { pointer: string; message: string }[], pointer: string): string {
  const found = list.filter((p) => p.pointer === pointer);
  expect(found, `problems: ${JSON.stringify(list, null, 1)}`).not.toHaveLength(0);
  return found.map((p) => p.message).join(' | ');
}

const task = (extra = ''): string => `Tasks:\n  - Name: a\n    Action: ACS::ExecuteAPI\n    Properties: { Service: ECS, API: DescribeRegions }\n${extra}`;

describe('parsing', () => {
  it('accepts YAML and JSON and reports the format', () => {
    const y = parseTemplateText(doc(task()));
    expect(y).toMatchObject({ ok: true, format: 'YAML' });
    const j = parseTemplateText(JSON.stringify({ FormatVersion: 'OOS-2019-06-01', Tasks: [{ Name: 'a', Action: 'ACS::Pause' }] }));
    expect(j).toMatchObject({ ok: true, format: 'JSON' });
  });

  it('refuses content over 64 KB', () => {
    const big = doc(task()) + `\n# ${'x'.repeat(MAX_TEMPLATE_BYTES)}`;
    expect(at(problems(big), '')).toMatch(/larger than 65536 bytes/);
  });

  it('reports a syntax error once, with its line', () => {
    const list = problems('FormatVersion: OOS-2019-06-01\nTasks: [ { Name: a\n  Action: b\n');
    expect(list).toHaveLength(1);
    expect(list[0]?.message).toMatch(/YAML syntax error/);
    expect(list[0]?.line).toBeGreaterThan(0);
  });

  it('reports duplicate keys', () => {
    expect(at(problems(doc('Tasks: []\nTasks: []\n')), '')).toMatch(/duplicate key/);
  });

  it('reports an empty document', () => {
    expect(at(problems(''), '')).toMatch(/empty/);
  });
});

describe('schema rules', () => {
  it('a template must be a mapping with FormatVersion OOS-2019-06-01 and Tasks', () => {
    expect(at(validateTemplate('hello'), '')).toMatch(/must be a mapping/);
    const list = validateTemplate({ Tasks: [{ Name: 'a', Action: 'ACS::Pause' }] });
    expect(at(list, '')).toMatch(/missing required key 'FormatVersion'/);
    expect(at(validateTemplate({ FormatVersion: 'OOS-2019-06-18', Tasks: [{ Name: 'a', Action: 'ACS::Pause' }] }), '/FormatVersion')).toMatch(/must be OOS-2019-06-01/);
    expect(at(validateTemplate({ FormatVersion: 'OOS-2019-06-01', Tasks: [] }), '/Tasks')).toMatch(/at least one task/);
  });

  it('unknown top-level keys, with a suggestion', () => {
    expect(at(problems(doc(`${task()}Output: {}\n`)), '')).toMatch(/unknown key 'Output'.*Did you mean 'Outputs'/);
  });

  it('parameters: type, unknown keys, names', () => {
    const list = problems(doc(`Parameters:\n  a: { Type: Integer }\n  b: { Typ: String }\n  'bad name': { Type: String }\n${task()}`));
    expect(at(list, '/Parameters/a/Type')).toMatch(/one of String, Number, Boolean, List, Json/);
    expect(at(list, '/Parameters/b')).toMatch(/unknown key 'Typ'.*Did you mean 'Type'/);
    expect(at(list, '/Parameters/bad name')).toMatch(/parameter names use letters/);
  });

  it('tasks: Name and Action required, name pattern, unknown keys, DelayType', () => {
    const list = problems(doc('Tasks:\n  - Action: ACS::Pause\n  - Name: b\n  - Name: "has space"\n    Action: ACS::Pause\n    OnErrors: x\n    DelayType: Fibonacci\n'));
    expect(at(list, '/Tasks/0')).toMatch(/missing required key 'Name'/);
    expect(at(list, '/Tasks/1')).toMatch(/missing required key 'Action'/);
    expect(at(list, '/Tasks/2/Name')).toMatch(/task name has 1 to 200 letters/);
    expect(at(list, '/Tasks/2')).toMatch(/unknown key 'OnErrors'.*Did you mean 'OnError'/);
    expect(at(list, '/Tasks/2/DelayType')).toMatch(/Exponential, Constant, Linear/);
  });

  it('task outputs need a ValueSelector and a known Type; template outputs need a Value', () => {
    const list = problems(doc(`${task('    Outputs:\n      x: { Type: String }\n      y: { Type: Text, ValueSelector: a }\n')}Outputs:\n  o: { Type: String }\n`));
    expect(at(list, '/Tasks/0/Outputs/x')).toMatch(/missing required key 'ValueSelector'/);
    expect(at(list, '/Tasks/0/Outputs/y/Type')).toMatch(/one of String, Number/);
    expect(at(list, '/Outputs/o')).toMatch(/missing required key 'Value'/);
  });

  it('Loop needs Items', () => {
    expect(at(problems(doc(task('    Loop: { Concurrency: 2 }\n'))), '/Tasks/0/Loop')).toMatch(/missing required key 'Items'/);
  });
});

describe('semantic rules', () => {
  it('task names are unique', () => {
    expect(at(problems(doc('Tasks:\n  - { Name: a, Action: ACS::Pause }\n  - { Name: a, Action: ACS::Pause }\n')), '/Tasks/1/Name')).toMatch(/duplicate task name 'a'/);
  });

  it('unknown actions, with a suggestion', () => {
    expect(at(problems(doc('Tasks:\n  - { Name: a, Action: "ACS::ExecuteAPl" }\n')), '/Tasks/0/Action')).toMatch(/unknown action 'ACS::ExecuteAPl'.*Did you mean 'ACS::ExecuteAPI'/);
  });

  it('action names are case-insensitive; product actions and template names are accepted', () => {
    expect(problems(doc('Tasks:\n  - { Name: a, Action: "acs::pause" }\n  - { Name: b, Action: "ACS::ECS::StartInstance", Properties: { instanceId: i-1 } }\n  - { Name: c, Action: MyTemplate }\n'))).toEqual([]);
  });

  it('OnSuccess / OnError name existing tasks (or ACS::NEXT / ACS::END)', () => {
    const list = problems(doc(task('    OnSuccess: nowhere\n    OnError: recovr\n  - { Name: recover, Action: ACS::Pause, OnSuccess: ACS::END, OnError: ACS::NEXT }\n')));
    expect(at(list, '/Tasks/0/OnSuccess')).toMatch(/no task named 'nowhere'/);
    expect(at(list, '/Tasks/0/OnError')).toMatch(/no task named 'recovr'.*Did you mean 'recover'/);
    expect(list.filter((p) => p.pointer.startsWith('/Tasks/1'))).toEqual([]);
  });

  it('ACS::Choice needs Choices with When and a known NextTask; targets are literal', () => {
    const list = problems(
      doc(`Parameters:\n  next: { Type: String, Default: a }\nTasks:\n  - Name: c\n    Action: ACS::Choice\n    Properties:\n      DefaultTask: '{{ next }}'\n      Choices:\n        - When: true\n          NextTask: nope\n        - NextTask: a\n  - { Name: a, Action: ACS::Pause }\n  - { Name: d, Action: ACS::Choice, Properties: {} }\n`),
    );
    expect(at(list, '/Tasks/0/Properties/DefaultTask')).toMatch(/literal task name/);
    expect(at(list, '/Tasks/0/Properties/Choices/0/NextTask')).toMatch(/no task named 'nope'/);
    expect(at(list, '/Tasks/0/Properties/Choices/1')).toMatch(/needs When/);
    expect(at(list, '/Tasks/2/Properties')).toMatch(/needs Choices/);
  });

  it('ACS::Sleep needs exactly one readable Duration or EndDate', () => {
    const list = problems(
      doc(
        'Tasks:\n  - { Name: a, Action: ACS::Sleep, Properties: {} }\n  - { Name: b, Action: ACS::Sleep, Properties: { Duration: PT1M, EndDate: "2026-01-01T00:00:00Z" } }\n  - { Name: c, Action: ACS::Sleep, Properties: { Duration: soon } }\n  - { Name: d, Action: ACS::Sleep, Properties: { EndDate: tomorrow } }\n',
      ),
    );
    expect(at(list, '/Tasks/0/Properties')).toMatch(/exactly one of Duration/);
    expect(at(list, '/Tasks/1/Properties')).toMatch(/exactly one of Duration/);
    expect(at(list, '/Tasks/2/Properties/Duration')).toMatch(/must be a duration/);
    expect(at(list, '/Tasks/3/Properties/EndDate')).toMatch(/must be a UTC time/);
  });

  it('Loop rules: loopable actions, Concurrency, MaxErrors, RateControl keys, aggregates, item count', () => {
    const items = JSON.stringify(Array.from({ length: 1001 }, (_, i) => i));
    const list = problems(
      doc(
        `Tasks:\n  - { Name: s, Action: ACS::Sleep, Properties: { Duration: PT1S }, Loop: { Items: [1] } }\n` +
          `  - Name: a\n    Action: ACS::ExecuteAPI\n    Properties: { Service: ECS, API: X }\n    Outputs: { out: { ValueSelector: . } }\n    Loop:\n      Items: [1, 2]\n      Concurrency: 0\n      MaxErrors: lots\n      Outputs:\n        agg1: { AggregateType: Fn::Concat, AggregateField: out }\n        agg2: { AggregateType: Fn::ListJoin, AggregateField: missing }\n` +
          `  - Name: b\n    Action: ACS::ExecuteAPI\n    Properties: { Service: ECS, API: X }\n    Loop: { Items: ${items}, RateControl: { Mode: Parallel, Speed: 3 } }\n`,
      ),
    );
    expect(at(list, '/Tasks/0/Loop')).toMatch(/ACS::Sleep tasks cannot loop/);
    expect(at(list, '/Tasks/1/Loop/Concurrency')).toMatch(/positive integer/);
    expect(at(list, '/Tasks/1/Loop/MaxErrors')).toMatch(/integer ≥ 0 or a percentage/);
    expect(at(list, '/Tasks/1/Loop/Outputs/agg1/AggregateType')).toMatch(/unknown aggregate "Fn::Concat"/);
    expect(at(list, '/Tasks/1/Loop/Outputs/agg2/AggregateField')).toMatch(/no output 'missing' \(its outputs: out\)/);
    expect(at(list, '/Tasks/2/Loop/Items')).toMatch(/at most 1000 items/);
    expect(at(list, '/Tasks/2/Loop/RateControl/Speed')).toMatch(/unknown RateControl key 'Speed'/);
    expect(at(list, '/Tasks/2/Loop/RateControl/Mode')).toMatch(/Concurrency or Batch/);
  });

  it('references name declared parameters, tasks and outputs', () => {
    const list = problems(
      doc(
        `Parameters:\n  regionId: { Type: String }\nTasks:\n  - Name: a\n    Action: ACS::ExecuteAPI\n    Properties:\n      Service: ECS\n      API: X\n      Parameters:\n        R: '{{ regionID2 }}'\n        S: 'id-{{ a.nothing }}'\n        T: '{{ a }}'\n        U: '{{ ACS::Region }}'\n        V: '{{ ACS::TaskLoopItem }}'\n    Outputs: { ids: { ValueSelector: . } }\n`,
      ),
    );
    const msg = at(list, '/Tasks/0/Properties/Parameters/R');
    expect(msg).toMatch(/unknown parameter 'regionID2'.*Did you mean 'regionId'/);
    expect(at(list, '/Tasks/0/Properties/Parameters/S')).toMatch(/task 'a' has no output 'nothing'.*Its outputs: ids/);
    expect(at(list, '/Tasks/0/Properties/Parameters/T')).toMatch(/'a' is a task; name one of its outputs/);
    expect(at(list, '/Tasks/0/Properties/Parameters/U')).toMatch(/unknown pseudo parameter ACS::Region;/);
    expect(at(list, '/Tasks/0/Properties/Parameters/V')).toMatch(/only available in .* a task with a Loop/);
  });

  it('parameter Defaults may not reference tasks; text that is not a reference is left alone', () => {
    const list = problems(doc(`Parameters:\n  p: { Type: String, Default: '{{ a.x }}' }\n  q: { Type: String, Default: 'helm {{ .Values.x }} {{ a b }}' }\n${task('    Outputs: { x: { ValueSelector: . } }\n')}`));
    expect(at(list, '/Parameters/p/Default')).toMatch(/unknown parameter 'a'/);
    expect(list.some((p) => p.pointer === '/Parameters/q/Default')).toBe(false);
  });

  it('functions: unknown, unsupported, arity, other keys beside a function', () => {
    const list = problems(
      doc(
        `Tasks:\n  - Name: a\n    Action: ACS::ExecuteAPI\n    Properties:\n      Service: ECS\n      API: X\n      Parameters:\n        A: { 'Fn::Concat': [a, b] }\n        B: { 'Fn::GetAtt': [a, b] }\n        C: { 'Fn::If': [true, 1] }\n        D: { 'Fn::Join': [',', [a]], Extra: 1 }\n        E: { 'Fn::Join': 'a,b' }\n`,
      ),
    );
    expect(at(list, '/Tasks/0/Properties/Parameters/A/Fn::Concat')).toMatch(/unknown function Fn::Concat/);
    expect(at(list, '/Tasks/0/Properties/Parameters/B/Fn::GetAtt')).toMatch(/not supported by flowrun/);
    expect(at(list, '/Tasks/0/Properties/Parameters/C/Fn::If')).toMatch(/takes 3 arguments/);
    expect(at(list, '/Tasks/0/Properties/Parameters/D')).toMatch(/only key of its mapping/);
    expect(list.some((p) => p.pointer === '/Tasks/0/Properties/Parameters/E/Fn::Join')).toBe(false);
  });

  it('jq selectors must compile', () => {
    const list = problems(
      doc(
        `Tasks:\n  - Name: a\n    Action: ACS::WaitFor\n    Properties: { Service: ECS, API: X, PropertySelector: '.a[', DesiredValues: [x] }\n    Outputs: { o: { ValueSelector: '.x | nosuchfunction' } }\n`,
      ),
    );
    expect(at(list, '/Tasks/0/Properties/PropertySelector')).toMatch(/not a valid jq expression: syntax error/);
    expect(at(list, '/Tasks/0/Outputs/o/ValueSelector')).toMatch(/nosuchfunction\/0 is not defined/);
  });

  it('parameter declarations: pattern, bounds, AllowedValues, Defaults that do not fit', () => {
    const list = problems(
      doc(
        `Parameters:\n  a: { Type: String, AllowedPattern: '(' }\n  b: { Type: String, MinLength: 5, MaxLength: 2 }\n  c: { Type: Number, MinValue: 9, MaxValue: 1 }\n  d: { Type: String, AllowedValues: [x, y], Default: z }\n  e: { Type: String, AllowedValues: [] }\n  f: { Type: Number, Default: ten }\n${task()}`,
      ),
    );
    expect(at(list, '/Parameters/a/AllowedPattern')).toMatch(/not a valid regular expression/);
    expect(at(list, '/Parameters/b/MinLength')).toMatch(/MinLength \(5\) is larger than MaxLength \(2\)/);
    expect(at(list, '/Parameters/c/MinValue')).toMatch(/MinValue \(9\) is larger than MaxValue \(1\)/);
    expect(at(list, '/Parameters/d/Default')).toMatch(/must be one of "x", "y"/);
    expect(at(list, '/Parameters/e/AllowedValues')).toMatch(/at least one value/);
    expect(at(list, '/Parameters/f/Default')).toMatch(/must be a number/);
  });

  it('Retries range', () => {
    expect(at(problems(doc(task('    Retries: 301\n'))), '/Tasks/0/Retries')).toMatch(/integer from 0 to 300/);
  });

  it('required Properties per action', () => {
    const list = problems(
      doc(
        'Tasks:\n  - { Name: a, Action: ACS::ExecuteAPI, Properties: { API: X } }\n  - { Name: b, Action: ACS::WaitFor, Properties: { Service: ECS, API: X } }\n  - { Name: c, Action: ACS::Template, Properties: {} }\n  - { Name: d, Action: ACS::ECS::RunCommand, Properties: { commandContent: ls } }\n  - { Name: e, Action: ACS::Notify, Properties: {} }\n  - { Name: f, Action: ACS::Approve, Properties: { WebHook: { Headers: {} } } }\n',
      ),
    );
    expect(at(list, '/Tasks/0/Properties')).toMatch(/needs Properties.Service/);
    expect(at(list, '/Tasks/1/Properties')).toMatch(/needs Properties.PropertySelector.*\|.*DesiredValues or Properties.NotDesiredValues/);
    expect(at(list, '/Tasks/2/Properties')).toMatch(/needs Properties.TemplateName/);
    expect(at(list, '/Tasks/3/Properties')).toMatch(/needs Properties.instanceId/);
    expect(at(list, '/Tasks/4/Properties')).toMatch(/needs Properties.WebHook/);
    expect(at(list, '/Tasks/5/Properties/WebHook')).toMatch(/needs URI/);
  });

  it('Sleep and Choice tasks have no Outputs; output keys fit the global key limit', () => {
    const long = 'n'.repeat(130);
    const list = problems(doc(`Tasks:\n  - { Name: s, Action: ACS::Sleep, Properties: { Duration: 1s }, Outputs: { x: { ValueSelector: . } } }\n${task(`    Outputs: { ${long}: { ValueSelector: . } }\n`).replace('Tasks:\n', '')}`));
    expect(at(list, '/Tasks/0/Outputs')).toMatch(/no result to select Outputs from/);
    expect(at(list, `/Tasks/1/Outputs/${long}`)).toMatch(/longer than 128 bytes/);
  });

  it('reports every problem at once and compileTemplate throws TemplateValidationError with them', () => {
    const bad = { FormatVersion: 'OOS-2019-06-01', Tasks: [{ Name: 'a', Action: 'ACS::Nope' }, { Name: 'b', Action: 'ACS::Pause', OnSuccess: 'zzz' }] };
    expect(validateTemplate(bad).length).toBe(2);
    try {
      compileTemplate(bad);
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: 'TemplateValidationError', problems: [{ pointer: '/Tasks/0/Action' }, { pointer: '/Tasks/1/OnSuccess' }] });
    }
  });
});

describe('template names', () => {
  it('1–200 letters, digits, - and _, no reserved prefix', () => {
    expect(validateTemplateName('my-template_1')).toEqual([]);
    expect(validateTemplateName('ACS-ECS-BulkyRunCommand')[0]).toMatch(/cannot start with ACS/);
    expect(validateTemplateName('aliyunThing')[0]).toMatch(/cannot start with ALIYUN/);
    expect(validateTemplateName('AlibabaX')[0]).toMatch(/ALIBABA/);
    expect(validateTemplateName('ALICLOUD-x')[0]).toMatch(/ALICLOUD/);
    expect(validateTemplateName('has space')[0]).toMatch(/may only contain/);
    expect(validateTemplateName('x'.repeat(201))[0]).toMatch(/at most 200/);
    expect(validateTemplateName('')[0]).toMatch(/cannot be empty/);
    expect(problems(doc(task()), { name: 'ACS-Mine' })[0]?.message).toMatch(/template name: .*cannot start with ACS/);
  });
});
