/**
 * jq for OOS (ValueSelector, PropertySelector, Fn::Jq), through `jq-web`: the real jq (C) compiled
 * to WebAssembly, loaded once when this module is first imported (top-level await, ~0.1 s) and
 * then called synchronously (~1 ms a call), so compiled closures can use it.
 *
 * Why jq-web (measured with tmp/jqbench, see src/oos/README.md): it is jq itself (same results as
 * the jq OOS runs), works offline and synchronously after loading; `jq-wasm` only has an async API
 * (unusable in synchronous builders); the pure-JS `@michaelhomer/jqjs` is ~50x faster but differed
 * from jq on 10 of 68 probe expressions (`//`, `keys`, `sort_by`, `@base64d`, errors, try/catch).
 *
 * jq-web sets `process.exitCode` to jq's exit status and leaves it there; every call here restores
 * it, so a failing selector never changes how the process exits.
 */
import { createRequire } from 'node:module';
import type { JqWeb } from 'jq-web';
import { FlowrunError } from '../../shared/errors.js';
import type { Json } from '../../shared/json.js';

/** Error name of a jq program that does not compile or fails at run time. */
export const JQ_ERROR = 'OOS.JqError';

// jq-web is CommonJS exporting a promise; `require` gets that promise under every loader (an ESM
// default import is the promise under Node but a namespace object under vite/vitest).
const jq = await (createRequire(import.meta.url)('jq-web') as Promise<JqWeb>);

/** jq-web's error: `Non-zero exit code: N\n<stderr>`; keep the first jq message line. */
function jqMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('Non-zero exit code'));
  const first = lines.find((l) => l.startsWith('jq: error')) ?? lines[0] ?? text;
  return first.replace(/^jq: error(?: \(at [^)]*\))?: /, '').replace(/ at <top-level>, line \d+:$/, '');
}

function call(input: string, filter: string, flags: string[]): string {
  const saved = process.exitCode;
  try {
    return jq.raw(input, filter, flags) ?? '';
  } finally {
    process.exitCode = saved;
  }
}

/**
 * Runs `filter` on `input` and returns every value it emits (a jq program is a stream).
 * Throws a FlowrunError `OOS.JqError` (not retryable) naming the filter on any jq error.
 */
export function jqValues(filter: string, input: Json): Json[] {
  let out: string;
  try {
    out = call(JSON.stringify(input), filter, ['-c']);
  } catch (err) {
    throw new FlowrunError(JQ_ERROR, `jq ${JSON.stringify(filter)}: ${jqMessage(err)}`, { retryable: false });
  }
  const values: Json[] = [];
  for (const line of out.split('\n')) {
    if (line.trim() !== '') values.push(JSON.parse(line) as Json);
  }
  return values;
}

/**
 * Checks that `filter` compiles without running it; returns the jq error message or undefined.
 * (The program is wrapped in a branch that is never taken, so no input is read and nothing runs.)
 */
export function jqSyntaxError(filter: string): string | undefined {
  try {
    call('null', `if false then (\n${filter}\n) else empty end`, ['-c']);
    return undefined;
  } catch (err) {
    return jqMessage(err);
  }
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
