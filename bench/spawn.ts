/**
 * Starts a benchmark child process (`node [flags] --import tsx <script>`), waits for its ready
 * line, and stops it (SIGTERM, then SIGKILL after a grace period). Only this process's own
 * children are ever signalled, by pid.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { READY_MARK } from './servers/announce.js';
import type { ReadyLine } from './servers/announce.js';

export interface Child {
  ready: ReadyLine;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** Node flags before `--import tsx` (e.g. `--cpu-prof`, `--expose-gc`). */
  nodeFlags?: string[];
  args?: string[];
  env?: Record<string, string>;
  /** How long to wait for the ready line. */
  readyTimeoutMs?: number;
}

export async function spawnChild(script: string, options: SpawnOptions = {}): Promise<Child> {
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), '--import', 'tsx', script, ...(options.args ?? [])], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ...options.env },
  });
  const { stop } = stopper(child);
  const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const lines = rl[Symbol.asyncIterator]();
  const timeoutMs = options.readyTimeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    const ready = await Promise.race([
      (async (): Promise<ReadyLine> => {
        for (;;) {
          const next = await lines.next();
          if (next.done) throw new Error(`${script} exited before it was ready`);
          const line = parseReady(next.value);
          if (line) return line;
        }
      })(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${script} was not ready within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    // What the child prints after its ready line (log lines, at levels that write any) is read
    // and dropped, so that a full pipe never blocks it.
    rl.close();
    child.stdout?.resume();
    return { ready, process: child, stop };
  } catch (err) {
    await stop();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

function parseReady(text: string): ReadyLine | undefined {
  if (!text.includes(READY_MARK)) return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && READY_MARK in value ? (value as ReadyLine) : undefined;
  } catch {
    return undefined;
  }
}

let built = false;

/**
 * `npm run build`, once per benchmark run: compiles src/ into dist/ so the servers that load
 * dist/ never run a stale build (http-sync and scale-out share it).
 */
export function buildDist(log: (message: string) => void): void {
  if (built) return;
  const started = performance.now();
  const r = spawnSync('npm', ['run', 'build'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build failed (status ${r.status}):\n${r.stdout}${r.stderr}`);
  built = true;
  log(`  built dist/ (npm run build) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/** Stops a child process: SIGTERM, then SIGKILL after 10 s; resolves once it has exited. */
export function stopper(child: ChildProcess): { stop: () => Promise<void> } {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return { stop };
}
