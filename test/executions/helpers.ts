import { mkdtempSync, rmSync } from 'node:fs';
import { deferred } from '../interpreter/helpers.js';
import type { Deferred } from '../interpreter/helpers.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DurableRunner } from '../../src/executions/durable-runner.js';
import type { DurableRunnerOptions } from '../../src/executions/durable-runner.js';
import { FlowCompiler, StandardFlowService, storedFlowSource } from '../../src/executions/standard-flows.js';
import type { ExecutionRecord, ExecutionStore } from '../../src/executions/store.js';
import type { TaskRequest, TaskRunner } from '../../src/engine/types.js';
import { ManualClock } from '../../src/shared/clock.js';
import { FlowrunError } from '../../src/shared/errors.js';
import type { Json, JsonObject } from '../../src/shared/json.js';
import { openSqliteStore } from '../../src/store/sqlite.js';

export const T0 = Date.UTC(2026, 0, 1);

/** A SQLite file in a temporary folder; `open()` opens one more connection (one "process"). */
export class TempDb {
  readonly dir = mkdtempSync(join(tmpdir(), 'flowrun-exec-'));
  readonly file = join(this.dir, 'flowrun.db');
  private readonly opened: ExecutionStore[] = [];

  async open(): Promise<ExecutionStore> {
    const store = await openSqliteStore({ file: this.file });
    this.opened.push(store);
    return store;
  }

  async dispose(): Promise<void> {
    for (const s of this.opened) await s.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export type Handler = (request: TaskRequest, call: number) => Json | Promise<Json>;

/**
 * The test's task runner: answers `Test:<Name>` actions from a table and counts every call per
 * action name (the "side effects" that must not repeat). It outlives runners, like an external
 * system would.
 */
export class SideEffects {
  readonly calls = new Map<string, number>();
  readonly requests: TaskRequest[] = [];
  private readonly table = new Map<string, Handler>();

  on(name: string, handler: Handler): this {
    this.table.set(name, handler);
    return this;
  }

  count(name: string): number {
    return this.calls.get(name) ?? 0;
  }

  readonly run: TaskRunner = async (request) => {
    const name = request.action.replace(/^Test:/, '');
    const call = (this.calls.get(name) ?? 0) + 1;
    this.calls.set(name, call);
    this.requests.push(request);
    const handler = this.table.get(name);
    if (!handler) throw new FlowrunError('Test.NoHandler', `no handler for ${request.action}`);
    return handler(request, call);
  };
}

/** A handler that never settles on its own: it waits for the test (or for its signal to abort). */
export function gate(): { handler: Handler; pending: Deferred<Json>[]; signals: AbortSignal[] } {
  const pending: Deferred<Json>[] = [];
  const signals: AbortSignal[] = [];
  const handler: Handler = (request) => {
    const d = deferred<Json>();
    pending.push(d);
    if (request.signal) {
      signals.push(request.signal);
      request.signal.addEventListener('abort', () => d.reject(request.signal?.reason), { once: true });
    }
    return d.promise;
  };
  return { handler, pending, signals };
}

/** Puts (or updates) a Standard flow definition in the store. */
export async function putFlow(store: ExecutionStore, name: string, yaml: string, now = T0): Promise<number> {
  const metadata: JsonObject = { ExecutionMode: 'Standard' };
  const created = await store.createDefinition({ kind: 'flow', name, content: yaml, metadata, now });
  if (created) return created.version;
  const updated = await store.updateDefinition({ kind: 'flow', name, content: yaml, metadata, now });
  if (!updated) throw new Error('could not store the flow');
  return updated.version;
}

export interface Instance {
  store: ExecutionStore;
  runner: DurableRunner;
  service: StandardFlowService;
}

/** One flowrun "process": a store connection, a runner and the Standard-flow service. */
export async function instance(
  db: TempDb,
  clock: ManualClock,
  tasks: TaskRunner,
  options: Partial<DurableRunnerOptions> = {},
  store?: ExecutionStore,
): Promise<Instance> {
  const s = store ?? (await db.open());
  const compiler = new FlowCompiler(storedFlowSource(s));
  const runner = new DurableRunner({ store: s, tasks, clock, resolveFlow: compiler.resolve, ...options });
  const service = new StandardFlowService({ store: s, runner, clock, compiler });
  return { store: s, runner, service };
}

export async function executionByName(store: ExecutionStore, flow: string, name: string): Promise<ExecutionRecord> {
  const e = await store.findExecution('flow', flow, name);
  if (!e) throw new Error(`no execution ${flow}/${name}`);
  return e;
}

/** Moves the clock to `at` (absolute), letting each runner settle after. */
export async function advanceTo(clock: ManualClock, at: number, ...runners: DurableRunner[]): Promise<void> {
  await clock.advance(Math.max(0, at - clock.now()));
  for (const r of runners) await r.settled();
}

export { ManualClock };
