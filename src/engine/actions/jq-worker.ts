/**
 * jq-web in a worker thread, called synchronously with a time limit.
 *
 * jq-web is synchronous: a program that never ends (`[range(1e12)]`, `repeat(1)`, `def f: f; f`)
 * would block the event loop for ever. So it runs in a `worker_threads` Worker; the caller posts
 * the request and blocks in `Atomics.wait(…, timeoutMs)` on a SharedArrayBuffer; the worker writes
 * jq's output (or error) into that buffer and `Atomics.notify`s. On time out the worker is
 * terminated (abandoned) and the next call starts a fresh one.
 *
 * The worker body is plain CommonJS in a string ({@link WORKER_SOURCE}, `eval: true`) that only
 * `require`s jq-web by absolute path: no TypeScript loader is needed inside the worker, and it
 * works the same under tsx, from compiled `dist/` and under vitest (no worker file to resolve or
 * ship). It is started lazily on the first call, `unref()`ed (never keeps the process alive), with
 * `execArgv: []` (so it does not load tsx or the parent's flags).
 *
 * Shared memory: 4 Int32 of header ({@link H}) + {@link JQ_OUTPUT_LIMIT_BYTES} of UTF-8 text.
 * jq-web sets `process.exitCode`; inside a worker that is the worker's own (the parent's is not
 * touched), and the worker restores it anyway.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Largest jq output (UTF-8 bytes of the `-c` text) a call may return: 8 MiB. */
export const JQ_OUTPUT_LIMIT_BYTES = 8 * 1024 * 1024;

/** How long a new worker may take to load jq-web before calls fail (not counted in the time limit). */
const STARTUP_LIMIT_MS = 30_000;

/** Header slots (Int32 indexes). */
const H = { state: 0, ready: 1, kind: 2, length: 3 } as const;
/** `state` values. */
const IDLE = 0;
const PENDING = 1;
const DONE = 2;
/** `ready` values. */
const LOADED = 1;
const LOAD_FAILED = 2;
/** `kind` values. */
const OK = 0;
const JQ_FAILED = 1;
const TOO_LARGE = 2;
const INTERNAL = 3;
const HEADER_BYTES = 16;

/** The worker: loads jq-web, then answers each message `{input, filter, flags}`. */
const WORKER_SOURCE = `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const header = new Int32Array(workerData.sab, 0, 4);
const data = Buffer.from(workerData.sab, ${HEADER_BYTES});
function reply(kind, text) {
  if (kind === ${OK} && text.length * 3 > data.length) {
    const bytes = text.length > data.length ? text.length : Buffer.byteLength(text, 'utf8');
    if (bytes > data.length) { kind = ${TOO_LARGE}; text = String(bytes); }
  }
  const n = data.write(text, 0, 'utf8');
  Atomics.store(header, ${H.kind}, kind);
  Atomics.store(header, ${H.length}, n);
  Atomics.store(header, ${H.state}, ${DONE});
  Atomics.notify(header, ${H.state});
}
function loadFailed(err) {
  const n = data.write(String(err && err.stack || err), 0, 'utf8');
  Atomics.store(header, ${H.length}, n);
  Atomics.store(header, ${H.ready}, ${LOAD_FAILED});
  Atomics.notify(header, ${H.ready});
}
let loading;
try {
  loading = require(workerData.jqPath);
} catch (err) {
  loading = Promise.reject(err); // a require that throws at once still answers the waiting caller
}
Promise.resolve(loading).then((jq) => {
  parentPort.on('message', (m) => {
    const saved = process.exitCode;
    try {
      reply(${OK}, jq.raw(m.input, m.filter, m.flags) ?? '');
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      reply(err && typeof err.exitCode === 'number' ? ${JQ_FAILED} : ${INTERNAL}, text);
    } finally {
      process.exitCode = saved;
    }
  });
  Atomics.store(header, ${H.ready}, ${LOADED});
  Atomics.notify(header, ${H.ready});
}, loadFailed);
`;

/** What a call gives: jq's stdout, or why there is none. */
export type JqWorkerResult =
  | { kind: 'ok'; stdout: string }
  /** jq failed (non-zero exit): jq-web's message (`Non-zero exit code: N\n<stderr>`). */
  | { kind: 'jq'; message: string }
  /** The output was larger than {@link JQ_OUTPUT_LIMIT_BYTES}; `bytes` is its size. */
  | { kind: 'too-large'; bytes: number }
  | { kind: 'timeout' }
  /** Anything else (jq-web aborted, e.g. out of WebAssembly memory; the worker did not start). */
  | { kind: 'internal'; message: string };

interface Running {
  worker: Worker;
  header: Int32Array;
  data: Buffer;
  dead: boolean;
}

let current: Running | undefined;
let jqPath: string | undefined;

function abandon(r: Running): void {
  r.dead = true;
  if (current === r) current = undefined;
  r.worker.terminate().catch(() => undefined);
}

function start(): Running | string {
  jqPath ??= createRequire(import.meta.url).resolve('jq-web');
  const sab = new SharedArrayBuffer(HEADER_BYTES + JQ_OUTPUT_LIMIT_BYTES);
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { sab, jqPath }, execArgv: [] });
  worker.unref();
  const r: Running = { worker, header: new Int32Array(sab, 0, 4), data: Buffer.from(sab, HEADER_BYTES), dead: false };
  // Seen between calls (a worker that dies during a call shows as a time out).
  worker.on('error', () => abandon(r));
  worker.on('exit', () => abandon(r));
  if (Atomics.wait(r.header, H.ready, 0, STARTUP_LIMIT_MS) === 'timed-out') {
    abandon(r);
    return `the jq worker did not start within ${STARTUP_LIMIT_MS} ms`;
  }
  if (Atomics.load(r.header, H.ready) === LOAD_FAILED) {
    const why = r.data.toString('utf8', 0, Atomics.load(r.header, H.length));
    abandon(r);
    return `the jq worker could not load jq-web: ${why}`;
  }
  return r;
}

/**
 * Runs jq (`jq <flags> <filter>` on the JSON text `input`) in the worker, waiting at most
 * `timeoutMs` for the answer (a worker's start-up is not counted). Never throws.
 */
export function runInWorker(input: string, filter: string, flags: string[], timeoutMs: number): JqWorkerResult {
  let r = current;
  if (!r || r.dead) {
    const started = start();
    if (typeof started === 'string') return { kind: 'internal', message: started };
    r = current = started;
  }
  const { header } = r;
  Atomics.store(header, H.state, PENDING);
  r.worker.postMessage({ input, filter, flags });
  const deadline = performance.now() + timeoutMs;
  while (Atomics.load(header, H.state) === PENDING) {
    const left = deadline - performance.now();
    if (left <= 0) break;
    Atomics.wait(header, H.state, PENDING, left);
  }
  if (Atomics.load(header, H.state) !== DONE) {
    abandon(r);
    return { kind: 'timeout' };
  }
  Atomics.store(header, H.state, IDLE);
  const kind = Atomics.load(header, H.kind);
  const text = r.data.toString('utf8', 0, Atomics.load(header, H.length));
  switch (kind) {
    case OK:
      return { kind: 'ok', stdout: text };
    case JQ_FAILED:
      return { kind: 'jq', message: text };
    case TOO_LARGE:
      return { kind: 'too-large', bytes: Number(text) };
    default:
      // jq-web's module may be unusable after an abort: start afresh next time.
      abandon(r);
      return { kind: 'internal', message: text };
  }
}
