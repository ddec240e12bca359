/**
 * `flowrun serve --watch`: reloads a flow file of the flows folder when it changes. An invalid new
 * version is refused (the flow loaded before keeps running) and the reason is logged; a removed
 * file removes its flow.
 */
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { FLOW_FILE_PATTERN } from '../flow/catalog.js';
import type { FlowFileResult, FlowService } from './service.js';

/** Editors write a file in several steps: wait this long after the last event before reloading. */
export const DEFAULT_WATCH_DEBOUNCE_MS = 100;

export type WatchOutcome = FlowFileResult | { ok: true; file: string; removed: string | undefined };

export interface FlowWatchOptions {
  logger?: Logger;
  debounceMs?: number;
  /** Called after each reload or removal (tests wait on it). */
  onChange?: (outcome: WatchOutcome) => void;
}

export interface FlowWatcher {
  close(): void;
}

export function watchFlowsDirectory(service: FlowService, dir: string, options: FlowWatchOptions = {}): FlowWatcher {
  const debounceMs = options.debounceMs ?? DEFAULT_WATCH_DEBOUNCE_MS;
  const log = options.logger;
  const timers = new Map<string, NodeJS.Timeout>();
  let chain: Promise<void> = Promise.resolve();
  let closed = false;

  const handle = async (file: string): Promise<void> => {
    const path = join(dir, file);
    let exists: boolean;
    try {
      exists = (await stat(path)).isFile();
    } catch {
      exists = false;
    }
    let outcome: WatchOutcome;
    if (!exists) {
      const removed = await service.removeFileFlow(path);
      if (removed !== undefined) log?.info({ file: path, flow: removed }, 'flow file removed; flow deleted');
      outcome = { ok: true, file: path, removed };
    } else {
      outcome = await service.loadFile(path);
      if (outcome.ok) log?.info({ file: path, flow: outcome.flow.Name }, 'flow reloaded');
      else {
        log?.warn(
          { file: path, problems: outcome.problems.map((p) => `${p.pointer || '/'}: ${p.message}`) },
          'flow file is invalid; keeping the version loaded before',
        );
      }
    }
    options.onChange?.(outcome);
  };

  let watcher: FSWatcher;
  try {
    watcher = watch(dir, { persistent: false }, (_event, filename) => {
      if (closed || !filename) return;
      const file = filename.toString();
      if (!FLOW_FILE_PATTERN.test(file)) return;
      clearTimeout(timers.get(file));
      timers.set(
        file,
        setTimeout(() => {
          timers.delete(file);
          chain = chain.then(() => (closed ? undefined : handle(file))).catch((err: unknown) => log?.error({ err, file }, 'flow reload failed'));
        }, debounceMs),
      );
    });
  } catch (err) {
    log?.warn({ err, dir }, 'cannot watch the flows folder');
    return { close() {} };
  }
  watcher.on('error', (err) => log?.warn({ err, dir }, 'flows folder watcher failed'));
  return {
    close() {
      closed = true;
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      watcher.close();
    },
  };
}
