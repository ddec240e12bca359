import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorNames, FlowrunError } from '../../src/shared/errors.js';
import { createMockTaskRunner, diffJson, listTestCases, loadMockConfig, MockConfigError, parseMockConfig } from '../../src/engine/index.js';
import { context, rejectionOf } from './helpers.js';

const yamlConfig = `
Flows:
  order-flow:
    TestCases:
      retries-then-succeeds:
        Input: { orderId: 7 }
        MockedResponses:
          Charge:
            - Error: { Code: HTTP.503, Detail: busy }
            - Error: { Code: HTTP.503, Detail: still busy }
            - Return: { ok: true }
          Notify:
            Return: { sent: 1 }
        ExpectedOutput: { ok: true }
      fails:
        ExpectedError: { Code: HTTP.503 }
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flowrun-mock-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function task(stateName: string) {
  return { action: 'HTTP:Request', parameters: {}, context: context(stateName) };
}

describe('loadMockConfig', () => {
  it('loads YAML and JSON files', async () => {
    const yamlFile = path.join(dir, 'mocks.yaml');
    await writeFile(yamlFile, yamlConfig);
    const config = await loadMockConfig(yamlFile);
    expect(Object.keys(config.Flows)).toEqual(['order-flow']);
    expect(listTestCases(config).map((c) => `${c.flowName}/${c.caseName}`)).toEqual(['order-flow/retries-then-succeeds', 'order-flow/fails']);
    expect(config.Flows['order-flow']?.TestCases['retries-then-succeeds']?.Input).toEqual({ orderId: 7 });

    const jsonFile = path.join(dir, 'mocks.json');
    await writeFile(jsonFile, JSON.stringify({ Flows: { f: { TestCases: { c: { MockedResponses: { S: { Return: 1 } } } } } } }));
    expect((await loadMockConfig(jsonFile)).Flows.f?.TestCases.c?.MockedResponses).toEqual({ S: { Return: 1 } });
  });

  it('reports schema problems readably, with paths', () => {
    const bad = `
Flows:
  f:
    TestCases:
      c:
        Inputt: {}
        MockedResponses:
          A: { Return: 1, Error: { Code: X } }
          B: []
          C: { Error: { Detail: no code } }
        ExpectedOutput: {}
        ExpectedError: { Code: X }
  g: {}
`;
    let caught: unknown;
    try {
      parseMockConfig(bad, 'bad.yaml');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(MockConfigError);
    const error = caught as MockConfigError;
    expect(error.code).toBe('Mock.InvalidConfig');
    expect(error.problems).toEqual([
      '/Flows/f/TestCases/c: give ExpectedOutput or ExpectedError, not both',
      "/Flows/f/TestCases/c: unknown field 'Inputt'",
      '/Flows/f/TestCases/c/MockedResponses/A: a mocked response has exactly one of Return or Error',
      '/Flows/f/TestCases/c/MockedResponses/B: a list of mocked responses must not be empty',
      "/Flows/f/TestCases/c/MockedResponses/C/Error: missing required field 'Code'",
      "/Flows/g: missing required field 'TestCases'",
    ]);
    expect(() => parseMockConfig('Flows: { f: { TestCases: { c: { MockedResponses: { S: 5, T: [{ Return: 1 }, { Eror: {} }] } } } } }')).toThrow(
      /MockedResponses\/S: a mocked response must be \{ Return: <value> \} or \{ Error: \{ Code, Detail\? \} \}, or a non-empty list of those\n.*MockedResponses\/T\/1: unknown field 'Eror'/,
    );
    expect(error.message).toContain('invalid mock configuration bad.yaml:');
    expect(error.message).toContain("  - /Flows/g: missing required field 'TestCases'");
  });

  it('reports unparsable text, a missing top level and a missing file', async () => {
    expect(() => parseMockConfig('{ "Flows": ', 'x.json')).toThrow(/invalid mock configuration x.json:\n {2}- cannot parse/);
    expect(() => parseMockConfig('Tests: {}')).toThrow(MockConfigError);
    const problems = (() => {
      try {
        parseMockConfig('Tests: {}');
        return [];
      } catch (err) {
        return (err as MockConfigError).problems;
      }
    })();
    expect([...problems].sort()).toEqual(["(top level): missing required field 'Flows'", "(top level): unknown field 'Tests'"]);
    await expect(loadMockConfig(path.join(dir, 'absent.yaml'))).rejects.toMatchObject({ code: 'Mock.InvalidConfig', message: expect.stringContaining('cannot read') });
  });
});

describe('createMockTaskRunner', () => {
  const config = parseMockConfig(yamlConfig, 'mocks.yaml');
  const testCase = config.Flows['order-flow']?.TestCases['retries-then-succeeds'];
  if (!testCase) throw new Error('test case missing');

  it('answers a sequence per state: fail, fail, succeed, then the last repeats', async () => {
    const runner = createMockTaskRunner(testCase);
    const first = await rejectionOf(runner(task('Charge')));
    expect(first).toBeInstanceOf(FlowrunError);
    expect([first.code, first.message, first.retryable]).toEqual(['HTTP.503', 'busy', true]);
    expect((await rejectionOf(runner(task('Charge')))).message).toBe('still busy');
    await expect(runner(task('Charge'))).resolves.toEqual({ ok: true });
    await expect(runner(task('Charge'))).resolves.toEqual({ ok: true });
    expect(runner.calls('Charge')).toBe(4);
  });

  it('a single response answers every call, with a fresh copy each time', async () => {
    const runner = createMockTaskRunner(testCase);
    const a = (await runner(task('Notify'))) as { sent: number };
    a.sent = 99;
    await expect(runner(task('Notify'))).resolves.toEqual({ sent: 1 });
    expect(runner.calls('Notify')).toBe(2);
    expect(runner.calls('Charge')).toBe(0);
  });

  it('an unmocked Task state fails with Mock.NotMocked naming it', async () => {
    const runner = createMockTaskRunner(testCase);
    const err = await rejectionOf(runner(task('Ship')));
    expect([err.code, err.retryable]).toEqual(['Mock.NotMocked', false]);
    expect(err.message).toBe("Task state 'Ship' (HTTP:Request) has no mocked response; mocked states: Charge, Notify");
    expect(runner.calls('Ship')).toBe(1);
    const empty = createMockTaskRunner({});
    expect((await rejectionOf(empty(task('toString')))).code).toBe('Mock.NotMocked');
  });

  it('an aborted signal rejects with FnF.Cancelled', async () => {
    const runner = createMockTaskRunner(testCase);
    const controller = new AbortController();
    controller.abort();
    expect((await rejectionOf(runner({ ...task('Notify'), signal: controller.signal }))).code).toBe(ErrorNames.Cancelled);
  });
});

describe('diffJson', () => {
  it('is empty for equal values whatever the key order', () => {
    expect(diffJson({ a: 1, b: [1, { c: null }] }, { b: [1, { c: null }], a: 1 })).toEqual([]);
  });

  it('reports changed, missing and unexpected values by path', () => {
    expect(
      diffJson(
        { Items: [{ name: 'x' }, { name: 'y' }, { name: 'a' }], id: 7, tags: ['t'], nested: { 'a/b': true } },
        { Items: [{ name: 'x' }, { name: 'y' }, { name: 'b' }], extra: 1, tags: ['t', 'u'], nested: { 'a/b': 'true' } },
      ),
    ).toEqual([
      '/Items/2/name: expected "a", got "b"',
      '/id: missing, expected 7',
      '/tags: expected 1 items, got 2',
      '/tags/1: unexpected, got "u"',
      '/nested/a~1b: expected true, got "true"',
      '/extra: unexpected, got 1',
    ]);
  });

  it('reports type changes and root differences', () => {
    expect(diffJson({ a: { b: 1 } }, { a: [1] })).toEqual(['/a: expected object {"b":1}, got array [1]']);
    expect(diffJson(1, 2)).toEqual(['/: expected 1, got 2']);
    expect(diffJson([1, 2], [1])).toEqual(['/: expected 2 items, got 1', '/1: missing, expected 2']);
  });
});
