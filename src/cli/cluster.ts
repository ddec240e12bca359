/**
 * `flowrun serve --workers N`: N server processes (node:cluster) share one listening port, so
 * express flows, which keep no state between requests, use every core of a machine. Durable
 * executions are shared through the store: each is driven by one worker at a time (leases).
 * The primary restarts a worker that dies unexpectedly and forwards SIGTERM/SIGINT to all.
 */
import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';

/** A worker that dies this soon after starting is not restarted again (a crash loop). */
export const MIN_WORKER_LIFETIME_MS = 5_000;

export function parseWorkers(value: string | undefined): number {
  if (value === undefined || value === '') return 1;
  if (value === 'auto') return availableParallelism();
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 256) throw new Error(`--workers must be a number from 1 to 256 or 'auto', got '${value}'`);
  return Number(value);
}

/** In the primary: forks the workers and supervises them; resolves when all have exited. */
export function runPrimary(workers: number, log: (message: string) => void): Promise<void> {
  return new Promise((resolveAll) => {
    let stopping = false;
    const started = new Map<number, number>();
    const fork = (): Worker => {
      const w = cluster.fork();
      started.set(w.id, Date.now());
      return w;
    };
    for (let i = 0; i < workers; i++) fork();
    cluster.on('exit', (worker, code, signal) => {
      const lived = Date.now() - (started.get(worker.id) ?? 0);
      started.delete(worker.id);
      if (!stopping && (code !== 0 || signal !== null)) {
        if (lived >= MIN_WORKER_LIFETIME_MS) {
          log(`worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
          fork();
        } else {
          log(`worker ${worker.process.pid} exited (${signal ?? code}) right after starting; not restarting it`);
          process.exitCode = 1;
        }
      }
      if (Object.keys(cluster.workers ?? {}).length === 0) resolveAll();
    });
    const stop = (signal: NodeJS.Signals): void => {
      stopping = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(signal);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

export const isPrimary = (): boolean => cluster.isPrimary;

/** In a worker, after the server has closed: leave the cluster (its channel keeps the process alive). */
export function leaveCluster(): void {
  if (cluster.isWorker) cluster.worker?.disconnect();
}
