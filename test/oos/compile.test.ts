/** The shape of the compiled graph (what the interpreter and the lifecycle layer rely on). */
import { describe, expect, it } from 'vitest';
import type { EvalScope } from '../../src/flow/expr/index.js';
import type { ChoiceNode, MapNode, RetryPolicy, TaskNode, WaitNode } from '../../src/flow/graph.js';
import { END } from '../../src/flow/graph.js';
import { END_NODE_NAME, itemFailedNodeName, skippedNodeName, whenNodeName } from '../../src/oos/index.js';
import { doc, tpl } from './helpers.js';

const t = tpl(
  doc(`Parameters:
  go: { Type: Boolean, Default: true }
Tasks:
  - Name: first
    Action: ACS::ExecuteApi
    When: '{{ go }}'
    Properties: { Service: ECS, API: StopInstance, Parameters: { InstanceId: i-1 } }
    OnError: recover
  - Name: poll
    Action: ACS::WaitFor
    Properties: { Service: ECS, API: DescribeInstances, PropertySelector: Status, DesiredValues: [Stopped] }
  - Name: each
    Action: ACS::ExecuteAPI
    Retries: 2
    DelayType: Linear
    Delay: 3
    BackOff: 2
    Properties: { Service: ECS, API: DeleteInstance, Risk: Normal, Parameters: { Id: '{{ ACS::TaskLoopItem }}' } }
    Loop: { Items: [a, b, c, d], Concurrency: 25%, MaxErrors: 1 }
  - { Name: nap, Action: ACS::Sleep, Properties: { Duration: 2m } }
  - Name: pick
    Action: ACS::Choice
    Properties: { DefaultTask: ACS::NEXT, Choices: [{ When: false, NextTask: first }] }
  - { Name: child, Action: ACS::ECS::RebootInstance, Properties: { instanceId: i-1 } }
  - { Name: wait, Action: acs::pause }
  - { Name: recover, Action: ACS::Approve, Properties: {} }
`),
);
const nodes = t.flow.root.nodes;
const node = (name: string) => {
  const n = nodes.find((x) => x.name === name);
  if (!n) throw new Error(`no node ${name}`);
  return n;
};
const index = (name: string): number => node(name).index;

describe('compiled graph', () => {
  it('lays tasks out in order with When/Skipped helpers and a final ACS::END node', () => {
    expect(nodes.map((n) => `${n.kind}:${n.name}`)).toEqual([
      `Choice:${whenNodeName('first')}`,
      `Pass:${skippedNodeName('first')}`,
      'Task:first',
      'Task:poll',
      'Map:each',
      'Wait:nap',
      'Choice:pick',
      'Task:child',
      'Task:wait',
      'Task:recover',
      `Pass:${END_NODE_NAME}`,
    ]);
    expect(t.flow.root.start).toBe(0);
    expect(t.flow.mode).toBe('Standard');
    const when = node(whenNodeName('first')) as ChoiceNode;
    expect(when.branches[0]?.next).toBe(index('first'));
    expect(when.default).toBe(index(skippedNodeName('first')));
    expect(node(skippedNodeName('first')).next).toBe(index('poll'));
    expect(node(END_NODE_NAME).next).toBe(END);
  });

  it('OnError becomes a catch-all rule to the target task; OnSuccess/NEXT become next', () => {
    const first = node('first') as TaskNode;
    expect(first.catch).toMatchObject([{ matchAll: true, next: index('recover') }]);
    expect(first.next).toBe(index('poll'));
    expect(first).toMatchObject({ action: 'ACS::ExecuteAPI', mode: 'RequestComplete' });
    expect(node('recover').next).toBe(index(END_NODE_NAME));
  });

  it('retry policies: WaitFor defaults to 10 exponential retries behind a StopRetryValues rule; Linear carries its step', () => {
    const poll = node('poll') as TaskNode;
    expect(poll.retry).toEqual([
      { errors: ['OOS.WaitFor.Stopped'], matchAll: false, maxAttempts: 0, intervalMs: 0, backoffRate: 1, maxDelayMs: undefined },
      { errors: ['FnF.ALL'], matchAll: true, maxAttempts: 10, intervalMs: 2000, backoffRate: 2, maxDelayMs: undefined },
    ]);
    const item = (node('each') as MapNode).processor.nodes[0] as TaskNode;
    expect(item.retry).toEqual([{ errors: ['FnF.ALL'], matchAll: true, maxAttempts: 2, intervalMs: 3000, backoffRate: 1, maxDelayMs: undefined, linearIncrementMs: 2000 } as RetryPolicy]);
    expect((node('first') as TaskNode).retry).toEqual([]);
  });

  it('a Loop is a Map over {ACS::TaskLoopItem} items whose processor catches item failures', () => {
    const map = node('each') as MapNode;
    expect(map.maxConcurrency).toBe(1);
    const scope: EvalScope = { input: {}, global: {}, context: () => ({ Execution: { Name: 'e', Input: {} } }) };
    expect(map.items(scope)).toEqual([{ 'ACS::TaskLoopItem': 'a' }, { 'ACS::TaskLoopItem': 'b' }, { 'ACS::TaskLoopItem': 'c' }, { 'ACS::TaskLoopItem': 'd' }]);
    expect(map.processor.nodes.map((n) => `${n.kind}:${n.name}`)).toEqual(['Task:each', `Pass:${itemFailedNodeName('each')}`]);
    expect(map.processor.nodes[0]?.catch).toMatchObject([{ matchAll: true, next: 1 }]);
    expect(t.flow.scopes).toHaveLength(2);
  });

  it('ACS::Sleep is a Wait node allowing long sleeps; ACS::Choice a Choice node', () => {
    expect(node('nap') as WaitNode).toMatchObject({ kind: 'Wait', seconds: 120, until: undefined, minSeconds: 0, maxSeconds: 365 * 24 * 3600 });
    const pick = node('pick') as ChoiceNode;
    expect(pick.branches[0]?.next).toBe(index(whenNodeName('first')));
    expect(pick.default).toBe(index('child'));
  });

  it('product actions run as ACS::Template with the action as TemplateName; Approve/Pause wait for a callback', () => {
    const child = node('child') as TaskNode;
    expect(child.action).toBe('ACS::Template');
    const scope: EvalScope = { input: {}, global: {}, context: () => ({ Execution: { Name: 'e', Input: {} } }) };
    expect(child.parameters?.(scope)).toEqual({ TemplateName: 'ACS::ECS::RebootInstance', Parameters: { instanceId: 'i-1' } });
    expect(node('wait')).toMatchObject({ action: 'ACS::Pause', mode: 'WaitForCustomCallback' });
    expect(node('recover')).toMatchObject({ action: 'ACS::Approve', mode: 'WaitForCustomCallback' });
  });

  it('task summaries: kinds, loops, When, static risk (Risk: Normal exempts)', () => {
    const byName = Object.fromEntries(t.tasks.map((x) => [x.name, x]));
    expect(byName['first']).toMatchObject({ kind: 'api', when: true, loop: false, risk: { highRisk: true, service: 'ECS', api: 'StopInstance' } });
    expect(byName['each']).toMatchObject({ loop: true, risk: { highRisk: false, api: 'DeleteInstance' } });
    expect(byName['child']).toMatchObject({ kind: 'product', engineAction: 'ACS::Template', risk: { highRisk: true, api: 'ACS::ECS::RebootInstance' } });
    expect(byName['wait']).toMatchObject({ kind: 'pause', mode: 'WaitForCustomCallback' });
    expect(t.roleOf(END_NODE_NAME, 0)).toEqual({ task: undefined, role: 'end' });
    expect(t.roleOf(itemFailedNodeName('each'), 1)).toEqual({ task: 'each', role: 'item-failed' });
  });

  it('the compiled state stays plain JSON (a durable runner can checkpoint it)', async () => {
    const { start } = await import('../../src/interpreter/step.js');
    const first = start({ flow: t.flow, input: { go: false }, executionName: 'e', now: 0, timeoutMs: 1e9 });
    expect(JSON.parse(JSON.stringify(first.state))).toEqual(first.state);
  });
});
