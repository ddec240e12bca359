/**
 * jq for OOS (ValueSelector, PropertySelector, Fn::Jq). Two ways, one meaning:
 *
 * 1. The fast path (jq-fast.ts): plain paths (`.Pong`, `.Instances.Instance[].InstanceId`,
 *    `.a[0].b`, `.["key"]`, `.a[]?`, `.a | .b`) are parsed once (cached by filter text) and
 *    evaluated in JavaScript with jq's semantics: 0.2 µs on a small input, 8 µs on a 20-instance
 *    response (it checks the whole input is plain JSON data, O(input)). Whenever jq would fail, or
 *    the input is not plain JSON data, it steps aside and jq-web runs, so errors are jq's own.
 * 2. Everything else runs `jq-web`: the real jq 1.7 (C) compiled to WebAssembly, in a worker
 *    thread called synchronously with a time limit (jq-worker.ts), ~1 ms a call plus ~20 µs for
 *    the round trip. A program that runs longer than the limit (default 1,000 ms; env
 *    `FLOWRUN_JQ_TIMEOUT_MS` or {@link setJqTimeoutMs}) fails with `OOS.JqError` "timed out"
 *    instead of blocking the event loop; an output larger than 8 MiB
 *    ({@link JQ_OUTPUT_LIMIT_BYTES}) fails too.
 *
 * The API stays synchronous, since compiled closures call it.
 *
 * Why jq-web (measured with tmp/jqbench, see src/oos/README.md): it is jq itself (same results as
 * the jq OOS runs), works offline and synchronously after loading; `jq-wasm` only has an async API
 * (unusable in synchronous builders); the pure-JS `@michaelhomer/jqjs` is ~50x faster but differed
 * from jq on 10 of 68 probe expressions (`//`, `keys`, `sort_by`, `@base64d`, errors, try/catch).
 *
 * jq-web sets `process.exitCode` to jq's exit status; in the worker that is the worker's own, so
 * a failing selector never changes how the process exits.
 */
import { FlowrunError } from '../../shared/errors.js';
import type { Json } from '../../shared/json.js';
import { fastProgram, runFastPath } from './jq-fast.js';
import { JQ_OUTPUT_LIMIT_BYTES, runInWorker } from './jq-worker.js';

export { JQ_OUTPUT_LIMIT_BYTES } from './jq-worker.js';

/** Error name of a jq program that does not compile or fails at run time. */
export const JQ_ERROR = 'OOS.JqError';

/** Default time limit of one jq-web call. */
export const DEFAULT_JQ_TIMEOUT_MS = 1000;

let timeoutOverride: number | undefined;

const counts = { fastPath: 0, jqWeb: 0 };

/** How many jqValues calls the fast path answered and how many ran jq-web, since the start. */
export function jqCallCounts(): { fastPath: number; jqWeb: number } {
  return { ...counts };
}

/**
 * Sets the time limit of one jq-web call (ms, > 0), or with undefined goes back to the default:
 * env `FLOWRUN_JQ_TIMEOUT_MS` when it is a positive number, else {@link DEFAULT_JQ_TIMEOUT_MS}.
 */
export function setJqTimeoutMs(ms: number | undefined): void {
  if (ms !== undefined && !(Number.isFinite(ms) && ms > 0)) throw new RangeError(`the jq time limit must be a positive number of ms, got ${ms}`);
  timeoutOverride = ms;
}

/** The time limit of one jq-web call now (ms). */
export function jqTimeoutMs(): number {
  if (timeoutOverride !== undefined) return timeoutOverride;
  const env = Number(process.env.FLOWRUN_JQ_TIMEOUT_MS);
  return Number.isFinite(env) && env > 0 ? env : DEFAULT_JQ_TIMEOUT_MS;
}

/** jq-web's error: `Non-zero exit code: N\n<stderr>`; keep the first jq message line. */
function jqMessage(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('Non-zero exit code'));
  const first = lines.find((l) => l.startsWith('jq: error')) ?? lines[0] ?? text;
  return first.replace(/^jq: error(?: \(at [^)]*\))?: /, '').replace(/ at <top-level>, line \d+:$/, '');
}

/** Runs jq-web (in the worker); jq's stdout, or the message of why not (without the filter). */
function call(input: string, filter: string): { stdout: string } | { error: string } {
  const timeout = jqTimeoutMs();
  const r = runInWorker(input, filter, ['-c'], timeout);
  switch (r.kind) {
    case 'ok':
      return { stdout: r.stdout };
    case 'jq':
      return { error: jqMessage(r.message) };
    case 'timeout':
      return { error: `timed out after ${timeout} ms` };
    case 'too-large':
      return { error: `output is ${r.bytes} bytes, more than the ${JQ_OUTPUT_LIMIT_BYTES / 1024 / 1024} MiB limit of a jq result` };
    case 'internal':
      return { error: `jq failed: ${r.message.split('\n')[0] ?? r.message}` };
  }
}

/**
 * Runs `filter` on `input` and returns every value it emits (a jq program is a stream).
 * Throws a FlowrunError `OOS.JqError` (not retryable) naming the filter on any jq error, time out
 * or too large output.
 */
export function jqValues(filter: string, input: Json): Json[] {
  const program = fastProgram(filter);
  if (program) {
    const values = runFastPath(program, input);
    if (values) {
      counts.fastPath++;
      return values;
    }
  }
  counts.jqWeb++;
  const r = call(JSON.stringify(input) ?? 'null', filter);
  if ('error' in r) throw new FlowrunError(JQ_ERROR, `jq ${JSON.stringify(filter)}: ${r.error}`, { retryable: false });
  const values: Json[] = [];
  for (const line of r.stdout.split('\n')) {
    if (line.trim() !== '') values.push(JSON.parse(line) as Json);
  }
  return values;
}

/**
 * Checks that `filter` compiles without running it; returns the jq error message or undefined.
 * (The program is wrapped in a branch that is never taken, so no input is read and nothing runs.)
 */
export function jqSyntaxError(filter: string): string | undefined {
  if (fastProgram(filter)) return undefined;
  const r = call('null', `if false then (\n${filter}\n) else empty end`);
  return 'error' in r ? r.error : undefined;
}

const JQ_WORDS = new Set(['if', 'reduce', 'foreach', 'def', 'try', 'label', 'not', 'null', 'true', 'false', 'empty', 'length', 'keys', 'add', 'input', 'inputs', 'env', 'now', 'error']);

/**
 * A ValueSelector / PropertySelector as jq: OOS lets the leading `.` out
 * (`Instances.Instance[].InstanceId` means `.Instances.Instance[].InstanceId`). A selector that
 * starts with a jq keyword or a function call (`if …`, `length`, `map(…)`) is kept as it is.
 */
export function normalizeSelector(selector: string): string {
  const text = selector.trim();
  const m = /^([A-Za-z_][A-Za-z0-9_]*)/.exec(text);
  if (!m) return text;
  const word = m[1] as string;
  const after = text.slice(word.length).trimStart();
  if (after.startsWith('(') || JQ_WORDS.has(word)) return text;
  return `.${text}`;
}
