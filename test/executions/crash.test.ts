/**
 * A real crash: a worker process (fixtures/durable-worker.ts) runs executions on a SQLite file,
 * is killed with SIGKILL while tasks are in flight, and a new worker process resumes them. This
 * test uses real time (the processes use the system clock); it runs for a few seconds.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { ExecutionStore } from '../../src/executions/store.js';
import { openSqliteStore } from '../../src/store/sqlite.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const WORKER = join(here, 'fixtures', 'durable-worker.ts');
const EXECUTIONS = 20;

interface LogLine {
  generation: string;
  phase: 'start' | 'end';
  execution: string;
  state: string;
  time: number;
}

function readLog(file: string): LogLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [generation, phase, execution, state, time] = l.split(' ');
      return { generation: generation ?? '', phase: phase as LogLine['phase'], execution: execution ?? '', state: state ?? '', time: Number(time) };
    });
}

function startWorker(file: string, log: string, generation: string, count?: number): { child: ChildProcess; ready: Promise<string>; exited: Promise<number | null> } {
  const args = ['--import', 'tsx', WORKER, file, log, generation, ...(count ? [String(count)] : [])];
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const ready = new Promise<string>((resolveReady, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('ready'));
      if (line) resolveReady(line);
    });
    child.on('exit', (code) => reject(new Error(`worker ${generation} exited (${code}) before it was ready: ${err}`)));
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exited = new Promise<number | null>((resolveExit) => child.on('exit', (code) => resolveExit(code)));
  return { child, ready, exited };
}

async function waitUntil(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('crash (kill -9) and restart of a real process', () => {
  const children: ChildProcess[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const f of cleanups.splice(0).reverse()) await f();
  });

  it(
    'every execution completes; tasks committed before the kill never run again; in-flight ones run again once; the Wait fires once',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'flowrun-crash-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const file = join(dir, 'flowrun.db');
      const log = join(dir, 'effects.log');

      const first = startWorker(file, log, '1', EXECUTIONS);
      children.push(first.child);
      await first.ready;
      // kill while a long B task (≥ 500 ms) is in flight
      await waitUntil(
        'a long task in flight',
        () => {
          const lines = readLog(log);
          return lines.some(
            (l) => l.phase === 'start' && l.state === 'B' && Number(l.execution.slice(1)) % 5 >= 2 && !lines.some((m) => m.phase === 'end' && m.state === 'B' && m.execution === l.execution),
          );
        },
        20_000,
      );
      first.child.kill('SIGKILL');
      await first.exited;

      const store: ExecutionStore = await openSqliteStore({ file });
      cleanups.push(() => store.close());
      const byName = async (): Promise<Map<string, string>> => {
        const page = await store.listExecutions({ kind: 'flow', definitionName: 'crashy' }, { limit: 100 });
        return new Map(page.items.map((e) => [e.name, e.id]));
      };
      const ids = await byName();
      expect(ids.size).toBe(EXECUTIONS);
      const committed = new Set<string>();
      const inFlight = new Set<string>();
      for (const [name, id] of ids) {
        for (const t of await store.listTasks(id)) {
          if (t.status === 'Succeeded') committed.add(`${name}/${t.stateName}`);
          if (t.status === 'Scheduled') inFlight.add(`${name}/${t.stateName}`);
        }
      }
      expect(inFlight.size).toBeGreaterThan(0);

      const second = startWorker(file, log, '2');
      children.push(second.child);
      await second.ready;
      await waitUntil(
        'every execution to finish',
        async () => {
          const page = await store.listExecutions({ kind: 'flow', definitionName: 'crashy' }, { limit: 100 });
          return page.items.every((e) => e.status !== 'Running');
        },
        30_000,
      );
      second.child.kill('SIGTERM');
      await second.exited;

      const lines = readLog(log);
      const starts = (key: string, generation?: string): number =>
        lines.filter((l) => l.phase === 'start' && `${l.execution}/${l.state}` === key && (generation === undefined || l.generation === generation)).length;
      for (const [name, id] of ids) {
        const e = await store.getExecution(id);
        expect(e?.status, name).toBe('Succeeded');
        for (const state of ['A', 'B']) {
          const key = `${name}/${state}`;
          if (committed.has(key)) expect(starts(key, '2'), `${key} ran again after its result was committed`).toBe(0);
          else if (inFlight.has(key)) {
            // committed as scheduled: it may or may not have begun before the kill
            expect(starts(key, '1'), key).toBeLessThanOrEqual(1);
            expect(starts(key, '2'), `${key} (in flight at the kill) runs again once`).toBe(1);
          } else expect(starts(key), key).toBe(1);
        }
        const events = await store.listEvents(id, { limit: 1000 });
        const waited = events.filter((x) => x.type === 'StepSucceeded' && x.step === 'Sleep');
        const began = events.find((x) => x.type === 'WaitStarted' && x.step === 'Sleep');
        expect(waited, `${name}: the Wait fires once`).toHaveLength(1);
        expect((waited[0]?.time ?? 0) - (began?.time ?? 0)).toBeGreaterThanOrEqual(1000);
        expect(events.map((x) => x.eventId)).toEqual(events.map((_x, i) => i + 1));
      }
    },
    90_000,
  );
});
