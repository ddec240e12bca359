import { describe, expect, it } from 'vitest';
import { formatProblems, LEGACY_FORMAT_MESSAGE, validateDefinition } from '../../src/flow/validate.js';
import type { Problem } from '../../src/flow/validate.js';
import {
  EXPRESS_WAIT_SECONDS,
  MAX_MAP_CONCURRENCY,
  MAX_PARALLEL_BRANCHES,
  MAX_RETRY_INTERVAL_SECONDS,
  STANDARD_WAIT_SECONDS,
} from '../../src/shared/limits.js';

type Obj = Record<string, unknown>;

/** A flow whose StartAt is the first state. */
function flow(states: Obj[], extra: Obj = {}): Obj {
  return { Type: 'StateMachine', SpecVersion: 'v1', Name: 'test-flow', StartAt: states[0]?.['Name'] ?? 'A', States: states, ...extra };
}
const pass = (Name: string, rest: Obj = {}): Obj => ({ Name, Type: 'Pass', End: true, ...rest });
const task = (Name: string, rest: Obj = {}): Obj => ({ Name, Type: 'Task', Action: 'FC:InvokeFunction', End: true, ...rest });
/** A one-state flow around `state`, plus states it may refer to. */
const single = (state: Obj, ...others: Obj[]): Obj => flow([state, ...others]);

function expectProblem(problems: Problem[], pointer: string, phrase: string): void {
  expect(problems).toContainEqual(expect.objectContaining({ pointer, message: expect.stringContaining(phrase) }));
}
/** Exactly one problem, at `pointer`, mentioning `phrase`. */
function expectOnly(problems: Problem[], pointer: string, phrase: string): void {
  expect(problems, JSON.stringify(problems, null, 2)).toHaveLength(1);
  expectProblem(problems, pointer, phrase);
}
const valid = (doc: unknown, options?: Parameters<typeof validateDefinition>[1]): void => {
  expect(validateDefinition(doc, options)).toEqual([]);
};

describe('legacy dialect', () => {
  it('refuses type: flow with one problem at the root', () => {
    const problems = validateDefinition({ version: 'v1', type: 'flow', steps: [{ type: 'pass', name: 'a' }] });
    expect(problems).toEqual([{ pointer: '', message: LEGACY_FORMAT_MESSAGE }]);
    expect(LEGACY_FORMAT_MESSAGE).toContain('legacy FnF flow format');
  });
  it('refuses a document with steps: even without type', () => {
    expectOnly(validateDefinition({ steps: [] }), '', 'legacy FnF flow format');
  });
  it('refuses version + lowercase keys', () => {
    expectOnly(validateDefinition({ version: 'v1.0', name: 'x', inputMappings: [] }), '', 'legacy FnF flow format');
  });
  it('does not mistake a StateMachine with a stray lowercase key for the legacy format', () => {
    const problems = validateDefinition({ ...single(pass('A')), steps: [] });
    expectOnly(problems, '', "unknown field 'steps'");
  });
});

describe('document level (schema)', () => {
  it('accepts a minimal flow', () => valid(single(pass('A'))));
  it('accepts a flow without Name (flowrun uses the file name)', () => {
    const doc = single(pass('A'));
    delete doc['Name'];
    valid(doc);
  });
  it('requires Type: StateMachine', () => {
    expectOnly(validateDefinition({ ...single(pass('A')), Type: 'Flow' }), '/Type', 'must be StateMachine');
  });
  it('requires SpecVersion v1', () => {
    expectOnly(validateDefinition({ ...single(pass('A')), SpecVersion: 'v2' }), '/SpecVersion', 'must be v1');
  });
  it('lists every missing top-level field', () => {
    const problems = validateDefinition({ Name: 'x' });
    for (const field of ['Type', 'SpecVersion', 'StartAt', 'States']) expectProblem(problems, '', `missing required field '${field}'`);
    expect(problems).toHaveLength(4);
  });
  it('rejects unknown top-level fields, with a hint for ASL fields', () => {
    const problems = validateDefinition({ ...single(pass('A')), Comment: 'hi' });
    expectOnly(problems, '', "unknown field 'Comment'; CloudFlow uses Description");
  });
  it('checks the flow Name pattern', () => {
    expectOnly(validateDefinition({ ...single(pass('A')), Name: '9 bad name' }), '/Name', 'must be 1–128 letters, digits, _ or -');
    valid({ ...single(pass('A')), Name: '_ok-Name_1' });
  });
  it('accepts ExecutionMode Express|Standard and rejects others', () => {
    valid({ ...single(pass('A')), ExecutionMode: 'Standard' });
    valid({ ...single(pass('A')), ExecutionMode: 'Express' });
    expectOnly(validateDefinition({ ...single(pass('A')), ExecutionMode: 'Fast' }), '/ExecutionMode', 'must be one of Express, Standard');
  });
  it('requires States to be a non-empty list', () => {
    expectOnly(validateDefinition({ ...single(pass('A')), States: [] }), '/States', 'at least one state');
    expectOnly(validateDefinition({ ...single(pass('A')), States: { A: pass('A') } }), '/States', 'must be a list, got a mapping');
  });
  it('refuses a document that is not a mapping', () => {
    expectOnly(validateDefinition([1, 2]), '', 'a flow definition must be a mapping');
    expectOnly(validateDefinition('Type: StateMachine'), '', 'a flow definition must be a mapping');
    expectOnly(validateDefinition(null), '', 'got null');
  });
});

describe('state kinds (schema)', () => {
  it('reports an unknown Type as exactly one problem for that state', () => {
    const problems = validateDefinition(flow([pass('A', { End: undefined, Next: 'B' }), { Name: 'B', Type: 'Paas', Foo: 1, End: 'yes', Next: 'Nowhere' }]));
    expectOnly(problems, '/States/1/Type', 'must be one of Task, Pass, Wait, Choice, Parallel, Map, Succeed, Fail (got "Paas")');
    const nameless = validateDefinition(flow([pass('A'), { Type: 'Teleport', Catch: 5 }]));
    expectOnly(nameless, '/States/1/Type', 'got "Teleport"');
  });
  it('suggests the right spelling of a Type', () => {
    expectOnly(validateDefinition(single({ Name: 'A', Type: 'pass', End: true })), '/States/0/Type', "did you mean 'Pass'?");
  });
  it('reports a missing Type once', () => {
    expectOnly(validateDefinition(single({ Name: 'A', End: true, Whatever: 1 })), '/States/0', "missing required field 'Type'");
  });
  it('reports a state that is not a mapping', () => {
    const problems = validateDefinition(flow([pass('A'), 'B' as unknown as Obj]));
    expectOnly(problems, '/States/1', 'each state must be a mapping with Name and Type, got "B"');
  });
  it('requires a Name on every state', () => {
    const problems = validateDefinition({ ...single(pass('A')), States: [{ Type: 'Pass', End: true }] });
    expectProblem(problems, '/States/0', "missing required field 'Name'");
    // StartAt: A cannot name the nameless state either.
    expectProblem(problems, '/StartAt', "no state named 'A'");
    expect(problems).toHaveLength(2);
  });
  it('rejects unknown fields and lists what the kind accepts', () => {
    const problems = validateDefinition(single(pass('A', { ResultPath: '$.x' })));
    expectOnly(problems, '/States/0', "unknown field 'ResultPath'");
    expect(problems[0]?.message).toContain('Pass states accept: Name, Type, Description, Next, End, InputConstructor, OutputConstructor, GlobalConstructor');
  });
  it('says which kinds a misplaced field belongs to', () => {
    expectOnly(validateDefinition(single(pass('A', { Retry: [] }))), '/States/0', 'Retry belongs to Task, Parallel and Map states');
  });
  it('suggests the right spelling of a field', () => {
    const problems = validateDefinition(flow([pass('A', { End: undefined, next: 'B' }), pass('B')]));
    expectProblem(problems, '/States/0', "unknown field 'next'; did you mean 'Next'?");
  });
  it('checks the types of common fields', () => {
    const problems = validateDefinition(single(pass('A', { End: 'yes', Description: 5, InputConstructor: [] })));
    expectProblem(problems, '/States/0/End', 'must be true or false, got "yes"');
    expectProblem(problems, '/States/0/Description', 'must be a string, got 5');
    expectProblem(problems, '/States/0/InputConstructor', 'must be a mapping (object), got a list');
  });
  it('lets constructor and Parameters keys be free-form', () => {
    valid(
      single(
        task('A', {
          InputConstructor: { 'a.$': '$Input.a', 'weird/key~': 1, nested: { ResultPath: 'fine' } },
          OutputConstructor: { 'b.$': '$Output.b' },
          GlobalConstructor: { 'count.$': '$Input.n' },
          Parameters: { invocationType: 'Sync', 'body.$': '$Input', deep: { Next: 'not a state' } },
        }),
      ),
    );
  });
  it('does not check expressions', () => {
    valid(flow([{ Name: 'C', Type: 'Choice', Branches: [{ Condition: '((( not an expression', Next: 'B' }], Default: 'B' }, pass('B')]));
  });
});

describe('Task', () => {
  it('requires Action', () => {
    expectOnly(validateDefinition(single({ Name: 'A', Type: 'Task', End: true })), '/States/0', "missing required field 'Action'");
  });
  it('checks the Action format and allows Mock', () => {
    expectOnly(validateDefinition(single(task('A', { Action: 'InvokeFunction' }))), '/States/0/Action', 'must be <Service>:<Operation>');
    expectOnly(validateDefinition(single(task('A', { Action: 'FC:Invoke Function' }))), '/States/0/Action', 'must be <Service>:<Operation>');
    valid(single(task('A', { Action: 'Mock' })));
    valid(single(task('A', { Action: 'HTTP:Request' })));
  });
  it('checks TaskMode values', () => {
    expectOnly(validateDefinition(single(task('A', { TaskMode: 'Sync' }))), '/States/0/TaskMode', 'must be one of RequestComplete, WaitForCustomCallback, WaitForSystemCallback');
    valid(single(task('A', { TaskMode: 'RequestComplete' })));
  });
  it('accepts Timeout as digits or an integer', () => {
    valid(single(task('A', { Timeout: '30' })));
    valid(single(task('A', { Timeout: 30 })));
    expectOnly(validateDefinition(single(task('A', { Timeout: '30s' }))), '/States/0/Timeout', 'whole number of seconds');
    expectOnly(validateDefinition(single(task('A', { Timeout: 0 }))), '/States/0/Timeout', 'must be at least 1');
    expectOnly(validateDefinition(single(task('A', { Timeout: 1.5 }))), '/States/0/Timeout', 'must be a string or an integer');
  });
  it('requires Parameters to be a mapping', () => {
    expectOnly(validateDefinition(single(task('A', { Parameters: 'x' }))), '/States/0/Parameters', 'must be a mapping');
  });
  it('refuses callback task modes in Express flows only', () => {
    for (const mode of ['WaitForCustomCallback', 'WaitForSystemCallback']) {
      const doc = single(task('A', { TaskMode: mode }));
      expectOnly(validateDefinition(doc), '/States/0/TaskMode', `TaskMode ${mode} is not available in Express flows`);
      valid(doc, { mode: 'Standard' });
      valid({ ...doc, ExecutionMode: 'Standard' });
    }
  });
  it('lets options.mode override the document ExecutionMode', () => {
    const doc = { ...single(task('A', { TaskMode: 'WaitForCustomCallback' })), ExecutionMode: 'Standard' };
    expectOnly(validateDefinition(doc, { mode: 'Express' }), '/States/0/TaskMode', 'not available in Express flows');
  });
});

describe('Retry, Catch and OnErrors rules', () => {
  it('accepts complete rules', () => {
    valid(
      flow([
        task('A', {
          End: undefined,
          Next: 'B',
          Retry: [{ Errors: ['FnF.Timeout'], Description: 'r', MaxAttempts: 3, IntervalSeconds: 1, BackoffRate: 2, MaxBackoffSeconds: 10 }],
          Catch: [{ Errors: ['FnF.ALL'], Description: 'c', Next: 'B', OutputConstructor: { 'e.$': '$Context.Current.Error' } }],
        }),
        pass('B'),
      ]),
    );
  });
  it('checks Retry rule fields', () => {
    const problems = validateDefinition(single(task('A', { Retry: [{ Errors: [], MaxAttempts: -1, IntervalSeconds: -1, BackoffRate: 0.5, Jitter: true }] })));
    expectProblem(problems, '/States/0/Retry/0/Errors', 'at least one error name');
    expectProblem(problems, '/States/0/Retry/0/MaxAttempts', 'must be at least 0');
    expectProblem(problems, '/States/0/Retry/0/IntervalSeconds', 'must be at least 0');
    expectProblem(problems, '/States/0/Retry/0/BackoffRate', 'must be at least 1');
    expectProblem(problems, '/States/0/Retry/0', "unknown field 'Jitter' (Retry rules accept: Errors, Description, MaxAttempts");
    expect(problems).toHaveLength(5);
  });
  it('requires Errors in every rule and Next in Catch rules', () => {
    const problems = validateDefinition(single(task('A', { Retry: [{ MaxAttempts: 1 }], Catch: [{ Errors: ['FnF.ALL'] }] })));
    expectProblem(problems, '/States/0/Retry/0', "missing required field 'Errors'");
    expectProblem(problems, '/States/0/Catch/0', "missing required field 'Next'");
    expect(problems).toHaveLength(2);
  });
  it('limits IntervalSeconds and MaxBackoffSeconds', () => {
    const over = MAX_RETRY_INTERVAL_SECONDS + 1;
    const problems = validateDefinition(single(task('A', { Retry: [{ Errors: ['FnF.ALL'], IntervalSeconds: over, MaxBackoffSeconds: over }] })));
    expectProblem(problems, '/States/0/Retry/0/IntervalSeconds', `must be at most ${MAX_RETRY_INTERVAL_SECONDS} seconds (got ${over})`);
    expectProblem(problems, '/States/0/Retry/0/MaxBackoffSeconds', `must be at most ${MAX_RETRY_INTERVAL_SECONDS} seconds`);
    expect(problems).toHaveLength(2);
    valid(single(task('A', { Retry: [{ Errors: ['FnF.ALL'], IntervalSeconds: MAX_RETRY_INTERVAL_SECONDS, MaxBackoffSeconds: MAX_RETRY_INTERVAL_SECONDS }] })));
  });
  it('rejects unknown fields in Catch rules', () => {
    expectOnly(validateDefinition(flow([task('A', { Catch: [{ Errors: ['FnF.ALL'], Next: 'A', ResultPath: '$.e' }] })])), '/States/0/Catch/0', "unknown field 'ResultPath'");
  });
  it('accepts legacy OnErrors and checks its fields', () => {
    valid(
      flow([
        task('A', {
          End: undefined,
          Next: 'B',
          OnErrors: [
            { Errors: ['FC.ResourceThrottled'], Description: 'retry', Retry: { MaxAttempts: 5, FixedBackoff: 2, Multiplier: 1.5 } },
            { Errors: ['FnF.ALL'], Next: 'B', OutputConstructor: { failed: true } },
          ],
        }),
        pass('B'),
      ]),
    );
    const problems = validateDefinition(single(task('A', { OnErrors: [{ Errors: ['FnF.ALL'], Retry: { MaxAttempts: 1, Interval: 2 } }] })));
    expectOnly(problems, '/States/0/OnErrors/0/Retry', "unknown field 'Interval' (OnErrors Retry settings accept: MaxAttempts, FixedBackoff, Multiplier)");
  });
  it('allows Retry and Catch only on Task, Parallel and Map', () => {
    const problems = validateDefinition(single({ Name: 'W', Type: 'Wait', Seconds: 1, End: true, Catch: [] }));
    expectOnly(problems, '/States/0', "unknown field 'Catch'");
  });
});

describe('Wait', () => {
  const wait = (rest: Obj): Obj => ({ Name: 'W', Type: 'Wait', End: true, ...rest });
  it('accepts each way of waiting', () => {
    valid(single(wait({ Seconds: 5 })));
    valid(single(wait({ 'Seconds.$': '$Input.delay' })));
    valid(single(wait({ UntilDateTime: '2026-01-01T00:00:00Z' })));
    valid(single(wait({ 'UntilDateTime.$': '$Input.until' })));
  });
  it('needs one way of waiting', () => {
    expectOnly(validateDefinition(single(wait({}))), '/States/0', 'a Wait state needs one of Seconds, Seconds.$, UntilDateTime or UntilDateTime.$');
  });
  it('refuses two ways of waiting at once', () => {
    expectOnly(validateDefinition(single(wait({ Seconds: 2, 'Seconds.$': '$Input.x' }))), '/States/0', 'can use only one of');
    expectOnly(validateDefinition(single(wait({ Seconds: 2, UntilDateTime: '2026-01-01T00:00:00Z' }))), '/States/0', 'found Seconds and UntilDateTime');
  });
  it('checks Seconds type and UntilDateTime format', () => {
    expectOnly(validateDefinition(single(wait({ Seconds: '5' }))), '/States/0/Seconds', 'must be an integer, got "5"');
    expectOnly(validateDefinition(single(wait({ UntilDateTime: 'tomorrow' }))), '/States/0/UntilDateTime', 'RFC 3339 date-time');
  });
  it('limits Seconds by execution mode', () => {
    const tooLongForExpress = EXPRESS_WAIT_SECONDS.max + 1;
    expectOnly(validateDefinition(single(wait({ Seconds: tooLongForExpress }))), '/States/0/Seconds', `between ${EXPRESS_WAIT_SECONDS.min} and ${EXPRESS_WAIT_SECONDS.max} seconds in Express flows (got ${tooLongForExpress})`);
    valid(single(wait({ Seconds: EXPRESS_WAIT_SECONDS.max })));
    valid(single(wait({ Seconds: tooLongForExpress })), { mode: 'Standard' });
    valid({ ...single(wait({ Seconds: STANDARD_WAIT_SECONDS.max })), ExecutionMode: 'Standard' });
    expectOnly(validateDefinition(single(wait({ Seconds: STANDARD_WAIT_SECONDS.max + 1 })), { mode: 'Standard' }), '/States/0/Seconds', 'in Standard flows');
    expectOnly(validateDefinition(single(wait({ Seconds: 0 }))), '/States/0/Seconds', `between ${EXPRESS_WAIT_SECONDS.min} and`);
  });
});

describe('Choice', () => {
  const choice = (rest: Obj = {}): Obj => ({ Name: 'C', Type: 'Choice', Branches: [{ Condition: '$Input.x > 1', Next: 'B' }], Default: 'D', ...rest });
  it('accepts branches and a default', () => valid(flow([choice(), pass('B'), pass('D')])));
  it('requires Default', () => {
    const c = choice();
    delete c['Default'];
    const problems = validateDefinition(flow([c, pass('B')]));
    expectOnly(problems, '/States/0', "missing required field 'Default'");
  });
  it('requires at least one branch', () => {
    const problems = validateDefinition(flow([choice({ Branches: [] }), pass('D')]));
    expectOnly(problems, '/States/0/Branches', 'at least one branch');
  });
  it('checks branch fields', () => {
    const problems = validateDefinition(flow([choice({ Branches: [{ Condition: 'true', Next: 'B', Description: 'ok' }, { Next: 'B', Goto: 'D' }] }), pass('B'), pass('D')]));
    expectProblem(problems, '/States/0/Branches/1', "missing required field 'Condition'");
    expectProblem(problems, '/States/0/Branches/1', "unknown field 'Goto' (Choice branches accept: Condition, Next, Description)");
    expect(problems).toHaveLength(2);
  });
  it('cannot have Next or End', () => {
    const problems = validateDefinition(flow([choice({ Next: 'B', End: true }), pass('B'), pass('D')]));
    expectProblem(problems, '/States/0/Next', 'Choice states cannot have Next');
    expectProblem(problems, '/States/0/End', 'Choice states cannot have End');
    expect(problems).toHaveLength(2);
  });
  it('checks that branch Next and Default name states of the scope', () => {
    const problems = validateDefinition(flow([choice({ Branches: [{ Condition: 'true', Next: 'Nowhere' }], Default: 'Gone' }), pass('B'), pass('D')]));
    expectProblem(problems, '/States/0/Branches/0/Next', "no state named 'Nowhere' in the top level (states here: C, B, D)");
    expectProblem(problems, '/States/0/Default', "no state named 'Gone'");
  });
});

describe('Parallel', () => {
  const branch = (name: string): Obj => ({ StartAt: name, States: [pass(name)] });
  const parallel = (branches: Obj[], rest: Obj = {}): Obj => ({ Name: 'P', Type: 'Parallel', Branches: branches, End: true, ...rest });
  it('accepts branches with their own scopes (names may repeat across scopes)', () => {
    valid(flow([parallel([branch('A'), branch('A')], { Retry: [{ Errors: ['FnF.ALL'] }] })]));
  });
  it('requires Branches with StartAt and States, nothing else', () => {
    const problems = validateDefinition(flow([parallel([{ States: [pass('A')] }, { StartAt: 'A', States: [pass('A')], Name: 'b' }])]));
    expectProblem(problems, '/States/0/Branches/0', "missing required field 'StartAt'");
    expectProblem(problems, '/States/0/Branches/1', "unknown field 'Name' (Parallel branches and Map Processors accept: StartAt, States)");
    expect(problems).toHaveLength(2);
  });
  it(`allows at most ${MAX_PARALLEL_BRANCHES} branches`, () => {
    const many = Array.from({ length: MAX_PARALLEL_BRANCHES + 1 }, (_, i) => branch(`S${i}`));
    expectOnly(validateDefinition(flow([parallel(many)])), '/States/0/Branches', `at most ${MAX_PARALLEL_BRANCHES} branches (this one has ${MAX_PARALLEL_BRANCHES + 1})`);
    valid(flow([parallel(many.slice(0, MAX_PARALLEL_BRANCHES))]));
  });
  it('validates each branch as its own scope', () => {
    const problems = validateDefinition(
      flow([parallel([branch('A'), { StartAt: 'X', States: [pass('A', { End: undefined, Next: 'Out' })] }]), pass('Out')], { StartAt: 'P' }),
    );
    // The parallel's End and the top-level "Out" are fine except Out is unreachable.
    expectProblem(problems, '/States/0/Branches/1/StartAt', "no state named 'X' in branch 1 of Parallel state 'P' (states here: A)");
    expectProblem(problems, '/States/0/Branches/1/States/0/Next', "'Out' is in another scope");
    expectProblem(problems, '/States/1', "state 'Out' is never reached from StartAt");
    expect(problems).toHaveLength(3);
  });
});

describe('Map', () => {
  const map = (rest: Obj = {}): Obj => ({ Name: 'M', Type: 'Map', ItemsPath: '$Input.items', Processor: { StartAt: 'I', States: [pass('I')] }, End: true, ...rest });
  it('accepts a Map with either spelling of MaxConcurrency', () => {
    valid(single(map({ MaxConcurrency: MAX_MAP_CONCURRENCY })));
    valid(single(map({ MaxConcuccency: 0 })));
  });
  it('requires ItemsPath and Processor', () => {
    const problems = validateDefinition(single({ Name: 'M', Type: 'Map', End: true }));
    expectProblem(problems, '/States/0', "missing required field 'ItemsPath'");
    expectProblem(problems, '/States/0', "missing required field 'Processor'");
    expect(problems).toHaveLength(2);
  });
  it(`limits MaxConcurrency to ${MAX_MAP_CONCURRENCY}`, () => {
    expectOnly(validateDefinition(single(map({ MaxConcurrency: MAX_MAP_CONCURRENCY + 1 }))), '/States/0/MaxConcurrency', `must be at most ${MAX_MAP_CONCURRENCY}`);
    expectOnly(validateDefinition(single(map({ MaxConcuccency: MAX_MAP_CONCURRENCY + 1 }))), '/States/0/MaxConcuccency', `must be at most ${MAX_MAP_CONCURRENCY}`);
    expectOnly(validateDefinition(single(map({ MaxConcurrency: -1 }))), '/States/0/MaxConcurrency', 'must be at least 0');
  });
  it('refuses both spellings at once', () => {
    expectOnly(validateDefinition(single(map({ MaxConcurrency: 2, MaxConcuccency: 2 }))), '/States/0', 'not both');
  });
  it('validates the Processor as its own scope', () => {
    const problems = validateDefinition(single(map({ Processor: { StartAt: 'I', States: [pass('I', { End: undefined })] } })));
    expectOnly(problems, '/States/0/Processor/States/0', "Pass state 'I' needs either Next or End: true");
  });
});

describe('Succeed and Fail', () => {
  it('accept their fields; Fail tolerates End', () => {
    valid(flow([{ Name: 'C', Type: 'Choice', Branches: [{ Condition: 'true', Next: 'S' }], Default: 'F' }, { Name: 'S', Type: 'Succeed' }, { Name: 'F', Type: 'Fail', Code: 'E', Detail: 'd', End: true }]));
  });
  it('Fail requires Detail', () => {
    expectOnly(validateDefinition(single({ Name: 'F', Type: 'Fail', Code: 'E' })), '/States/0', "missing required field 'Detail'");
  });
  it('cannot have Next', () => {
    const problems = validateDefinition(flow([{ Name: 'S', Type: 'Succeed', Next: 'F' }, { Name: 'F', Type: 'Fail', Detail: 'd', Next: 'S' }]));
    expectProblem(problems, '/States/0/Next', 'Succeed states end their scope and cannot have Next');
    expectProblem(problems, '/States/1/Next', 'Fail states end their scope and cannot have Next');
    expect(problems).toHaveLength(2);
  });
});

describe('scopes, names and transitions', () => {
  it('needs either Next or End: true on non-terminal states', () => {
    for (const state of [pass('A', { End: undefined }), task('A', { End: false }), { Name: 'A', Type: 'Wait', Seconds: 1 }]) {
      expectOnly(validateDefinition(single(state)), '/States/0', 'needs either Next or End: true');
    }
  });
  it('refuses both Next and End: true', () => {
    expectOnly(validateDefinition(flow([pass('A', { Next: 'B' }), pass('B')])), '/States/0', 'cannot have both Next and End: true');
    valid(flow([pass('A', { End: false, Next: 'B' }), pass('B')]));
  });
  it('requires unique names per scope', () => {
    const problems = validateDefinition(flow([pass('A', { End: undefined, Next: 'B' }), pass('B'), pass('A')]));
    expectOnly(problems, '/States/2/Name', "duplicate state name 'A' in the top level (also used by /States/0)");
  });
  it('requires StartAt to name a state of the scope', () => {
    const problems = validateDefinition(flow([pass('A')], { StartAt: 'Begin' }));
    expectOnly(problems, '/StartAt', "no state named 'Begin' in the top level (states here: A)");
  });
  it('requires Next to name a state of the same scope', () => {
    const problems = validateDefinition(flow([pass('A', { End: undefined, Next: 'b' }), pass('B')]));
    expectProblem(problems, '/States/0/Next', "no state named 'b' in the top level (states here: A, B)");
  });
  it('checks Catch Next and OnErrors Next', () => {
    const problems = validateDefinition(single(task('A', { Catch: [{ Errors: ['FnF.ALL'], Next: 'X' }], OnErrors: [{ Errors: ['FnF.ALL'], Next: 'Y' }] })));
    expectProblem(problems, '/States/0/Catch/0/Next', "no state named 'X'");
    expectProblem(problems, '/States/0/OnErrors/0/Next', "no state named 'Y'");
    expect(problems).toHaveLength(2);
  });
  it('reports states never reached from StartAt', () => {
    const problems = validateDefinition(flow([pass('A'), pass('B'), pass('C', { End: undefined, Next: 'B' })]));
    expectProblem(problems, '/States/1', "state 'B' is never reached from StartAt ('A')");
    expectProblem(problems, '/States/2', "state 'C' is never reached from StartAt");
    expect(problems).toHaveLength(2);
  });
  it('follows Catch, Default and branch Next when looking for unreachable states', () => {
    valid(
      flow([
        task('A', { End: undefined, Next: 'C', Catch: [{ Errors: ['FnF.ALL'], Next: 'Handler' }] }),
        { Name: 'C', Type: 'Choice', Branches: [{ Condition: 'true', Next: 'Yes' }], Default: 'No' },
        pass('Yes'),
        pass('No'),
        { Name: 'Handler', Type: 'Fail', Detail: 'failed' },
      ]),
    );
  });
  it('checks reachability inside nested scopes', () => {
    const doc = flow([{ Name: 'M', Type: 'Map', ItemsPath: '$Input.x', End: true, Processor: { StartAt: 'I', States: [pass('I'), pass('Lost')] } }]);
    expectOnly(validateDefinition(doc), '/States/0/Processor/States/1', "state 'Lost' is never reached from StartAt ('I')");
  });
});

describe('several problems, malformed input', () => {
  it('reports every problem at once, in document order', () => {
    const doc = {
      Type: 'StateMachine',
      SpecVersion: 'v1',
      StartAt: 'A',
      ExecutionMode: 'Express',
      States: [
        pass('A', { End: undefined, Next: 'Missing' }),
        { Name: 'B', Type: 'Wait', Seconds: 60, Next: 'A' },
        task('C', { Action: 'nope', TaskMode: 'WaitForCustomCallback', Extra: 1 }),
        pass('A'),
        { Name: 'Z', Type: 'Teleport' },
      ],
    };
    const problems = validateDefinition(doc);
    expectProblem(problems, '/States/0/Next', "no state named 'Missing'");
    expectProblem(problems, '/States/1/Seconds', 'in Express flows');
    expectProblem(problems, '/States/1', "state 'B' is never reached");
    expectProblem(problems, '/States/2', "unknown field 'Extra'");
    expectProblem(problems, '/States/2/Action', 'must be <Service>:<Operation>');
    expectProblem(problems, '/States/2/TaskMode', 'not available in Express flows');
    expectProblem(problems, '/States/3/Name', "duplicate state name 'A'");
    expectProblem(problems, '/States/4/Type', 'must be one of');
    expect(problems.length).toBeGreaterThanOrEqual(8);
    const order = problems.map((p) => p.pointer);
    expect(order.indexOf('/States/0/Next')).toBeLessThan(order.indexOf('/States/1/Seconds'));
    expect(order.indexOf('/States/3/Name')).toBeLessThan(order.indexOf('/States/4/Type'));
  });
  it('never throws on malformed structures and still reports problems', () => {
    const docs: unknown[] = [
      undefined,
      42,
      { Type: 'StateMachine', SpecVersion: 'v1', StartAt: 5, States: [null, [], 7] },
      { Type: 'StateMachine', SpecVersion: 'v1', StartAt: 'P', States: [{ Name: 'P', Type: 'Parallel', Branches: 'x', End: true }] },
      { Type: 'StateMachine', SpecVersion: 'v1', StartAt: 'P', States: [{ Name: 'P', Type: 'Parallel', Branches: [null, { StartAt: 'A', States: 'no' }], End: true }] },
      { Type: 'StateMachine', SpecVersion: 'v1', StartAt: 'M', States: [{ Name: 'M', Type: 'Map', ItemsPath: 1, Processor: [], End: true }] },
      { Type: 'StateMachine', SpecVersion: 'v1', StartAt: 'C', States: [{ Name: 'C', Type: 'Choice', Branches: [null, 1], Default: {} }] },
      { Type: 'StateMachine', SpecVersion: 'v1', StartAt: 'T', States: [{ Name: 'T', Type: 'Task', Action: 'A:B', End: true, Retry: 'x', Catch: [null], OnErrors: {} }] },
      { Type: 'StateMachine', SpecVersion: 'v1', StartAt: 'A', States: [{ Name: ['A'], Type: 'Pass', Next: 3 }] },
    ];
    for (const doc of docs) {
      const problems = validateDefinition(doc);
      expect(problems.length, JSON.stringify(doc)).toBeGreaterThan(0);
      for (const p of problems) expect(p.message.length).toBeGreaterThan(0);
    }
  });
  it('escapes pointers per RFC 6901 and sorts indices numerically', () => {
    const states = Array.from({ length: 12 }, (_, i) => pass(`S${i}`, { End: undefined, Next: `S${i + 1}` }));
    const problems = validateDefinition(flow(states));
    // S11's Next names S12, which does not exist; nothing else is wrong.
    expectOnly(problems, '/States/11/Next', "no state named 'S12'");
    const two = validateDefinition(flow([pass('A', { 'a/b~c': 1 }), { Name: 'x', Type: 'Pass', End: true }]));
    expect(two.map((p) => p.pointer)).toEqual(['/States/0', '/States/1']);
  });
});

describe('formatProblems', () => {
  it('writes one line per problem, with file, line:column and pointer when known', () => {
    const text = formatProblems(
      [
        { pointer: '/States/1/Next', message: "no state named 'X'", line: 7, column: 5 },
        { pointer: '', message: 'the legacy format' },
      ],
      'flow.yaml',
    );
    expect(text.split('\n')).toEqual(["flow.yaml:7:5: /States/1/Next: no state named 'X'", 'flow.yaml: the legacy format']);
  });
  it('works without a file name', () => {
    expect(formatProblems([{ pointer: '/StartAt', message: 'm' }])).toBe('/StartAt: m');
    expect(formatProblems([])).toBe('');
  });
});
