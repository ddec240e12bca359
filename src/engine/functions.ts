import { existsSync } from 'node:fs';
import { watch as fsWatch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import { FlowrunError } from '../shared/errors.js';
import { EngineErrorNames } from './errors.js';

/**
 * Local functions: the stand-in for Function Compute used by `FC:InvokeFunction`.
 *
 * A function `<name>` is the first of `<name>.js`, `<name>.mjs`, `<name>.ts` found in the functions
 * directory. The module exports `handler(event, context)`, as a named export or as the default
 * export (or `default.handler`). `.ts` files are loaded with a dynamic `import()`, which works only
 * when a TypeScript loader is active: under `tsx` (the `flowrun` CLI and `npm run flowrun`) or
 * vitest; plain `node` can load `.js`/`.mjs` only.
 *
 * Modules are imported once and cached. {@link FunctionLoader.invalidate} forgets them, and the next
 * call imports the file again with a cache-busting `?v=<mtime>` query (ESM has no way to evict a
 * module, so each reloaded version stays in memory; modules the function imports itself are not
 * reloaded).
 */

/** Function names: letters, digits, `_`, `-`; starting with a letter or `_`; 1–128 characters. */
export const FUNCTION_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
/** File extensions tried, in order. */
export const FUNCTION_EXTENSIONS = ['.js', '.mjs', '.ts'] as const;

/**
 * What a handler receives as its second argument. `requestId` and `signal` are made when first
 * read (getters of the context's class: a spread copy of the context leaves them out).
 */
export interface FunctionContext {
  functionName: string;
  /** Unique per invocation. */
  readonly requestId: string;
  /** Aborted when the task times out or is cancelled: long-running handlers should honour it. */
  readonly signal: AbortSignal;
  /** Clock time (ms since the epoch) by which the task must finish, when it has a timeout. */
  deadline?: number;
  logger?: Logger;
}

export type FunctionHandler = (event: unknown, context: FunctionContext) => unknown;

export interface LoadedFunction {
  name: string;
  /** Absolute path of the module file. */
  file: string;
  handler: FunctionHandler;
  /** The module namespace (the same object for every call until invalidated). */
  module: Record<string, unknown>;
}

export interface FunctionWatchOptions {
  /** Called after a function's cache entry was dropped because its file changed (`undefined`: all). */
  onChange?: (name: string | undefined) => void;
}

export interface FunctionLoader {
  /** Absolute path of the functions directory. */
  readonly dir: string;
  /** Loads (or returns the cached) function; rejects with `FC.*` FlowrunErrors. */
  load(name: string): Promise<LoadedFunction>;
  /**
   * The function when it is loaded and cached, else undefined (then call {@link load}): lets a
   * caller skip a promise and a microtask per call once the module is in memory.
   */
  loaded?(name: string): LoadedFunction | undefined;
  /** Forgets one cached function, or all of them. */
  invalidate(name?: string): void;
  /** Watches the directory (one fs.watch shared by all callers) and invalidates functions whose files change. */
  watch(options?: FunctionWatchOptions): { close(): void };
  /** Stops watching. */
  close(): void;
}

/**
 * A loader that runs nothing: every `load` rejects with `FC.FunctionsDisabled` and `reason` (a
 * server started without a functions directory: local functions are the operator's explicit choice).
 */
export function createDisabledFunctionLoader(reason: string): FunctionLoader {
  return {
    dir: '',
    load: (name) => Promise.reject(new FlowrunError(EngineErrorNames.FcFunctionsDisabled, `function '${name}' cannot run: ${reason}`, { retryable: false })),
    invalidate: () => undefined,
    watch: () => ({ close: () => undefined }),
    close: () => undefined,
  };
}

export function createFunctionLoader(dir: string, options: { logger?: Logger } = {}): FunctionLoader {
  const root = path.resolve(dir);
  const cache = new Map<string, Promise<LoadedFunction>>();
  /** The settled entries of `cache` (same keys, dropped with them). */
  const ready = new Map<string, LoadedFunction>();
  let watcher: FSWatcher | undefined;
  const handles = new Set<{ onChange: FunctionWatchOptions['onChange'] }>();

  async function locate(name: string): Promise<{ file: string; mtimeMs: number }> {
    if (!FUNCTION_NAME_PATTERN.test(name)) {
      throw new FlowrunError(EngineErrorNames.FcInvalidArgument, `invalid function name ${JSON.stringify(name)}: expected ${FUNCTION_NAME_PATTERN.source}`);
    }
    for (const ext of FUNCTION_EXTENSIONS) {
      const file = path.resolve(root, name + ext);
      if (path.dirname(file) !== root) continue; // never outside the functions directory
      try {
        const info = await stat(file);
        if (info.isFile()) return { file, mtimeMs: info.mtimeMs };
      } catch {
        // try the next extension
      }
    }
    throw new FlowrunError(
      EngineErrorNames.FcFunctionNotFound,
      `function '${name}' not found: no ${FUNCTION_EXTENSIONS.map((e) => name + e).join(', ')} in ${root}`,
    );
  }

  async function importFunction(name: string): Promise<LoadedFunction> {
    const { file, mtimeMs } = await locate(name);
    let mod: Record<string, unknown>;
    try {
      mod = (await import(`${pathToFileURL(file).href}?v=${Math.trunc(mtimeMs)}`)) as Record<string, unknown>;
    } catch (err) {
      throw new FlowrunError(EngineErrorNames.FcFunctionLoadFailed, `function '${name}' failed to load from ${file}: ${(err as Error)?.message ?? String(err)}`, {
        cause: err,
      });
    }
    const handler = pickHandler(mod);
    if (!handler) {
      throw new FlowrunError(EngineErrorNames.FcFunctionLoadFailed, `function '${name}' (${file}) exports no handler: export a function named 'handler' or a default function`);
    }
    options.logger?.debug({ function: name, file }, 'local function loaded');
    return { name, file, handler, module: mod };
  }

  const loader: FunctionLoader = {
    dir: root,
    load(name) {
      let entry = cache.get(name);
      if (!entry) {
        const loading = importFunction(name);
        entry = loading;
        cache.set(name, loading);
        loading.then(
          (fn) => {
            if (cache.get(name) === loading) ready.set(name, fn); // not if invalidated meanwhile
          },
          () => {
            if (cache.get(name) === loading) cache.delete(name); // retry the load next time
          },
        );
      }
      return entry;
    },
    loaded(name) {
      return ready.get(name);
    },
    invalidate(name) {
      if (name === undefined) {
        cache.clear();
        ready.clear();
      } else {
        cache.delete(name);
        ready.delete(name);
      }
    },
    watch(watchOptions = {}) {
      const handle = { onChange: watchOptions.onChange };
      handles.add(handle);
      if (!watcher && !existsSync(root)) {
        // Nothing to watch yet: functions are looked up afresh on each call until the folder exists.
        options.logger?.debug({ dir: root }, 'functions directory does not exist; not watching it');
      } else if (!watcher) {
        watcher = fsWatch(root, (_event, filename) => {
          const changed = filename ? functionNameOf(filename.toString()) : undefined;
          if (changed === null) return; // not a function file
          loader.invalidate(changed);
          options.logger?.debug({ function: changed }, 'local function changed');
          for (const h of handles) h.onChange?.(changed);
        });
        watcher.on('error', (err) => options.logger?.warn({ err }, 'watching the functions directory failed'));
      }
      return {
        close: () => {
          handles.delete(handle);
          if (handles.size === 0) loader.close();
        },
      };
    },
    close() {
      handles.clear();
      watcher?.close();
      watcher = undefined;
    },
  };
  return loader;
}

/** `greet.js` → `greet`; null for files that are not functions. */
function functionNameOf(filename: string): string | null {
  const ext = path.extname(filename);
  if (!(FUNCTION_EXTENSIONS as readonly string[]).includes(ext)) return null;
  const name = path.basename(filename, ext);
  return FUNCTION_NAME_PATTERN.test(name) ? name : null;
}

function pickHandler(mod: Record<string, unknown>): FunctionHandler | undefined {
  if (typeof mod.handler === 'function') return mod.handler as FunctionHandler;
  const def = mod.default;
  if (typeof def === 'function') return def as FunctionHandler;
  if (typeof def === 'object' && def !== null && typeof (def as { handler?: unknown }).handler === 'function') {
    return (def as { handler: FunctionHandler }).handler.bind(def);
  }
  return undefined;
}

/**
 * The function name in an FC ARN: `acs:fc:<region>:<uid>:functions/<name>[/<qualifier>]` (FC 3.0) or
 * `acs:fc:<region>:<uid>:services/<service>[.<qualifier>]/functions/<name>` (FC 2.0). Undefined if
 * the ARN has neither shape.
 */
export function functionNameFromArn(arn: string): string | undefined {
  const m =
    /^acs:fc:[^:]*:[^:]*:functions\/([^/]+)(?:\/[^/]+)?$/.exec(arn) ??
    /^acs:fc:[^:]*:[^:]*:services\/[^/]+\/functions\/([^/]+)$/.exec(arn);
  return m?.[1];
}
