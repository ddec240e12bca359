/**
 * The jq fast path: plain paths (`.Pong`, `.Instances.Instance[].InstanceId`, `.a[0].b`,
 * `.["key with space"]`, `.a[]?`) evaluated in JavaScript with jq 1.7's semantics, so the
 * selectors nearly every OOS template uses never reach jq-web (~1 ms a call, see jq.ts).
 *
 * The subset (anything else is not parsed and goes to jq-web):
 *
 *     program := ws path (ws '|' ws path)* ws          ws: spaces, tabs, newlines (not CR: jq rejects it)
 *     path    := '.' | '.' first step*                  no whitespace inside a path
 *     first   := name | string | bracket
 *     step    := '.' name | '.' string | '.' bracket | bracket      each optionally followed by one '?'
 *     name    := [A-Za-z_][A-Za-z0-9_]*                 (jq 1.7 allows keywords here: .if, .end)
 *     bracket := '[' ']' | '[' string ']' | '[' '-'? [0-9]{1,9} ']'
 *     string  := '"' JSON string characters '"'         escapes \" \\ \/ \b \f \n \r \t \uXXXX (no
 *                                                       surrogate \u escapes, no raw control characters,
 *                                                       no lone surrogates, no \( interpolation)
 *
 * and a name/string/bracket must be followed by the end, whitespace, `|`, `.`, `[` or `?`.
 *
 * Semantics (checked against jq-web by test/oos/jq-fast.test.ts):
 * - `.k` on an object: its own property k, else null; on null: null.
 * - `.[N]` on an array: element N, counting from the end when N < 0; out of range: null; on null: null.
 * - `.[]` on an array: its elements; on an object: its values in key order (jq keeps the order of
 *   the input text, which is `JSON.stringify`'s order, which is `Object.values`' order).
 * - `?` right after a step drops that step's error for that value (jq's INDEX_OPT / EACH_OPT: it
 *   does not reach back: `"s" | .a[]?` is still an error).
 * - Anything that would be a jq error (`.a` on an array, `.[0]` on an object, `.[]` on null, …)
 *   is NOT emulated: {@link runFastPath} returns undefined and the caller runs jq-web, so the
 *   error text is jq's.
 * - Inputs jq-web would not see as they are also go to jq-web: anything that is not plain JSON
 *   data (undefined, functions, class instances, NaN/Infinity, -0 — `JSON.stringify` changes
 *   them), strings or keys with lone surrogates (jq rejects the escaped text), nesting deeper than
 *   {@link MAX_FAST_DEPTH} (jq's parser has a depth limit).
 * - Objects and arrays returned are copies (jq never returns a part of its input).
 */
import type { Json, JsonObject } from '../../shared/json.js';

/** One step of a path. */
export type FastStep =
  | { readonly kind: 'key'; readonly key: string; readonly opt: boolean }
  | { readonly kind: 'index'; readonly index: number; readonly opt: boolean }
  | { readonly kind: 'each'; readonly opt: boolean };

/** A parsed fast-path program: its steps in order (`|` between paths just concatenates them). */
export type FastProgram = readonly FastStep[];

/** Inputs nested deeper than this go to jq-web (jq's own parser stops at 256 arrays / 128 objects). */
const MAX_FAST_DEPTH = 100;

/** Parsed programs by filter text (undefined: not in the subset); at most {@link CACHE_LIMIT}. */
const cache = new Map<string, FastProgram | undefined>();
const CACHE_LIMIT = 1000;

/** The fast-path program of `filter`, or undefined when it is outside the subset (cached). */
export function fastProgram(filter: string): FastProgram | undefined {
  if (cache.has(filter)) return cache.get(filter);
  const program = parseFastPath(filter);
  if (cache.size >= CACHE_LIMIT) {
    const oldest = cache.keys().next();
    if (!oldest.done) cache.delete(oldest.value);
  }
  cache.set(filter, program);
  return program;
}

/** Number of cached filters (for tests). */
export function fastCacheSize(): number {
  return cache.size;
}

const WS = new Set([' ', '\t', '\n']);
const NAME_START = /[A-Za-z_]/;
const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const INDEX = /-?[0-9]{1,9}\]/y;
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Parses `filter` if it is in the subset described above; undefined otherwise. */
export function parseFastPath(filter: string): FastProgram | undefined {
  const steps: FastStep[] = [];
  let i = 0;
  const n = filter.length;
  const skipWs = (): void => {
    while (i < n && WS.has(filter[i] as string)) i++;
  };

  /** A string literal at `i` (which is `"`); undefined when outside the subset. */
  const readString = (): string | undefined => {
    i++;
    let out = '';
    while (i < n) {
      const c = filter[i] as string;
      if (c === '"') {
        i++;
        return LONE_SURROGATE.test(out) ? undefined : out;
      }
      if (c < ' ') return undefined;
      if (c !== '\\') {
        out += c;
        i++;
        continue;
      }
      const e = filter[i + 1];
      if (e === undefined) return undefined;
      if (e === 'u') {
        const hex = filter.slice(i + 2, i + 6);
        if (!/^[0-9A-Fa-f]{4}$/.test(hex)) return undefined;
        const code = Number.parseInt(hex, 16);
        if (code >= 0xd800 && code <= 0xdfff) return undefined;
        out += String.fromCharCode(code);
        i += 6;
        continue;
      }
      const plain = ESCAPES[e];
      if (plain === undefined) return undefined;
      out += plain;
      i += 2;
    }
    return undefined;
  };

  /** `[…]` at `i`; pushes the step; false when outside the subset. */
  const readBracket = (): boolean => {
    i++;
    const c = filter[i];
    if (c === ']') {
      i++;
      steps.push({ kind: 'each', opt: readOpt() });
      return true;
    }
    if (c === '"') {
      const key = readString();
      if (key === undefined || filter[i] !== ']') return false;
      i++;
      steps.push({ kind: 'key', key, opt: readOpt() });
      return true;
    }
    INDEX.lastIndex = i;
    const m = INDEX.exec(filter);
    if (!m) return false;
    i += m[0].length;
    // `-0` is index 0 in jq too; `+ 0` turns -0 into 0.
    steps.push({ kind: 'index', index: Number.parseInt(m[0].slice(0, -1), 10) + 0, opt: readOpt() });
    return true;
  };

  const readOpt = (): boolean => {
    if (filter[i] !== '?') return false;
    i++;
    return true;
  };

  /** After `.`: a name, a string or a bracket; false when none of them. */
  const readAfterDot = (): boolean => {
    const c = filter[i];
    if (c === undefined) return false;
    if (c === '"') {
      const key = readString();
      if (key === undefined) return false;
      steps.push({ kind: 'key', key, opt: readOpt() });
      return true;
    }
    if (c === '[') return readBracket();
    if (!NAME_START.test(c)) return false;
    NAME.lastIndex = i;
    const m = NAME.exec(filter);
    if (!m) return false;
    i += m[0].length;
    steps.push({ kind: 'key', key: m[0], opt: readOpt() });
    return true;
  };

  /** True when `i` is at the end of a path: the end, whitespace or `|`. */
  const atPathEnd = (): boolean => i >= n || filter[i] === '|' || WS.has(filter[i] as string);

  skipWs();
  for (;;) {
    if (filter[i] !== '.') return undefined;
    i++;
    if (!atPathEnd()) {
      // `.` then a first part (`.a`, `."a"`, `.[0]`), then steps.
      if (!readAfterDot()) return undefined;
      while (!atPathEnd()) {
        const c = filter[i];
        if (c === '.') {
          i++;
          if (!readAfterDot()) return undefined;
        } else if (c === '[') {
          if (!readBracket()) return undefined;
        } else {
          return undefined;
        }
      }
    }
    skipWs();
    if (i >= n) return steps;
    if (filter[i] !== '|') return undefined;
    i++;
    skipWs();
  }
}

/** True when `v` reaches jq-web unchanged through `JSON.stringify` and jq's parser (see above). */
function isPlainJson(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case 'string':
      return !LONE_SURROGATE.test(v);
    case 'number':
      return Number.isFinite(v) && !Object.is(v, -0);
    case 'boolean':
      return true;
    case 'object': {
      if (v === null) return true;
      if (depth >= MAX_FAST_DEPTH) return false;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) if (!isPlainJson(v[i], depth + 1)) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) return false;
      for (const key of Object.keys(v)) {
        if (LONE_SURROGATE.test(key) || !isPlainJson((v as Record<string, unknown>)[key], depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/**
 * Runs a fast-path program; undefined when jq would fail (an error not dropped by `?`) or the
 * input is not plain JSON data — the caller then runs jq-web, which gives jq's own error.
 */
export function runFastPath(program: FastProgram, input: Json): Json[] | undefined {
  if (!isPlainJson(input, 0)) return undefined;
  let values: Json[] = [input];
  for (const step of program) {
    const next: Json[] = [];
    for (const v of values) {
      if (step.kind === 'key') {
        if (v === null) next.push(null);
        else if (typeof v === 'object' && !Array.isArray(v)) next.push(Object.hasOwn(v, step.key) ? ((v as JsonObject)[step.key] as Json) : null);
        else if (!step.opt) return undefined;
      } else if (step.kind === 'index') {
        if (v === null) next.push(null);
        else if (Array.isArray(v)) {
          const at = step.index < 0 ? v.length + step.index : step.index;
          next.push(at >= 0 && at < v.length ? (v[at] as Json) : null);
        } else if (!step.opt) return undefined;
      } else if (Array.isArray(v)) {
        for (const x of v) next.push(x);
      } else if (v !== null && typeof v === 'object') {
        for (const x of Object.values(v)) next.push(x);
      } else if (!step.opt) return undefined;
    }
    values = next;
  }
  // Copies, as jq-web's parsed output is: callers may change what they get.
  return values.map((v) => (v !== null && typeof v === 'object' ? (JSON.parse(JSON.stringify(v)) as Json) : v));
}
