import { flushMicrotasks } from '../../src/shared/clock.js';
import type { JsonObject } from '../../src/shared/json.js';
import type { ActionDefinition, TaskContext, TaskRequest } from '../../src/engine/index.js';

export function context(stateName = 'Step', extra: Partial<TaskContext> = {}): TaskContext {
  return { flowName: 'test-flow', executionName: 'exec-1', stateName, retryCount: 0, depth: 0, ...extra };
}

export function request(action: string, parameters: TaskRequest['parameters'], extra: Partial<TaskRequest> = {}): TaskRequest {
  return { action, parameters, context: context(), ...extra };
}

/** Settles to the rejection of `promise` (fails the test if it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<{ code: string; retryable: boolean; message: string }> {
  try {
    await promise;
  } catch (err) {
    return err as { code: string; retryable: boolean; message: string };
  }
  throw new Error('expected a rejection');
}

/**
 * An action that counts how many calls are running at once and finishes only when the test
 * releases it; returns `{ i }` from its parameters.
 */
export function gateAction(name = 'Test:Gate'): {
  def: ActionDefinition;
  readonly inFlight: number;
  readonly maxInFlight: number;
  readonly started: number;
  releaseAll(): number;
} {
  let inFlight = 0;
  let maxInFlight = 0;
  let started = 0;
  let waiting: (() => void)[] = [];
  const def: ActionDefinition = {
    name,
    description: 'test gate',
    parametersSchema: { type: 'object' },
    highRisk: false,
    async run(parameters) {
      started += 1;
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise<void>((resolve) => waiting.push(resolve));
      inFlight -= 1;
      return { i: (parameters as JsonObject).i ?? null };
    },
  };
  return {
    def,
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    get started() {
      return started;
    },
    releaseAll() {
      const batch = waiting;
      waiting = [];
      for (const release of batch) release();
      return batch.length;
    },
  };
}

/** Releases the gate round after round until every promise settled; checks `limit` on each round. */
export async function drain(gate: ReturnType<typeof gateAction>, promises: Promise<unknown>[], limit: number): Promise<void> {
  let settled = 0;
  for (const p of promises) void p.then(() => (settled += 1), () => (settled += 1));
  for (let round = 0; settled < promises.length; round++) {
    if (round > 100_000) throw new Error('tasks did not finish');
    await flushMicrotasks(3);
    if (gate.inFlight > limit) throw new Error(`${gate.inFlight} tasks in flight, limit ${limit}`);
    gate.releaseAll();
  }
}
