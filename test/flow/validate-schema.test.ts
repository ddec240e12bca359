import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormatsPlugin from 'ajv-formats';
import type { FormatsPlugin } from 'ajv-formats';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseDefinitionText } from '../../src/flow/parse.js';
import { FLOW_SCHEMA_URL, flowSchema, STATE_TYPES } from '../../src/flow/schema.js';
import { validateDefinition } from '../../src/flow/validate.js';
import {
  EXPRESS_WAIT_SECONDS,
  MAX_MAP_CONCURRENCY,
  MAX_PARALLEL_BRANCHES,
  MAX_RETRY_INTERVAL_SECONDS,
  NAME_PATTERN,
  STANDARD_WAIT_SECONDS,
} from '../../src/shared/limits.js';

type Obj = Record<string, unknown>;
const schemaFile = new URL('../../schema/flow.schema.json', import.meta.url);
const shipped = JSON.parse(readFileSync(schemaFile, 'utf8')) as Obj;
const definitions = shipped['definitions'] as Record<string, Obj>;
const propsOf = (def: string): Obj => (definitions[def]?.['properties'] ?? {}) as Obj;
const addFormats: FormatsPlugin =
  typeof addFormatsPlugin === 'function' ? addFormatsPlugin : (addFormatsPlugin as unknown as { default: FormatsPlugin }).default;

describe('the shipped schema file', () => {
  it('is a valid draft-07 JSON schema that a fresh ajv compiles in strict mode', () => {
    expect(shipped['$schema']).toBe('http://json-schema.org/draft-07/schema#');
    const ajv = new Ajv({ strict: true, strictRequired: false, allowUnionTypes: true });
    addFormats(ajv);
    expect(ajv.validateSchema(shipped), JSON.stringify(ajv.errors)).toBe(true);
    const validate = ajv.compile(shipped);
    expect(validate({ Type: 'StateMachine', SpecVersion: 'v1', StartAt: 'A', States: [{ Name: 'A', Type: 'Pass', End: true }] })).toBe(true);
    expect(validate({ Type: 'StateMachine', SpecVersion: 'v1', StartAt: 'A', States: [{ Name: 'A', Type: 'Pass', Bogus: 1 }] })).toBe(false);
  });

  it('is the file the validator uses', () => {
    expect(FLOW_SCHEMA_URL.href).toBe(schemaFile.href);
    expect(flowSchema).toEqual(shipped);
  });

  it('has $id, title and a description on every field', () => {
    expect(shipped['$id']).toEqual(expect.any(String));
    expect(shipped['title']).toEqual(expect.any(String));
    expect(String(shipped['description'])).toContain('ExecutionMode');
    const missing: string[] = [];
    const check = (where: string, props: Obj): void => {
      for (const [name, schema] of Object.entries(props)) {
        if (typeof (schema as Obj)['description'] !== 'string') missing.push(`${where}.${name}`);
      }
    };
    check('(root)', shipped['properties'] as Obj);
    for (const name of Object.keys(definitions)) check(name, propsOf(name));
    expect(missing).toEqual([]);
  });

  it('gives every state kind exactly its fields', () => {
    const common = ['Name', 'Type', 'Description', 'Next', 'End', 'InputConstructor', 'OutputConstructor', 'GlobalConstructor'];
    const errors = ['Retry', 'Catch'];
    const expected: Record<string, string[]> = {
      Pass: common,
      Task: [...common, 'Action', 'TaskMode', 'Parameters', 'Timeout', ...errors, 'OnErrors'],
      Wait: [...common, 'Seconds', 'Seconds.$', 'UntilDateTime', 'UntilDateTime.$'],
      Choice: [...common, 'Branches', 'Default'],
      Parallel: [...common, 'Branches', ...errors],
      Map: [...common, 'ItemsPath', 'Processor', 'MaxConcurrency', 'MaxConcuccency', ...errors],
      Succeed: common,
      Fail: [...common, 'Code', 'Detail'],
    };
    expect(Object.keys(expected).sort()).toEqual([...STATE_TYPES].sort());
    for (const [type, fields] of Object.entries(expected)) {
      const def = definitions[`${type}State`];
      expect(Object.keys(propsOf(`${type}State`)).sort(), type).toEqual([...fields].sort());
      expect(def?.['additionalProperties'], type).toBe(false);
    }
    expect(Object.keys(propsOf('RetryRule')).sort()).toEqual(['BackoffRate', 'Description', 'Errors', 'IntervalSeconds', 'MaxAttempts', 'MaxBackoffSeconds']);
    expect(Object.keys(propsOf('CatchRule')).sort()).toEqual(['Description', 'Errors', 'Next', 'OutputConstructor']);
    expect(Object.keys(propsOf('OnErrorRule')).sort()).toEqual(['Description', 'Errors', 'Next', 'OutputConstructor', 'Retry']);
    expect(Object.keys(propsOf('OnErrorRetry')).sort()).toEqual(['FixedBackoff', 'MaxAttempts', 'Multiplier']);
  });

  it('states the same limits as src/shared/limits.ts', () => {
    const field = (def: string, name: string): Obj => propsOf(def)[name] as Obj;
    expect(field('ParallelState', 'Branches')['maxItems']).toBe(MAX_PARALLEL_BRANCHES);
    expect(field('MapState', 'MaxConcurrency')['maximum']).toBe(MAX_MAP_CONCURRENCY);
    expect(field('MapState', 'MaxConcuccency')['maximum']).toBe(MAX_MAP_CONCURRENCY);
    // The schema cannot know the mode: it states the widest range (Standard).
    expect(field('WaitState', 'Seconds')['minimum']).toBe(Math.min(STANDARD_WAIT_SECONDS.min, EXPRESS_WAIT_SECONDS.min));
    expect(field('WaitState', 'Seconds')['maximum']).toBe(STANDARD_WAIT_SECONDS.max);
    expect(field('RetryRule', 'IntervalSeconds')['maximum']).toBe(MAX_RETRY_INTERVAL_SECONDS);
    expect(field('RetryRule', 'MaxBackoffSeconds')['maximum']).toBe(MAX_RETRY_INTERVAL_SECONDS);
    expect((shipped['properties'] as Record<string, Obj>)['Name']?.['pattern']).toBe(NAME_PATTERN.source);
  });
});

const BIG_FLOW = `# Every state kind, nested scopes, error handling, legacy fields.
Type: StateMachine
SpecVersion: v1
Name: order-pipeline
Description: Processes an order end to end.
ExecutionMode: Standard
StartAt: Prepare
States:
  - Name: Prepare
    Type: Pass
    Description: Reshape the input.
    InputConstructor:
      orderId.$: $Input.id
      items.$: $Input.items
      source: api
    GlobalConstructor:
      startedBy.$: $Input.user
    Next: Validate
  - Name: Validate
    Type: Task
    Action: FC:InvokeFunction
    TaskMode: RequestComplete
    Timeout: "30"
    Parameters:
      invocationType: Sync
      resourceArn: acs:fc:cn-shanghai:123:functions/validate/LATEST
      body:
        order.$: $Input
    OutputConstructor:
      valid.$: $Output.Body.valid
      items.$: $Input.items
    Retry:
      - Errors: [FC.ResourceThrottled, FnF.Timeout]
        Description: transient
        MaxAttempts: 3
        IntervalSeconds: 2
        BackoffRate: 2
        MaxBackoffSeconds: 30
    Catch:
      - Errors: [FnF.ALL]
        Description: anything else
        Next: Rejected
        OutputConstructor:
          error.$: $Context.Current.Error
    Next: IsValid
  - Name: IsValid
    Type: Choice
    Description: Route on validity.
    InputConstructor:
      valid.$: $Input.valid
      items.$: $Input.items
    Branches:
      - Condition: $Input.valid == true
        Description: good order
        Next: Pause
      - Condition: $Input.valid == false
        Next: Rejected
    Default: Rejected
  - Name: Pause
    Type: Wait
    Seconds: 120
    Next: FanOut
  - Name: FanOut
    Type: Parallel
    Branches:
      - StartAt: Reserve
        States:
          - Name: Reserve
            Type: Task
            Action: HTTP:Request
            Timeout: 10
            Parameters:
              method: POST
              url: https://example.com/reserve
            OnErrors:
              - Errors: [FnF.Timeout]
                Description: legacy retry
                Retry: {MaxAttempts: 2, FixedBackoff: 1, Multiplier: 1.5}
              - Errors: [FnF.ALL]
                Next: ReserveFailed
                OutputConstructor: {reserved: false}
            End: true
          - Name: ReserveFailed
            Type: Fail
            Code: Reserve.Failed
            Detail: could not reserve stock
            End: true
      - StartAt: Notify
        States:
          - Name: Notify
            Type: Task
            Action: Mock
            TaskMode: WaitForCustomCallback
            Next: Delay
          - Name: Delay
            Type: Wait
            Seconds.$: $Input.delay
            Next: Until
          - Name: Until
            Type: Wait
            UntilDateTime: "2026-01-01T00:00:00Z"
            Next: UntilDynamic
          - Name: UntilDynamic
            Type: Wait
            UntilDateTime.$: $Input.deadline
            Next: Notified
          - Name: Notified
            Type: Succeed
            OutputConstructor: {notified: true}
    Retry:
      - Errors: [FnF.ALL]
        MaxAttempts: 1
        IntervalSeconds: 1
    Catch:
      - Errors: [Reserve.Failed]
        Next: Rejected
    OutputConstructor:
      reserve.$: $Output.Branch0
    Next: PerItem
  - Name: PerItem
    Type: Map
    ItemsPath: $Input.items
    MaxConcurrency: 10
    Processor:
      StartAt: Price
      States:
        - Name: Price
          Type: Task
          Action: FC:InvokeFunction
          Parameters: {resourceArn: acs:fc:cn-shanghai:123:functions/price/LATEST}
          Next: Inner
        - Name: Inner
          Type: Map
          ItemsPath: $Input.parts
          MaxConcuccency: 2
          Processor:
            StartAt: Part
            States:
              - Name: Part
                Type: Pass
                End: true
          End: true
    Catch:
      - Errors: [FnF.ALL]
        Next: Rejected
    Next: Done
  - Name: Done
    Type: Succeed
    Description: all good
  - Name: Rejected
    Type: Fail
    Code: Order.Rejected
    Detail: the order was rejected
`;

describe('a big valid flow', () => {
  it('with every state kind passes in Standard mode', () => {
    const parsed = parseDefinitionText(BIG_FLOW, 'order.yaml');
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const kinds = new Set<string>();
    JSON.stringify(parsed.document, (key, value: unknown) => {
      if (key === 'Type' && typeof value === 'string') kinds.add(value);
      return value;
    });
    for (const t of STATE_TYPES) expect(kinds.has(t), t).toBe(true);
    expect(validateDefinition(parsed.document)).toEqual([]);
  });
  it('is refused in Express mode only for the Express limits', () => {
    const parsed = parseDefinitionText(BIG_FLOW);
    if (!parsed.ok) throw new Error('parse failed');
    const problems = validateDefinition(parsed.document, { mode: 'Express' });
    expect(problems.map((p) => p.pointer)).toEqual(['/States/3/Seconds', '/States/4/Branches/1/States/0/TaskMode']);
  });
});

describe('the compiled validator', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });
  it('is compiled once: 10,000 validations compile nothing', () => {
    const compile = vi.spyOn(Ajv.prototype, 'compile');
    let problems = 0;
    for (let i = 0; i < 10_000; i++) {
      const doc = {
        Type: 'StateMachine',
        SpecVersion: 'v1',
        Name: `flow_${i}`,
        StartAt: 'A',
        States: [
          { Name: 'A', Type: 'Pass', Next: 'B' },
          { Name: 'B', Type: 'Wait', Seconds: (i % 25) + 1, End: true },
        ],
      };
      problems += validateDefinition(doc).length;
    }
    expect(compile).not.toHaveBeenCalled();
    // Seconds 21..25 exceed the Express limit: 5 out of every 25 flows.
    expect(problems).toBe(2_000);
  });
});
