import { readFile } from 'node:fs/promises';
import { Ajv } from 'ajv';
import type { ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { FlowrunError } from '../shared/errors.js';
import { isJsonObject, jsonTypeName } from '../shared/json.js';
import type { Json, JsonObject } from '../shared/json.js';
import { cancellationError, EngineErrorNames } from './errors.js';
import type { TaskRequest, TaskRunner } from './types.js';

/**
 * Mock configuration for `flowrun test`, in the spirit of AWS Step Functions Local's
 * MockConfigFile: per flow, named test cases giving the input, the responses of Task states (by
 * state name) and the expected output or error.
 *
 * ```yaml
 * Flows:
 *   order-flow:
 *     TestCases:
 *       retries-then-succeeds:
 *         Input: { orderId: 7 }
 *         MockedResponses:
 *           Charge:                      # one response for every call, or a list: one per call,
 *             - Error: { Code: HTTP.503, Detail: busy }   # the last one repeating
 *             - Return: { ok: true }
 *         ExpectedOutput: { ok: true }   # or ExpectedError: { Code, Detail? } (or neither)
 * ```
 * Task states are matched by name only (a state name used in several scopes shares its responses).
 */

export interface MockedError {
  Code: string;
  Detail?: string;
}
export type MockedResponse = { Return: Json } | { Error: MockedError };

export interface MockTestCase {
  /** Execution input (default `{}`). */
  Input?: JsonObject;
  MockedResponses?: Record<string, MockedResponse | MockedResponse[]>;
  ExpectedOutput?: Json;
  ExpectedError?: MockedError;
}

export interface MockFlowConfig {
  TestCases: Record<string, MockTestCase>;
}

export interface MockConfig {
  Flows: Record<string, MockFlowConfig>;
}

const errorSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['Code'],
  properties: { Code: { type: 'string', minLength: 1 }, Detail: { type: 'string' } },
};

const responseSchema = {
  type: 'object',
  minProperties: 1,
  maxProperties: 1,
  additionalProperties: false,
  properties: { Return: {}, Error: errorSchema },
};

export const mockConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['Flows'],
  properties: {
    Flows: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['TestCases'],
        properties: {
          TestCases: {
            type: 'object',
            additionalProperties: {
              type: 'object',
              additionalProperties: false,
              properties: {
                Input: { type: 'object' },
                MockedResponses: {
                  type: 'object',
                  additionalProperties: {
                    anyOf: [responseSchema, { type: 'array', minItems: 1, items: responseSchema }],
                  },
                },
                ExpectedOutput: {},
                ExpectedError: errorSchema,
              },
              not: { required: ['ExpectedOutput', 'ExpectedError'] },
            },
          },
        },
      },
    },
  },
};

let compiled: ReturnType<Ajv['compile']> | undefined;
function validator(): ReturnType<Ajv['compile']> {
  compiled ??= new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true, strict: true, strictRequired: false }).compile(mockConfigSchema);
  return compiled;
}

/** Thrown by {@link loadMockConfig} and {@link parseMockConfig}; `problems` lists each one. */
export class MockConfigError extends FlowrunError {
  readonly problems: string[];
  constructor(source: string, problems: string[]) {
    super(EngineErrorNames.MockInvalidConfig, `invalid mock configuration ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/** Readable problems of a parsed mock configuration (empty when valid). */
export function checkMockConfig(data: unknown): string[] {
  const validate = validator();
  if (validate(data)) return [];
  const errors = validate.errors ?? [];
  const anyOfs = errors.filter((e) => e.keyword === 'anyOf');
  const problems: string[] = [];
  for (const e of errors) {
    // Errors inside an anyOf branch are reported through the anyOf itself.
    if (anyOfs.some((a) => a !== e && within(e, a))) continue;
    if (e.keyword === 'anyOf') {
      // A mocked response: a list is checked as a list, anything else as a single response.
      const branch = `${e.schemaPath}/${Array.isArray(e.data) ? 1 : 0}/`;
      const inner = isJsonObject(e.data as Json) || Array.isArray(e.data) ? errors.filter((b) => within(b, e) && b.schemaPath.startsWith(branch)) : [];
      if (inner.length > 0) {
        problems.push(...inner.map(describeConfigError));
        continue;
      }
    }
    problems.push(describeConfigError(e));
  }
  return [...new Set(problems)];
}

/** Whether `inner` was raised inside the subschemas of `outer` for the same (or a nested) value. */
function within(inner: ErrorObject, outer: ErrorObject): boolean {
  return (
    inner.schemaPath.startsWith(`${outer.schemaPath}/`) &&
    (inner.instancePath === outer.instancePath || inner.instancePath.startsWith(`${outer.instancePath}/`))
  );
}

function describeConfigError(e: ErrorObject): string {
  const at = e.instancePath === '' ? '(top level)' : e.instancePath;
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return `${at}: missing required field '${String(params.missingProperty)}'`;
    case 'additionalProperties':
      return `${at}: unknown field '${String(params.additionalProperty)}'`;
    case 'anyOf':
      return `${at}: a mocked response must be { Return: <value> } or { Error: { Code, Detail? } }, or a non-empty list of those`;
    case 'not':
      return `${at}: give ExpectedOutput or ExpectedError, not both`;
    case 'minProperties':
    case 'maxProperties':
      return `${at}: a mocked response has exactly one of Return or Error`;
    case 'minItems':
      return `${at}: a list of mocked responses must not be empty`;
    default:
      return `${at}: ${e.message ?? 'is invalid'}`;
  }
}

/** Parses and validates mock configuration text (JSON or YAML); throws {@link MockConfigError}. */
export function parseMockConfig(text: string, source = '<text>'): MockConfig {
  let data: unknown;
  try {
    data = source.toLowerCase().endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new MockConfigError(source, [`cannot parse: ${(err as Error).message}`]);
  }
  const problems = checkMockConfig(data);
  if (problems.length > 0) throw new MockConfigError(source, problems);
  return data as MockConfig;
}

/** Reads a mock configuration file (`.json`, else YAML); throws {@link MockConfigError}. */
export async function loadMockConfig(file: string): Promise<MockConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new MockConfigError(file, [`cannot read: ${(err as Error).message}`]);
  }
  return parseMockConfig(text, file);
}

/** Every test case of a configuration, in file order. */
export function listTestCases(config: MockConfig): { flowName: string; caseName: string; testCase: MockTestCase }[] {
  return Object.entries(config.Flows).flatMap(([flowName, flow]) =>
    Object.entries(flow.TestCases).map(([caseName, testCase]) => ({ flowName, caseName, testCase })),
  );
}

export type MockTaskRunner = TaskRunner & {
  /** How many times the Task state was called so far. */
  calls(stateName: string): number;
};

/**
 * A TaskRunner answering from a test case's MockedResponses by `request.context.stateName`: a
 * single response answers every call; a list answers call n with item n, its last item repeating.
 * `Return` resolves with the value; `Error` rejects with a FlowrunError of that Code (retryable, so
 * Retry rules behave as with real errors). A Task state without a mocked response rejects with
 * `Mock.NotMocked`. An aborted `request.signal` rejects with `FnF.Cancelled`.
 */
export function createMockTaskRunner(caseConfig: MockTestCase): MockTaskRunner {
  const counts = new Map<string, number>();
  const responses = caseConfig.MockedResponses ?? {};
  const runner = async (request: TaskRequest): Promise<Json> => {
    const state = request.context.stateName;
    if (request.signal?.aborted) throw cancellationError(request.signal.reason);
    const n = counts.get(state) ?? 0;
    counts.set(state, n + 1);
    const entry = Object.hasOwn(responses, state) ? responses[state] : undefined;
    if (entry === undefined) {
      const mocked = Object.keys(responses);
      throw new FlowrunError(
        EngineErrorNames.MockNotMocked,
        `Task state '${state}' (${request.action}) has no mocked response${mocked.length > 0 ? `; mocked states: ${mocked.join(', ')}` : ''}`,
      );
    }
    const list = Array.isArray(entry) ? entry : [entry];
    const response = list[Math.min(n, list.length - 1)];
    if (response === undefined) throw new FlowrunError(EngineErrorNames.MockNotMocked, `Task state '${state}' has an empty list of mocked responses`);
    if ('Error' in response) throw new FlowrunError(response.Error.Code, response.Error.Detail ?? '', { retryable: true });
    return structuredClone(response.Return);
  };
  return Object.assign(runner, { calls: (stateName: string) => counts.get(stateName) ?? 0 });
}

const MAX_RENDERED_VALUE_CHARS = 80;

function render(value: Json | undefined): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > MAX_RENDERED_VALUE_CHARS ? `${text.slice(0, MAX_RENDERED_VALUE_CHARS - 1)}…` : text;
}

/**
 * Path-based differences between two JSON values, one readable line each, e.g.
 * `/Items/2/name: expected "a", got "b"`, `/extra: unexpected, got 1`, `/id: missing, expected 7`,
 * `/Items: expected 3 items, got 2`. Object key order is ignored; an empty list means equal.
 */
export function diffJson(expected: Json, actual: Json): string[] {
  const out: string[] = [];
  walk(expected, actual, '', out);
  return out;
}

function walk(expected: Json, actual: Json, at: string, out: string[]): void {
  const where = at === '' ? '/' : at;
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length !== actual.length) out.push(`${where}: expected ${expected.length} items, got ${actual.length}`);
    const common = Math.min(expected.length, actual.length);
    for (let i = 0; i < common; i++) walk(expected[i] as Json, actual[i] as Json, `${at}/${i}`, out);
    for (let i = common; i < expected.length; i++) out.push(`${at}/${i}: missing, expected ${render(expected[i])}`);
    for (let i = common; i < actual.length; i++) out.push(`${at}/${i}: unexpected, got ${render(actual[i])}`);
    return;
  }
  if (isJsonObject(expected) && isJsonObject(actual)) {
    for (const key of Object.keys(expected)) {
      const child = `${at}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (!Object.hasOwn(actual, key)) out.push(`${child}: missing, expected ${render(expected[key])}`);
      else walk(expected[key] as Json, actual[key] as Json, child, out);
    }
    for (const key of Object.keys(actual)) {
      if (!Object.hasOwn(expected, key)) out.push(`${at}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}: unexpected, got ${render(actual[key])}`);
    }
    return;
  }
  if (expected === actual) return;
  const te = jsonTypeName(expected);
  const ta = jsonTypeName(actual);
  if (te !== ta && (te === 'object' || te === 'array' || ta === 'object' || ta === 'array')) {
    out.push(`${where}: expected ${te} ${render(expected)}, got ${ta} ${render(actual)}`);
  } else {
    out.push(`${where}: expected ${render(expected)}, got ${render(actual)}`);
  }
}
