/**
 * Durable executions: OOS StartExecution of a 3-task template to Success on the embedded SQLite
 * store (WAL, synchronous=FULL), in process, executions/s — against the raw rate of durable SQLite
 * commits (better-sqlite3, same pragmas) of one execution's size in the same trial: as many
 * committed transactions, each writing a row as large as that execution's checkpoint. The two
 * take turns within each trial (see measureTrial).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { DurableRunner } from '../../src/executions/durable-runner.js';
import { createOosExecutionService } from '../../src/executions/oos/index.js';
import { parseAcsFixtures } from '../../src/engine/actions/acs-config.js';
import { createRuntime } from '../../src/runtime.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { summarize } from '../stats.js';
import type { Scenario, ScenarioOptions, ScenarioResult } from './types.js';

const TEMPLATE = JSON.stringify({
  FormatVersion: 'OOS-2019-06-01',
  Parameters: { name: { Type: 'String', Default: 'bench' } },
  Tasks: ['first', 'second', 'third'].map((task) => ({
    Name: task,
    Action: 'ACS::ExecuteAPI',
    Properties: { Service: 'Demo', API: 'Ping', Parameters: { Who: '{{ name }}' } },
    Outputs: { Pong: { Type: 'String', ValueSelector: '.Pong' } },
  })),
});
const FIXTURES = 'Services:\n  Demo:\n    Ping:\n      - Response: { Pong: pong }\n';
const silent = pino({ level: 'silent' });

/** Slices of each trial: flowrun and the raw commits take turns (see {@link measureTrial}). */
const SLICES = 8;

/** Time spent and executions done by one side of a trial. */
interface Tally {
  executions: number;
  ms: number;
}

/** The OOS service on a fresh SQLite store, running the template one execution at a time. */
async function openOos(dir: string): Promise<{
  runOne(): Promise<string>;
  commits(): number;
  stateBytes(id: string): Promise<number>;
  close(): Promise<void>;
}> {
  const sqlite = await openSqliteStore({ file: join(dir, `oos-${Date.now()}.db`) });
  // counts the store's transactions: an execution's creation and each step's commit
  let commits = 0;
  const store = new Proxy(sqlite, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      if (prop === 'commitStep' || prop === 'createExecution') {
        return (...args: unknown[]) => {
          commits++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
  const runtime = createRuntime({});
  const runner = new DurableRunner({ store, tasks: runtime.engine.runTask, clock: runtime.clock, resolveFlow: () => Promise.reject(new Error('no flows')), logger: silent });
  const oos = await createOosExecutionService({ store, runner, engine: runtime.engine, clock: runtime.clock, logger: silent, config: { fixtures: parseAcsFixtures(FIXTURES, 'bench') } });
  await oos.createTemplate({ TemplateName: 'bench-three', Content: TEMPLATE });
  // How each execution ends, from the runner's own notice (an execution may finish before its
  // StartExecution call returns: its status is kept until then). No store read of our own: the
  // harness adds nothing to what is measured.
  const ended = new Map<string, string>();
  const waiting = new Map<string, (status: string) => void>();
  runner.onFinished((f) => {
    const waiter = waiting.get(f.id);
    if (waiter) waiter(f.status);
    else ended.set(f.id, f.status);
  });
  return {
    async runOne(): Promise<string> {
      const { Execution } = await oos.startExecution({ TemplateName: 'bench-three' });
      const id = Execution.ExecutionId;
      const final = ended.get(id) ?? (await new Promise<string>((resolve) => waiting.set(id, resolve)));
      ended.delete(id);
      waiting.delete(id);
      if (final !== 'Success') throw new Error(`the execution ended ${final}`);
      return id;
    },
    commits: () => commits,
    async stateBytes(id: string): Promise<number> {
      const record = await store.getExecution(id);
      if (!record) throw new Error(`execution ${id} is not in the store`);
      return Buffer.byteLength(JSON.stringify(record.state));
    },
    async close(): Promise<void> {
      await runner.close();
      await oos.close();
      await runtime.close();
      await sqlite.close();
    },
  };
}

/**
 * The baseline: durable SQLite commits (better-sqlite3, WAL, synchronous=FULL) of rows of `bytes`,
 * `perExecution` committed transactions to an execution.
 */
function openRaw(dir: string, bytes: number, perExecution: number): { runOne(): void; close(): void } {
  const db = new Database(join(dir, `raw-${Date.now()}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE IF NOT EXISTS checkpoints (id INTEGER PRIMARY KEY, execution TEXT, state TEXT)');
  const insert = db.prepare('INSERT INTO checkpoints (execution, state) VALUES (?, ?)');
  const commit = db.transaction((execution: string, state: string) => insert.run(execution, state));
  const payload = 'x'.repeat(bytes);
  let executions = 0;
  return {
    runOne(): void {
      for (let c = 0; c < perExecution; c++) commit(`e${executions}`, payload);
      executions++;
    },
    close: () => db.close(),
  };
}

/**
 * One trial: executions/s of the template (one at a time, each awaited to its end) and of the raw
 * commits of the same count and size. The two take turns in {@link SLICES} slices (alternating
 * which goes first), so that both see the same disk: on a shared machine the latency of an fsync
 * moves by several times within seconds, and measuring one side after the other compared two
 * different disks.
 */
async function measureTrial(dir: string, ms: number): Promise<{ oos: number; raw: number; commitsPerExecution: number; stateBytes: number }> {
  const oos = await openOos(dir);
  try {
    let lastId = '';
    const warmUp = 20;
    for (let i = 0; i < warmUp; i++) lastId = await oos.runOne();
    const commitsPerExecution = Math.max(1, Math.round(oos.commits() / warmUp));
    const stateBytes = await oos.stateBytes(lastId);
    const raw = openRaw(dir, stateBytes, commitsPerExecution);
    try {
      for (let i = 0; i < 5; i++) raw.runOne(); // warm-up
      const ours: Tally = { executions: 0, ms: 0 };
      const theirs: Tally = { executions: 0, ms: 0 };
      const slice = ms / SLICES;
      for (let i = 0; i < SLICES; i++) {
        if (i % 2 === 0) {
          await runSlice(ours, slice, oos.runOne);
          await runSlice(theirs, slice, raw.runOne);
        } else {
          await runSlice(theirs, slice, raw.runOne);
          await runSlice(ours, slice, oos.runOne);
        }
      }
      return { oos: (ours.executions * 1000) / ours.ms, raw: (theirs.executions * 1000) / theirs.ms, commitsPerExecution, stateBytes };
    } finally {
      raw.close();
    }
  } finally {
    await oos.close();
  }
}

/**
 * Runs `one` (awaited only when it returns a promise: the raw commits stay synchronous) again and
 * again for `ms`, adding the executions and the time to `tally`.
 */
async function runSlice(tally: Tally, ms: number, one: () => unknown): Promise<void> {
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    const running = one();
    if (running instanceof Promise) await running;
    tally.executions++;
    now = performance.now();
  }
  tally.ms += now - start;
}

export const durable: Scenario = {
  name: 'durable',
  defaults: { trials: 3, ms: 3000 },
  async run(options: ScenarioOptions): Promise<ScenarioResult[]> {
    const dir = mkdtempSync(join(tmpdir(), 'flowrun-bench-durable-'));
    try {
      const ours: number[] = [];
      const theirs: number[] = [];
      let shape = { commitsPerExecution: 1, stateBytes: 0 };
      for (let t = 0; t < options.trials; t++) {
        const r = await measureTrial(dir, options.ms);
        shape = r;
        ours.push(r.oos);
        theirs.push(r.raw);
        options.log(`  trial ${t + 1}: ${r.oos.toFixed(1)} executions/s; raw SQLite ${r.raw.toFixed(1)} executions/s (${r.commitsPerExecution} commits of ${r.stateBytes} B each)`);
      }
      return [
        {
          name: 'durable',
          description: 'OOS StartExecution of a 3-task template to Success, embedded SQLite (WAL, synchronous=FULL), one at a time, vs raw durable SQLite commits of the same count and size',
          unit: 'executions/s',
          flowrun: summarize(ours),
          baseline: { name: 'raw SQLite commits (same count and size)', ...summarize(theirs) },
          ratio: summarize(ours.map((x, i) => x / (theirs[i] as number))),
          goal: { op: '>=', value: 0.3 },
          extra: { commitsPerExecution: shape.commitsPerExecution, stateBytes: shape.stateBytes },
        },
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
