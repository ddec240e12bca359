/**
 * Durable executions: OOS StartExecution of a 3-task template to Success on the embedded SQLite
 * store (WAL, synchronous=FULL), in process, executions/s — against the raw rate of durable SQLite
 * commits (better-sqlite3, same pragmas) of one execution's size in the same run: as many
 * committed transactions, each writing a row as large as that execution's checkpoint.
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

/** Executions/s of the template, one at a time, each awaited to its end. */
async function oosRate(dir: string, ms: number): Promise<{ rate: number; commitsPerExecution: number; stateBytes: number }> {
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
  const finished = new Map<string, (status: string) => void>();
  runner.onFinished((f) => finished.get(f.id)?.(f.status));
  const runOne = async (): Promise<string> => {
    let done!: (status: string) => void;
    const ended = new Promise<string>((r) => (done = r));
    const { Execution } = await oos.startExecution({ TemplateName: 'bench-three' });
    finished.set(Execution.ExecutionId, done);
    const status = (await store.getExecution(Execution.ExecutionId))?.status;
    const final = status === 'Success' ? status : await ended;
    finished.delete(Execution.ExecutionId);
    if (final !== 'Success') throw new Error(`the execution ended ${final}`);
    return Execution.ExecutionId;
  };
  try {
    for (let i = 0; i < 20; i++) await runOne(); // warm-up
    commits = 0;
    let lastId = '';
    const start = performance.now();
    let n = 0;
    while (performance.now() - start < ms) {
      lastId = await runOne();
      n++;
    }
    const rate = (n * 1000) / (performance.now() - start);
    const last = await store.getExecution(lastId);
    const stateBytes = last ? Buffer.byteLength(JSON.stringify(last.state)) : 1024;
    return { rate, commitsPerExecution: Math.max(1, Math.round(commits / Math.max(1, n))), stateBytes };
  } finally {
    await runner.close();
    await oos.close();
    await runtime.close();
    await sqlite.close();
  }
}

/** Durable SQLite commits/s of rows of `bytes` (WAL, synchronous=FULL), grouped `perExecution` to an execution. */
function rawRate(dir: string, bytes: number, perExecution: number, ms: number): number {
  const db = new Database(join(dir, `raw-${Date.now()}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE IF NOT EXISTS checkpoints (id INTEGER PRIMARY KEY, execution TEXT, state TEXT)');
  const insert = db.prepare('INSERT INTO checkpoints (execution, state) VALUES (?, ?)');
  const commit = db.transaction((execution: string, state: string) => insert.run(execution, state));
  const payload = 'x'.repeat(bytes);
  const start = performance.now();
  let executions = 0;
  while (performance.now() - start < ms) {
    for (let c = 0; c < perExecution; c++) commit(`e${executions}`, payload);
    executions++;
  }
  const rate = (executions * 1000) / (performance.now() - start);
  db.close();
  return rate;
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
        const r = await oosRate(dir, options.ms);
        shape = r;
        ours.push(r.rate);
        theirs.push(rawRate(dir, r.stateBytes, r.commitsPerExecution, options.ms));
        options.log(`  trial ${t + 1}: ${r.rate.toFixed(1)} executions/s; raw SQLite ${theirs[t]?.toFixed(1)} executions/s (${r.commitsPerExecution} commits of ${r.stateBytes} B each)`);
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
