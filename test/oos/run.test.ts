/** Templates compiled to the shared graph and RUN by the in-memory interpreter (runExecution). */
import { describe, expect, it } from 'vitest';
import { END_NODE_NAME, LOOP_ITEM_KEY, outputKey, skippedNodeName, statusKey } from '../../src/oos/index.js';
import type { MapNode } from '../../src/flow/graph.js';
import type { EvalScope } from '../../src/flow/expr/index.js';
import { start, step } from '../../src/interpreter/step.js';
import type { Command } from '../../src/interpreter/types.js';
import { ManualClock } from '../../src/shared/clock.js';
import { FlowrunError } from '../../src/shared/errors.js';
import type { Json, JsonObject } from '../../src/shared/json.js';
import { acsEngine, actions, doc, rootSteps, run, START, tpl, withApprovals } from './helpers.js';

const api = 'ACS::ExecuteAPI';

describe('sequential tasks', () => {
  const t = tpl(
    doc(`Parameters:
  regionId: { Type: String, Default: '{{ ACS::RegionId }}' }
Tasks:
  - Name: describeRegions
    Action: ACS::ExecuteApi
    Properties:
      Service: ECS
      API: DescribeRegions
      Parameters: { RegionId: '{{ regionId }}' }
    Outputs:
      regionIds: { Type: List, ValueSelector: 'Regions.Region[].RegionId' }
      count: { Type: Number, ValueSelector: '.Regions.Region | length' }
  - Name: tagRegions
    Action: ACS::ExecuteAPI
    Properties:
      Service: ECS
      API: TagResources
      Parameters:
        ResourceIds: '{{ describeRegions.regionIds }}'
        Note: 'tagging {{ describeRegions.count }} regions in {{ regionId }} for {{ ACS::ExecutionId }}'
    Outputs:
      requestId: { ValueSelector: RequestId }
Outputs:
  regions: { Type: List, Value: '{{ describeRegions.regionIds }}' }
  requestId: { Type: String, Value: '{{ tagRegions.requestId }}' }
  localNames: { Type: List, Value: '{{ describeRegions.Regions.Region[].LocalName }}' }
`),
    { regionId: 'cn-shanghai' },
  );

  it('passes outputs downstream with native types and builds the template Outputs', async () => {
    const runner = actions({
      [api]: (p): Json => {
        const params = p as JsonObject;
        if (params['API'] === 'DescribeRegions') return { Regions: { Region: [{ RegionId: 'cn-hangzhou', LocalName: 'Hangzhou' }, { RegionId: 'cn-shanghai', LocalName: 'Shanghai' }] } };
        return { RequestId: 'R-1' };
      },
    });
    const r = await run(t, {}, runner, { executionName: 'exec-abc' });
    expect(r.status).toBe('Succeeded');
    expect(runner.requests[0]?.parameters).toEqual({ Service: 'ECS', API: 'DescribeRegions', Parameters: { RegionId: 'cn-shanghai' } });
    expect(runner.requests[1]?.parameters).toEqual({
      Service: 'ECS',
      API: 'TagResources',
      Parameters: { ResourceIds: ['cn-hangzhou', 'cn-shanghai'], Note: 'tagging 2 regions in cn-shanghai for exec-abc' },
    });
    expect(r.output).toEqual({ regions: ['cn-hangzhou', 'cn-shanghai'], requestId: 'R-1', localNames: ['Hangzhou', 'Shanghai'] });
    expect(rootSteps(r)).toEqual(['describeRegions', 'tagRegions', END_NODE_NAME]);
    expect(runner.requests[0]?.context.stateName).toBe('describeRegions');
  });

  it('OnSuccess jumps; ACS::END ends with the template Outputs', async () => {
    const t2 = tpl(doc(`Tasks:\n  - { Name: a, Action: ACS::ExecuteAPI, Properties: { Service: S, API: A }, OnSuccess: c }\n  - { Name: b, Action: ACS::ExecuteAPI, Properties: { Service: S, API: B } }\n  - { Name: c, Action: ACS::ExecuteAPI, Properties: { Service: S, API: C }, OnSuccess: ACS::END }\n  - { Name: d, Action: ACS::ExecuteAPI, Properties: { Service: S, API: D } }\n`));
    const runner = actions({ [api]: () => ({}) });
    const r = await run(t2, {}, runner);
    expect(r.status).toBe('Succeeded');
    expect(runner.requests.map((q) => (q.parameters as JsonObject)['API'])).toEqual(['A', 'C']);
  });
});

describe('errors', () => {
  const t = tpl(
    doc(`Tasks:
  - Name: createThing
    Action: ACS::ExecuteAPI
    Properties: { Service: ECS, API: CreateThing }
    OnError: cleanUp
    Outputs: { id: { ValueSelector: Id } }
  - Name: useThing
    Action: ACS::ExecuteAPI
    Properties: { Service: ECS, API: UseThing, Parameters: { Id: '{{ createThing.id }}' } }
  - Name: cleanUp
    Action: ACS::ExecuteAPI
    Properties: { Service: ECS, API: CleanUp }
Outputs:
  id: { Value: '{{ createThing.id }}' }
`),
  );

  it('OnError goes to a recovery task; the execution then succeeds (UNCONFIRMED rule) and records the failure', async () => {
    const runner = actions({
      [api]: (p) => {
        if ((p as JsonObject)['API'] === 'CreateThing') throw new FlowrunError('Forbidden.RAM', 'no permission');
        return {};
      },
    });
    const r = await run(t, {}, runner);
    expect(r.status).toBe('Succeeded');
    expect(runner.requests.map((q) => (q.parameters as JsonObject)['API'])).toEqual(['CreateThing', 'CleanUp']);
    expect(r.events.find((e) => e.type === 'StepFailed' && e.step === 'createThing')?.detail).toMatchObject({ Code: 'Forbidden.RAM' });
    expect(r.events.some((e) => e.type === 'StepCaught' && e.step === 'createThing')).toBe(true);
    expect(r.output).toEqual({ id: null });
  });

  it('without OnError (ACS::END) a failure fails the execution with the error name', async () => {
    const runner = actions({
      [api]: (p) => {
        if ((p as JsonObject)['API'] === 'UseThing') throw new FlowrunError('InvalidId', 'bad id');
        return { Id: 'x-1' };
      },
    });
    const r = await run(t, {}, runner);
    expect(r.status).toBe('Failed');
    expect(r.error).toEqual({ Code: 'InvalidId', Detail: 'bad id' });
    expect(runner.requests.map((q) => (q.parameters as JsonObject)['API'])).toEqual(['CreateThing', 'UseThing']);
  });
});

describe('Retries', () => {
  function flaky(failures: number): ReturnType<typeof actions> & { times: number[] } {
    const times: number[] = [];
    let calls = 0;
    const runner = actions({
      [api]: () => {
        calls++;
        times.push(clockNow());
        if (calls <= failures) throw new FlowrunError('Throttling', `busy ${calls}`, { retryable: true });
        return { ok: true };
      },
    }) as ReturnType<typeof actions> & { times: number[] };
    runner.times = times;
    return runner;
  }
  let clockNow: () => number = () => 0;

  it('Constant delay retries on the manual clock', async () => {
    const t = tpl(doc(`Tasks:\n  - { Name: a, Action: ACS::ExecuteAPI, Properties: { Service: S, API: A }, Retries: 3, DelayType: Constant, Delay: 5 }\n`));
    const clock = new ManualClock(START);
    clockNow = () => clock.now();
    const runner = flaky(2);
    const r = await run(t, {}, runner, { clock });
    expect(r.status).toBe('Succeeded');
    expect(runner.times.map((x) => (x - START) / 1000)).toEqual([0, 5, 10]);
    expect(r.events.filter((e) => e.type === 'StepRetrying')).toHaveLength(2);
  });

  it('Exponential delay doubles and MaxRetryInterval caps it; exhausted retries fail', async () => {
    const t = tpl(doc(`Tasks:\n  - { Name: a, Action: ACS::ExecuteAPI, Properties: { Service: S, API: A }, Retries: 4, MaxRetryInterval: 5 }\n`));
    const clock = new ManualClock(START);
    clockNow = () => clock.now();
    const runner = flaky(10);
    const r = await run(t, {}, runner, { clock });
    expect(r.status).toBe('Failed');
    expect(r.error?.Code).toBe('Throttling');
    // 2 s, 4 s, then capped at 5 s.
    expect(runner.times.map((x) => (x - START) / 1000)).toEqual([0, 2, 6, 11, 16]);
  });
});

describe('Loop', () => {
  function gate(fail: string[] = []): ReturnType<typeof actions> & { max: () => number } {
    let inFlight = 0;
    let max = 0;
    const runner = actions({
      [api]: async (p) => {
        const id = String(((p as JsonObject)['Parameters'] as JsonObject)['InstanceId']);
        inFlight++;
        max = Math.max(max, inFlight);
        // Later items finish first: aggregation must still follow item order.
        const rounds = 10 - Number(id.replace(/\D/g, ''));
        for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
        inFlight--;
        if (fail.includes(id)) throw new FlowrunError('InstanceLocked', `${id} is locked`);
        return { Output: `out-${id}`, Size: Number(id.replace(/\D/g, '')) };
      },
    }) as ReturnType<typeof actions> & { max: () => number };
    runner.max = () => max;
    return runner;
  }

  const loop = (loopBody: string, params = ''): string =>
    doc(`Parameters:
  ids: { Type: List, Default: [i-1, i-2, i-3, i-4, i-5] }
${params}Tasks:
  - Name: stop
    Action: ACS::ExecuteAPI
    Properties:
      Service: ECS
      API: StopInstance
      Parameters: { InstanceId: '{{ ACS::TaskLoopItem }}' }
    Outputs:
      output: { ValueSelector: Output }
      size: { Type: Number, ValueSelector: Size }
    Loop:
${loopBody}
Outputs:
  outputs: { Type: List, Value: '{{ stop.outputs }}' }
  total: { Type: Number, Value: '{{ stop.total }}' }
  sizes: { Type: List, Value: '{{ stop.size }}' }
`);
  const aggregates = `      Outputs:
        outputs: { AggregateType: Fn::ListJoin, AggregateField: output }
        total: { AggregateType: Fn::Sum, AggregateField: size }`;

  it('runs the task per item with Concurrency, ACS::TaskLoopItem per item, aggregated in item order', async () => {
    const t = tpl(loop(`      Items: '{{ ids }}'\n      RateControl: { Mode: Concurrency, Concurrency: 2, MaxErrors: 0 }\n${aggregates}`));
    const runner = gate();
    const r = await run(t, {}, runner);
    expect(r.status).toBe('Succeeded');
    expect(runner.max()).toBe(2);
    expect(runner.requests.map((q) => ((q.parameters as JsonObject)['Parameters'] as JsonObject)['InstanceId']).sort()).toEqual(['i-1', 'i-2', 'i-3', 'i-4', 'i-5']);
    expect(r.output).toEqual({ outputs: ['out-i-1', 'out-i-2', 'out-i-3', 'out-i-4', 'out-i-5'], total: 15, sizes: [1, 2, 3, 4, 5] });
    expect(r.events.filter((e) => e.type === 'IterationEntered')).toHaveLength(5);
    expect(t.roleOf('stop', 1)).toEqual({ task: 'stop', role: 'item' });
    expect(t.roleOf('stop', 0)).toEqual({ task: 'stop', role: 'loop' });
  });

  it('legacy Loop.Concurrency and percentages (rounded up)', async () => {
    const t = tpl(loop(`      Items: [i-1, i-2, i-3, i-4, i-5]\n      Concurrency: 50%\n${aggregates}`));
    const runner = gate();
    const r = await run(t, {}, runner);
    expect(r.status).toBe('Succeeded');
    expect(runner.max()).toBe(3);
  });

  it('MaxErrors tolerates failed items (left out of aggregates); one more fails the loop', async () => {
    const ok = tpl(loop(`      Items: '{{ ids }}'\n      RateControl: { Mode: Concurrency, Concurrency: 5, MaxErrors: 1 }\n${aggregates}`));
    const r = await run(ok, {}, gate(['i-3']));
    expect(r.status).toBe('Succeeded');
    expect(r.output).toMatchObject({ outputs: ['out-i-1', 'out-i-2', 'out-i-4', 'out-i-5'], total: 12 });

    const strict = tpl(loop(`      Items: '{{ ids }}'\n      RateControl: { Mode: Concurrency, Concurrency: 5, MaxErrors: 1 }\n${aggregates}`));
    const r2 = await run(strict, {}, gate(['i-3', 'i-4']));
    expect(r2.status).toBe('Failed');
    expect(r2.error?.Code).toBe('OOS.LoopMaxErrorsExceeded');
    expect(r2.error?.Detail).toMatch(/2 of 5 iterations of task 'stop' failed \(MaxErrors 1\); first failure: item "i-3": InstanceLocked/);
  });

  it('MaxErrors 0 (default): the first failure fails the loop, which OnError can catch', async () => {
    const t = tpl(loop(`      Items: '{{ ids }}'\n${aggregates}`).replace('    Loop:\n', '    OnError: ACS::NEXT\n    Loop:\n'));
    const r = await run(t, {}, gate(['i-5']));
    expect(r.status).toBe('Succeeded');
    expect(r.events.find((e) => e.type === 'StepFailed' && e.step === 'stop' && !e.path)?.detail).toMatchObject({ Code: 'OOS.LoopMaxErrorsExceeded' });
  });

  it('RateControl from a parameter: its Concurrency and MaxErrors apply when the loop starts', async () => {
    const t = tpl(
      loop(`      Items: '{{ ids }}'\n      RateControl: '{{ rateControl }}'\n${aggregates}`, '  rateControl: { Type: Json, Default: { Mode: Concurrency, Concurrency: 3, MaxErrors: "40%" } }\n'),
    );
    const runner = gate(['i-1', 'i-2']);
    const r = await run(t, {}, runner);
    expect(r.status).toBe('Succeeded');
    expect(runner.max()).toBe(3);
    const map = t.flow.root.nodes.find((n) => n.kind === 'Map') as MapNode;
    const scope: EvalScope = { input: {}, global: {}, context: () => ({ Execution: { Name: 'e', Input: r.input } }) };
    expect(map.dynamicConcurrency?.(scope, 5)).toBe(3);
  });

  it('items may be objects; the iteration input holds the item', async () => {
    const t = tpl(
      doc(`Tasks:
  - Name: each
    Action: ACS::ExecuteAPI
    Properties: { Service: S, API: A, Parameters: { Id: '{{ ACS::TaskLoopItem.id }}', Item: '{{ ACS::TaskLoopItem }}' } }
    Loop: { Items: [{ id: a }, { id: b }] }
`),
    );
    const runner = actions({ [api]: (p) => p as Json });
    const r = await run(t, {}, runner);
    expect(r.status).toBe('Succeeded');
    expect(runner.requests.map((q) => (q.parameters as JsonObject)['Parameters'])).toEqual([
      { Id: 'a', Item: { id: 'a' } },
      { Id: 'b', Item: { id: 'b' } },
    ]);
    expect(LOOP_ITEM_KEY).toBe('ACS::TaskLoopItem');
  });

  it('Items that are not a list fail the task with OOS.InvalidLoopItems', async () => {
    const t = tpl(doc(`Parameters:\n  x: { Type: String, Default: abc }\nTasks:\n  - { Name: each, Action: ACS::ExecuteAPI, Properties: { Service: S, API: A }, Loop: { Items: '{{ x }}' } }\n`));
    const r = await run(t, {}, actions({ [api]: () => ({}) }));
    expect(r.status).toBe('Failed');
    expect(r.error).toMatchObject({ Code: 'OOS.InvalidLoopItems' });
  });
});

describe('When', () => {
  const t = tpl(
    doc(`Parameters:
  createSnapshot: { Type: Boolean, Default: false }
Tasks:
  - Name: snapshot
    Action: ACS::ExecuteAPI
    When: '{{ createSnapshot }}'
    Properties: { Service: ECS, API: CreateSnapshot }
    Outputs: { id: { ValueSelector: SnapshotId } }
  - Name: after
    Action: ACS::ExecuteAPI
    When: { 'Fn::Not': '{{ createSnapshot }}' }
    Properties: { Service: ECS, API: After }
Outputs:
  snapshotId: { Value: '{{ snapshot.id }}' }
`),
  );

  it('skips the task when false, records Skipped, and runs the next task', async () => {
    const runner = actions({ [api]: () => ({ SnapshotId: 's-1' }) });
    const r = await run(t, {}, runner);
    expect(r.status).toBe('Succeeded');
    expect(runner.requests.map((q) => (q.parameters as JsonObject)['API'])).toEqual(['After']);
    expect(rootSteps(r)).toEqual(['snapshot::When', skippedNodeName('snapshot'), 'after::When', 'after', END_NODE_NAME]);
    expect(t.roleOf(skippedNodeName('snapshot'), 0)).toEqual({ task: 'snapshot', role: 'skipped' });
    expect(r.output).toEqual({ snapshotId: null });
  });

  it('runs the task when true', async () => {
    const runner = actions({ [api]: () => ({ SnapshotId: 's-1' }) });
    const r = await run(t, { createSnapshot: 'true' }, runner);
    expect(r.status).toBe('Succeeded');
    expect(runner.requests.map((q) => (q.parameters as JsonObject)['API'])).toEqual(['CreateSnapshot']);
    expect(r.output).toEqual({ snapshotId: 's-1' });
  });

  it('leaves markers in $Global: task::Status Skipped / Success and task.output values', () => {
    const first = start({ flow: t.flow, input: { createSnapshot: false }, executionName: 'e', now: START, timeoutMs: 1e9 });
    expect(first.state.global).toEqual({ [statusKey('snapshot')]: 'Skipped' });
    const cmd = first.commands[0] as Extract<Command, { type: 'RunTask' }>;
    const next = step(t.flow, first.state, { type: 'TaskSucceeded', path: cmd.path, id: cmd.id, output: {} }, START);
    expect(next.state.global).toEqual({ [statusKey('snapshot')]: 'Skipped', [statusKey('after')]: 'Success' });

    const ran = start({ flow: t.flow, input: { createSnapshot: true }, executionName: 'e', now: START, timeoutMs: 1e9 });
    const c = ran.commands[0] as Extract<Command, { type: 'RunTask' }>;
    const done = step(t.flow, ran.state, { type: 'TaskSucceeded', path: c.path, id: c.id, output: { SnapshotId: 's-9' } }, START);
    expect(done.state.global).toEqual({ [statusKey('snapshot')]: 'Success', [outputKey('snapshot', 'id')]: 's-9', [statusKey('after')]: 'Skipped' });
    expect(done.state.status).toBe('Succeeded');
    expect(done.state.output).toEqual({ snapshotId: 's-9' });
  });
});

describe('ACS::Sleep', () => {
  it('Duration waits on the manual clock; EndDate waits until then; Fn::DurationBetween works as Duration', async () => {
    const clock = new ManualClock(START);
    const t2 = tpl(
      doc(`Parameters:
  until: { Type: String, Default: '2026-01-01T03:00:00Z' }
Tasks:
  - { Name: nap, Action: ACS::Sleep, Properties: { Duration: PT1H } }
  - { Name: mark1, Action: ACS::ExecuteAPI, Properties: { Service: S, API: Mark } }
  - { Name: short, Action: ACS::Sleep, Properties: { Duration: 1H30m } }
  - { Name: mark2, Action: ACS::ExecuteAPI, Properties: { Service: S, API: Mark } }
  - { Name: untilTime, Action: ACS::Sleep, Properties: { EndDate: '{{ until }}' } }
  - { Name: mark3, Action: ACS::ExecuteAPI, Properties: { Service: S, API: Mark } }
  - Name: between
    Action: ACS::Sleep
    Properties:
      Duration: { 'Fn::DurationBetween': ['{{ ACS::CurrentUTCTime }}', '2026-01-01T05:00:00Z'] }
  - { Name: mark4, Action: ACS::ExecuteAPI, Properties: { Service: S, API: Mark } }
`),
      { clock },
    );
    const marks: number[] = [];
    const r = await run(t2, {}, actions({ [api]: () => (marks.push((clock.now() - START) / 3_600_000), {}) }), { clock });
    expect(r.status).toBe('Succeeded');
    expect(marks).toEqual([1, 2.5, 3, 5]);
    const wait = t2.flow.root.nodes.find((n) => n.name === 'nap');
    expect(wait).toMatchObject({ kind: 'Wait', seconds: 3600, minSeconds: 0 });
    expect((wait as { maxSeconds: number }).maxSeconds).toBeGreaterThanOrEqual(365 * 86400);
  });
});

describe('ACS::Choice', () => {
  const t = tpl(
    doc(`Parameters:
  size: { Type: Number }
Tasks:
  - Name: route
    Action: ACS::Choice
    Properties:
      DefaultTask: medium
      Choices:
        - When: { 'Fn::Eval': '{{ size }} < 10' }
          NextTask: small
        - When: { 'Fn::Equals': ['{{ size }}', 100] }
          NextTask: ACS::END
  - { Name: small, Action: ACS::ExecuteAPI, Properties: { Service: S, API: Small }, OnSuccess: ACS::END }
  - { Name: medium, Action: ACS::ExecuteAPI, Properties: { Service: S, API: Medium } }
Outputs:
  size: { Type: Number, Value: '{{ size }}' }
`),
  );

  it('takes the first true branch, else DefaultTask; ACS::END ends with the Outputs', async () => {
    const calls = async (size: number): Promise<string[]> => {
      const runner = actions({ [api]: () => ({}) });
      const r = await run(t, { size }, runner);
      expect(r.status).toBe('Succeeded');
      expect(r.output).toEqual({ size });
      return runner.requests.map((q) => String((q.parameters as JsonObject)['API']));
    };
    expect(await calls(3)).toEqual(['Small']);
    expect(await calls(50)).toEqual(['Medium']);
    expect(await calls(100)).toEqual([]);
  });
});

describe('ACS::Approve', () => {
  const t = tpl(
    doc(`Tasks:
  - { Name: approve, Action: ACS::Approve, Properties: { NotifyType: WebHook, Approvers: [ops] } }
  - { Name: work, Action: ACS::ExecuteAPI, Properties: { Service: ECS, API: DeleteInstance } }
`),
  );

  it('compiles to a WaitForCustomCallback task; approved → continues, rejected → fails OOS.Rejected', async () => {
    expect(t.flow.root.nodes[0]).toMatchObject({ kind: 'Task', action: 'ACS::Approve', mode: 'WaitForCustomCallback' });
    expect(t.tasks.find((x) => x.name === 'work')?.risk).toEqual({ highRisk: true, service: 'ECS', api: 'DeleteInstance' });
    const inner = actions({ [api]: () => ({}) });
    const approved = await run(t, {}, withApprovals(inner, () => 'Approve'));
    expect(approved.status).toBe('Succeeded');
    expect(inner.requests).toHaveLength(1);

    const inner2 = actions({ [api]: () => ({}) });
    const runner = withApprovals(inner2, () => 'Reject');
    const rejected = await run(t, {}, runner);
    expect(rejected.status).toBe('Failed');
    expect(rejected.error?.Code).toBe('OOS.Rejected');
    expect(runner.approvals[0]?.parameters).toEqual({ NotifyType: 'WebHook', Approvers: ['ops'] });
    expect(inner2.requests).toHaveLength(0);
  });
});

describe('WaitFor with the real ACS actions and fixtures', () => {
  it('polls through Retries until the desired value; StopRetryValues stop at once', async () => {
    const clock = new ManualClock(START);
    const { engine } = acsEngine({
      clock,
      fixtures: {
        Services: {
          ECS: {
            DescribeInvocations: [
              { When: { InvokeId: 'ok' }, Responses: [{ Invocations: { Invocation: [{ InvokeStatus: 'Running' }] } }, { Invocations: { Invocation: [{ InvokeStatus: 'Finished' }] } }] },
              { When: { InvokeId: 'bad' }, Response: { Invocations: { Invocation: [{ InvokeStatus: 'Failed' }] } } },
            ],
          },
        },
      },
    });
    const t = tpl(
      doc(`Parameters:
  invokeId: { Type: String }
Tasks:
  - Name: untilFinished
    Action: ACS::WaitFor
    Retries: 5
    DelayType: Constant
    Delay: 30
    Properties:
      Service: ECS
      API: DescribeInvocations
      Parameters: { InvokeId: '{{ invokeId }}' }
      PropertySelector: Invocations.Invocation[].InvokeStatus
      DesiredValues: [Finished]
      StopRetryValues: [Failed, Stopped]
    Outputs:
      status: { ValueSelector: '.Invocations.Invocation[0].InvokeStatus' }
Outputs:
  status: { Value: '{{ untilFinished.status }}' }
`),
      { clock },
    );
    const ok = await run(t, { invokeId: 'ok' }, engine.runTask, { clock });
    expect(ok.status).toBe('Succeeded');
    expect(ok.output).toEqual({ status: 'Finished' });
    expect(clock.now() - START).toBe(30_000);
    const bad = await run(t, { invokeId: 'bad' }, engine.runTask, { clock });
    expect(bad.status).toBe('Failed');
    expect(bad.error?.Code).toBe('OOS.WaitFor.Stopped');
    expect(bad.events.filter((e) => e.type === 'StepRetrying')).toHaveLength(0);
    await engine.close();
  });
});
