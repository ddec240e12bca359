import { describe, expect, it } from 'vitest';
import { flushMicrotasks } from '../../src/shared/clock.js';
import { ErrorNames } from '../../src/shared/errors.js';
import { createTaskEngine } from '../../src/engine/index.js';
import type { ChildFlowRequest, ChildFlowResult } from '../../src/engine/index.js';
import { context, rejectionOf } from './helpers.js';

function starter(result: ChildFlowResult | ((req: ChildFlowRequest) => Promise<ChildFlowResult>)) {
  const calls: ChildFlowRequest[] = [];
  const startChildFlow = async (req: ChildFlowRequest): Promise<ChildFlowResult> => {
    calls.push(req);
    return typeof result === 'function' ? result(req) : result;
  };
  return { calls, startChildFlow };
}

describe('FnF:StartSyncExecution', () => {
  it('starts the child one level deeper with the chain and returns {Status, Output}', async () => {
    const s = starter({ status: 'Succeeded', output: { total: 3 } });
    const engine = createTaskEngine({ startChildFlow: s.startChildFlow });
    const out = await engine.runTask({
      action: 'FnF:StartSyncExecution',
      parameters: { flowName: 'child', input: { a: 1 }, executionName: 'run-7' },
      context: context('CallChild', { flowName: 'parent', depth: 1, flowChain: ['root', 'parent'] }),
    });
    expect(out).toEqual({ Status: 'Succeeded', Output: { total: 3 } });
    expect(s.calls).toHaveLength(1);
    expect(s.calls[0]).toMatchObject({ flowName: 'child', input: { a: 1 }, executionName: 'run-7', depth: 2, flowChain: ['root', 'parent', 'child'] });
    expect(s.calls[0]?.signal).toBeInstanceOf(AbortSignal);
  });

  it('defaults input to {} and Output to {}; builds the chain from flowName when none is given', async () => {
    const s = starter({ status: 'Succeeded' });
    const engine = createTaskEngine({ startChildFlow: s.startChildFlow });
    const out = await engine.runTask({ action: 'FnF:StartSyncExecution', parameters: { flowName: 'child' }, context: context('C') });
    expect(out).toEqual({ Status: 'Succeeded', Output: {} });
    expect(s.calls[0]).toMatchObject({ input: {}, depth: 1, flowChain: ['test-flow', 'child'] });
    expect(s.calls[0]?.executionName).toBeUndefined();
  });

  it('refuses a child deeper than maxChildDepth with FnF.NestingTooDeep', async () => {
    const s = starter({ status: 'Succeeded' });
    const engine = createTaskEngine({ startChildFlow: s.startChildFlow, maxChildDepth: 2 });
    await expect(
      engine.runTask({ action: 'FnF:StartSyncExecution', parameters: { flowName: 'c' }, context: context('C', { depth: 1 }) }),
    ).resolves.toMatchObject({ Status: 'Succeeded' });
    const err = await rejectionOf(
      engine.runTask({ action: 'FnF:StartSyncExecution', parameters: { flowName: 'c' }, context: context('C', { depth: 2 }) }),
    );
    expect([err.code, err.retryable]).toEqual(['FnF.NestingTooDeep', false]);
    expect(err.message).toContain('at most 2 deep');
    expect(s.calls).toHaveLength(1);
  });

  it('refuses a flow already on the chain (or the caller itself) with FnF.RecursiveExecution', async () => {
    const s = starter({ status: 'Succeeded' });
    const engine = createTaskEngine({ startChildFlow: s.startChildFlow });
    const ctx = context('C', { flowName: 'middle', depth: 1, flowChain: ['root', 'middle'] });
    for (const flowName of ['root', 'middle']) {
      const err = await rejectionOf(engine.runTask({ action: 'FnF:StartSyncExecution', parameters: { flowName }, context: ctx }));
      expect([err.code, err.retryable]).toEqual(['FnF.RecursiveExecution', false]);
      expect(err.message).toContain(`root → middle → ${flowName}`);
    }
    const self = await rejectionOf(
      engine.runTask({ action: 'FnF:StartSyncExecution', parameters: { flowName: 'test-flow' }, context: context('C') }),
    );
    expect(self.code).toBe('FnF.RecursiveExecution');
    expect(s.calls).toHaveLength(0);
    await expect(engine.runTask({ action: 'FnF:StartSyncExecution', parameters: { flowName: 'leaf' }, context: ctx })).resolves.toMatchObject({
      Status: 'Succeeded',
    });
    expect(s.calls[0]?.flowChain).toEqual(['root', 'middle', 'leaf']);
  });

  it("a failed child rejects with the child's error code", async () => {
    const s = starter({ status: 'Failed', error: { Code: 'Order.Invalid', Detail: 'no items' } });
    const engine = createTaskEngine({ startChildFlow: s.startChildFlow });
    const err = await rejectionOf(engine.runTask({ action: 'FnF:StartSyncExecution', parameters: { flowName: 'c' }, context: context() }));
    expect([err.code, err.message]).toEqual(['Order.Invalid', 'no items']);
    const bare = createTaskEngine({ startChildFlow: starter({ status: 'Aborted' }).startChildFlow });
    const err2 = await rejectionOf(bare.runTask({ action: 'FnF:StartSyncExecution', parameters: { flowName: 'c' }, context: context() }));
    expect(err2.code).toBe(ErrorNames.TaskFailed);
    expect(err2.message).toContain('status Aborted');
  });

  it('without a startChildFlow the action fails; cancelling aborts the child signal', async () => {
    const none = createTaskEngine();
    const err = await rejectionOf(none.runTask({ action: 'FnF:StartSyncExecution', parameters: { flowName: 'c' }, context: context() }));
    expect(err.code).toBe(ErrorNames.TaskFailed);

    let childSignal: AbortSignal | undefined;
    const s = starter(
      (req) =>
        new Promise<ChildFlowResult>((resolve) => {
          childSignal = req.signal;
          req.signal.addEventListener('abort', () => resolve({ status: 'Aborted' }));
        }),
    );
    const engine = createTaskEngine({ startChildFlow: s.startChildFlow });
    const controller = new AbortController();
    const task = rejectionOf(
      engine.runTask({ action: 'FnF:StartSyncExecution', parameters: { flowName: 'c' }, context: context(), signal: controller.signal }),
    );
    await flushMicrotasks();
    controller.abort();
    expect((await task).code).toBe(ErrorNames.Cancelled);
    expect(childSignal?.aborted).toBe(true);
  });
});
