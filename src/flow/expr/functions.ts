import { createHash, randomUUID } from 'node:crypto';
import type { Json, JsonObject } from '../../shared/json.js';
import { isJsonObject, jsonTypeName } from '../../shared/json.js';
import { runtimeError } from './errors.js';
import { deepEqual } from './values.js';
import type { Evaluator } from './types.js';

/** An argument after compilation: its evaluator, and its value when it is a compile-time constant. */
export interface CompiledArg {
  ev: Evaluator;
  constant: boolean;
  /** Meaningful only when `constant`. */
  value: Json;
  pos: number;
}

/** Lets a specialiser report a compile-time problem at a position. */
export type CompileFail = (pos: number, reason: string) => never;

export interface BuiltinDef {
  name: string;
  minArgs: number;
  maxArgs: number;
  /** Shown in arity errors, e.g. `split(string, delimiter)`. */
  signature: string;
  /** Pure functions with constant arguments are evaluated once, at compile time. */
  pure: boolean;
  call(args: readonly Json[]): Json;
  /** Optional: an evaluator that uses constant arguments (precompiled regex, template, …). */
  specialize?(args: readonly CompiledArg[], fail: CompileFail): Evaluator | undefined;
}

// ---------------------------------------------------------------------------------------------
// Argument checks. Wrong types are run-time errors "<function>: <what was wrong>".

const ORDINALS = ['first', 'second', 'third', 'fourth', 'fifth'];
function ordinal(i: number): string {
  return ORDINALS[i] ?? `#${i + 1}`;
}

function fail(fn: string, message: string): never {
  throw runtimeError(`${fn}: ${message}`);
}

function argOf(args: readonly Json[], i: number): Json {
  const v = args[i];
  return v === undefined ? null : v;
}

function wantString(fn: string, args: readonly Json[], i: number): string {
  const v = argOf(args, i);
  if (typeof v !== 'string') fail(fn, `the ${ordinal(i)} argument must be a string, but it is ${jsonTypeName(v)}.`);
  return v;
}

function wantArray(fn: string, args: readonly Json[], i: number): Json[] {
  const v = argOf(args, i);
  if (!Array.isArray(v)) fail(fn, `the ${ordinal(i)} argument must be an array, but it is ${jsonTypeName(v)}.`);
  return v;
}

function wantMap(fn: string, args: readonly Json[], i: number): JsonObject {
  const v = argOf(args, i);
  if (!isJsonObject(v)) fail(fn, `the ${ordinal(i)} argument must be a map (JSON object), but it is ${jsonTypeName(v)}.`);
  return v;
}

function wantInt(fn: string, args: readonly Json[], i: number): number {
  const v = argOf(args, i);
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
    fail(fn, `the ${ordinal(i)} argument must be an integer, but it is ${typeof v === 'number' ? `the number ${v}` : jsonTypeName(v)}.`);
  }
  return v;
}

/** Text of a value inside a string: strings as they are, everything else as JSON. */
function toText(v: Json): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

// ---------------------------------------------------------------------------------------------
// format

function formatParts(template: string): string[] {
  return template.split('{}');
}

function formatWith(parts: readonly string[], values: readonly Json[]): string {
  let out = parts[0] as string;
  for (let i = 0; i < values.length; i++) out += toText(values[i] as Json) + (parts[i + 1] as string);
  return out;
}

function placeholderMismatch(count: number, given: number): string {
  return `the template has ${count} "{}" placeholder${count === 1 ? '' : 's'} but ${given} value${given === 1 ? ' was' : 's were'} given.`;
}

// ---------------------------------------------------------------------------------------------
// regexMatchString. ReDoS protection is bounded by input size only: the pattern is limited to
// 1,000 characters and the searched string to 64 KiB (65,536 UTF-16 units), which bounds but does
// not remove the cost of a pathological (backtracking) pattern.

export const MAX_REGEX_SOURCE = 1000;
/** Backreferences and lookarounds, wherever they appear in the pattern. */
const UNBOUNDED_REGEX_FEATURE = /\\[1-9]|\\k<|\(\?<?[=!]/;
export const MAX_REGEX_INPUT = 64 * 1024;

function compileRegex(fn: string, source: string): RegExp {
  if (source.length > MAX_REGEX_SOURCE) fail(fn, `the regular expression is ${source.length} characters long; at most ${MAX_REGEX_SOURCE} are allowed.`);
  // Patterns must run in linear time (the server turns on V8's linear-time fallback for runaway
  // backtracking); backreferences and lookarounds defeat it, so they are refused.
  if (UNBOUNDED_REGEX_FEATURE.test(source)) fail(fn, 'backreferences (\\1, \\k<name>) and lookarounds ((?=, (?!, (?<=, (?<!) are not supported: a pattern must run in linear time.');
  try {
    return new RegExp(source);
  } catch (e) {
    return fail(fn, `invalid regular expression /${source}/: ${e instanceof Error ? e.message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '') : String(e)}.`);
  }
}

/** Regular expressions that arrive at run time, compiled once per distinct source (bounded). */
const dynamicRegexes = new Map<string, RegExp>();
const MAX_DYNAMIC_REGEXES = 256;

function dynamicRegex(fn: string, source: string): RegExp {
  let re = dynamicRegexes.get(source);
  if (re === undefined) {
    re = compileRegex(fn, source);
    if (dynamicRegexes.size >= MAX_DYNAMIC_REGEXES) dynamicRegexes.clear();
    dynamicRegexes.set(source, re);
  }
  return re;
}

function regexSubject(fn: string, v: Json): string {
  if (typeof v !== 'string') fail(fn, `the first argument must be a string, but it is ${jsonTypeName(v)}.`);
  if (v.length > MAX_REGEX_INPUT) fail(fn, `the string is ${v.length} characters long; at most ${MAX_REGEX_INPUT} can be matched.`);
  return v;
}

// ---------------------------------------------------------------------------------------------
// base64

function base64Digit(c: number): boolean {
  return (
    (c >= 65 && c <= 90) || // A-Z
    (c >= 97 && c <= 122) || // a-z
    (c >= 48 && c <= 57) || // 0-9
    c === 43 || // +
    c === 47 || // /
    c === 45 || // - (URL-safe)
    c === 95 // _ (URL-safe)
  );
}

/** Standard or URL-safe base64, padding optional. */
function isBase64(s: string): boolean {
  let end = s.length;
  let pads = 0;
  while (end > 0 && s.charCodeAt(end - 1) === 61 && pads < 2) {
    end--;
    pads++;
  }
  if (pads > 0 && s.length % 4 !== 0) return false;
  if (end % 4 === 1) return false;
  for (let i = 0; i < end; i++) if (!base64Digit(s.charCodeAt(i))) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// hash

const HASH_ALGORITHMS: Record<string, string> = { 'MD5': 'md5', 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-512': 'sha512' };
const HASH_NAMES = Object.keys(HASH_ALGORITHMS);

function hashAlgorithm(fn: string, v: Json): string {
  if (typeof v !== 'string') fail(fn, `the second argument (the algorithm) must be a string, but it is ${jsonTypeName(v)}.`);
  const algo = Object.hasOwn(HASH_ALGORITHMS, v.toUpperCase()) ? HASH_ALGORITHMS[v.toUpperCase()] : undefined;
  if (algo === undefined) fail(fn, `unknown algorithm "${v}"; use one of ${HASH_NAMES.join(', ')}.`);
  return algo;
}

function digest(algo: string, input: Json): string {
  return createHash(algo).update(toText(input), 'utf8').digest('hex');
}

// ---------------------------------------------------------------------------------------------
// arrayUnique: deep equality, first occurrence kept, order preserved.

function unique(items: readonly Json[]): Json[] {
  const out: Json[] = [];
  // Primitives by identity (a Set tells 1 from "1"); arrays and maps by deep equality.
  const seen = new Set<Json>();
  const containers: Json[] = [];
  for (const item of items) {
    if (item === null || typeof item !== 'object') {
      if (seen.has(item)) continue;
      seen.add(item);
    } else {
      if (containers.some((c) => deepEqual(c, item))) continue;
      containers.push(item);
    }
    out.push(item);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

function countCodePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A high surrogate followed by a low surrogate is one character.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

function def(d: BuiltinDef): BuiltinDef {
  return d;
}

const DEFS: BuiltinDef[] = [
  def({
    name: 'format',
    minArgs: 1,
    maxArgs: Infinity,
    signature: 'format(template, ...values)',
    pure: true,
    call(args) {
      const tpl = wantString('format', args, 0);
      const parts = formatParts(tpl);
      if (parts.length !== args.length) fail('format', placeholderMismatch(parts.length - 1, args.length - 1));
      return formatWith(parts, args.slice(1));
    },
    specialize(args, compileFail) {
      const tpl = args[0] as CompiledArg;
      if (!tpl.constant) return undefined;
      if (typeof tpl.value !== 'string') return compileFail(tpl.pos, `format: the template must be a string, but it is ${jsonTypeName(tpl.value)}.`);
      const parts = formatParts(tpl.value);
      const values = args.slice(1).map((a) => a.ev);
      if (parts.length - 1 !== values.length) compileFail(tpl.pos, `format: ${placeholderMismatch(parts.length - 1, values.length)}`);
      if (values.length === 1) {
        const [p0, p1] = parts as [string, string];
        const v0 = values[0] as Evaluator;
        return (s) => p0 + toText(v0(s)) + p1;
      }
      return (s) => {
        let out = parts[0] as string;
        for (let i = 0; i < values.length; i++) out += toText((values[i] as Evaluator)(s)) + (parts[i + 1] as string);
        return out;
      };
    },
  }),
  def({
    name: 'length',
    minArgs: 1,
    maxArgs: 1,
    signature: 'length(array | map | string)',
    pure: true,
    // Strings are measured in characters (Unicode code points), not bytes.
    call(args) {
      const v = argOf(args, 0);
      if (typeof v === 'string') return countCodePoints(v);
      if (Array.isArray(v)) return v.length;
      if (isJsonObject(v)) return Object.keys(v).length;
      return fail('length', `the argument must be an array, a map or a string, but it is ${jsonTypeName(v)}.`);
    },
  }),
  def({
    name: 'regexMatchString',
    minArgs: 2,
    maxArgs: 2,
    signature: 'regexMatchString(string, regex)',
    pure: true,
    // True when the regular expression (JavaScript syntax) matches anywhere in the string; anchor it with ^…$ for a full match.
    call(args) {
      const subject = regexSubject('regexMatchString', argOf(args, 0));
      return dynamicRegex('regexMatchString', wantString('regexMatchString', args, 1)).test(subject);
    },
    specialize(args, compileFail) {
      const [subject, pattern] = args as [CompiledArg, CompiledArg];
      if (!pattern.constant) {
        const get = subject.ev;
        const pat = pattern.ev;
        return (s) => {
          const str = regexSubject('regexMatchString', get(s));
          const p = pat(s);
          if (typeof p !== 'string') fail('regexMatchString', `the second argument must be a string, but it is ${jsonTypeName(p)}.`);
          return dynamicRegex('regexMatchString', p).test(str);
        };
      }
      if (typeof pattern.value !== 'string') {
        return compileFail(pattern.pos, `regexMatchString: the regular expression must be a string, but it is ${jsonTypeName(pattern.value)}.`);
      }
      let re: RegExp;
      try {
        re = compileRegex('regexMatchString', pattern.value);
      } catch (e) {
        return compileFail(pattern.pos, (e as Error).message);
      }
      const get = subject.ev;
      return (s) => re.test(regexSubject('regexMatchString', get(s)));
    },
  }),
  def({
    name: 'split',
    minArgs: 2,
    maxArgs: 2,
    signature: 'split(string, delimiter)',
    pure: true,
    // An empty delimiter splits into characters (code points).
    call(args) {
      const s = wantString('split', args, 0);
      const d = wantString('split', args, 1);
      return d === '' ? Array.from(s) : s.split(d);
    },
  }),
  def({
    name: 'get',
    minArgs: 2,
    maxArgs: 2,
    signature: 'get(array | map, index | key)',
    pure: true,
    // Missing key or index out of range → null; a negative index counts from the end of the array.
    call(args) {
      const c = argOf(args, 0);
      const k = argOf(args, 1);
      if (Array.isArray(c)) {
        if (typeof k !== 'number' || !Number.isSafeInteger(k)) {
          fail('get', `an array needs an integer index, but the second argument is ${typeof k === 'number' ? `the number ${k}` : jsonTypeName(k)}.`);
        }
        const v = c[k < 0 ? c.length + k : k];
        return v === undefined ? null : v;
      }
      if (isJsonObject(c)) {
        if (typeof k !== 'string') fail('get', `a map needs a string key, but the second argument is ${jsonTypeName(k)}.`);
        if (!Object.hasOwn(c, k)) return null;
        const v = c[k];
        return v === undefined ? null : v;
      }
      return fail('get', `the first argument must be an array or a map, but it is ${jsonTypeName(c)}.`);
    },
  }),
  def({
    name: 'intAdd',
    minArgs: 2,
    maxArgs: 2,
    signature: 'intAdd(int, int)',
    pure: true,
    call(args) {
      const sum = wantInt('intAdd', args, 0) + wantInt('intAdd', args, 1);
      if (!Number.isSafeInteger(sum)) fail('intAdd', `the sum ${sum} is too large to be an exact integer.`);
      return sum;
    },
  }),
  def({
    name: 'randomInt',
    minArgs: 2,
    maxArgs: 2,
    signature: 'randomInt(min, max)',
    pure: false,
    // min is inclusive, max is exclusive (like Go's rand.Intn): randomInt(0, 10) is one of 0…9.
    call(args) {
      const min = wantInt('randomInt', args, 0);
      const max = wantInt('randomInt', args, 1);
      if (max <= min) fail('randomInt', `max (${max}) must be greater than min (${min}); max is exclusive.`);
      return min + Math.floor(Math.random() * (max - min));
    },
  }),
  def({
    name: 'arrayContains',
    minArgs: 2,
    maxArgs: 2,
    signature: 'arrayContains(array, value)',
    pure: true,
    call(args) {
      const arr = wantArray('arrayContains', args, 0);
      const v = argOf(args, 1);
      if (v === null || typeof v !== 'object') return arr.includes(v);
      return arr.some((x) => deepEqual(x, v));
    },
  }),
  def({
    name: 'arrayUnique',
    minArgs: 1,
    maxArgs: 1,
    signature: 'arrayUnique(array)',
    pure: true,
    call(args) {
      return unique(wantArray('arrayUnique', args, 0));
    },
  }),
  def({
    name: 'toArray',
    minArgs: 0,
    maxArgs: Infinity,
    signature: 'toArray(...values)',
    pure: true,
    call(args) {
      return args.slice();
    },
  }),
  def({
    name: 'mapKeys',
    minArgs: 1,
    maxArgs: 1,
    signature: 'mapKeys(map)',
    pure: true,
    // Keys in the map's own order (insertion order of the JSON document).
    call(args) {
      return Object.keys(wantMap('mapKeys', args, 0));
    },
  }),
  def({
    name: 'mapValues',
    minArgs: 1,
    maxArgs: 1,
    signature: 'mapValues(map)',
    pure: true,
    call(args) {
      return Object.values(wantMap('mapValues', args, 0));
    },
  }),
  def({
    name: 'fromBase64',
    minArgs: 1,
    maxArgs: 1,
    signature: 'fromBase64(string)',
    pure: true,
    // Accepts standard and URL-safe base64, with or without padding; the bytes are decoded as UTF-8.
    call(args) {
      const s = wantString('fromBase64', args, 0);
      if (!isBase64(s)) fail('fromBase64', 'the argument is not valid base64.');
      return Buffer.from(s, 'base64').toString('utf8');
    },
  }),
  def({
    name: 'toBase64',
    minArgs: 1,
    maxArgs: 1,
    signature: 'toBase64(string)',
    pure: true,
    // Standard base64 (with padding) of the string's UTF-8 bytes.
    call(args) {
      return Buffer.from(wantString('toBase64', args, 0), 'utf8').toString('base64');
    },
  }),
  def({
    name: 'hash',
    minArgs: 2,
    maxArgs: 2,
    signature: 'hash(input, algorithm)',
    pure: true,
    // Lower-case hex digest. The algorithm name is case-insensitive; non-string input is hashed as its JSON text.
    call(args) {
      return digest(hashAlgorithm('hash', argOf(args, 1)), argOf(args, 0));
    },
    specialize(args, compileFail) {
      const [input, algorithm] = args as [CompiledArg, CompiledArg];
      if (!algorithm.constant) return undefined;
      let algo: string;
      try {
        algo = hashAlgorithm('hash', algorithm.value);
      } catch (e) {
        return compileFail(algorithm.pos, (e as Error).message);
      }
      const get = input.ev;
      return (s) => digest(algo, get(s));
    },
  }),
  def({
    name: 'uuid',
    minArgs: 0,
    maxArgs: 0,
    signature: 'uuid()',
    pure: false,
    call() {
      return randomUUID();
    },
  }),
  ...['stringToJson', 'fromJSON'].map((name) =>
    def({
      name,
      minArgs: 1,
      maxArgs: 1,
      signature: `${name}(string)`,
      pure: true,
      call(args) {
        const s = wantString(name, args, 0);
        try {
          return JSON.parse(s) as Json;
        } catch (e) {
          return fail(name, `the string is not valid JSON (${e instanceof Error ? e.message : String(e)}).`);
        }
      },
    }),
  ),
  def({
    name: 'jsonMerge',
    minArgs: 2,
    maxArgs: 2,
    signature: 'jsonMerge(map, map)',
    pure: true,
    // Shallow merge into a new map; keys of the second map win.
    call(args) {
      return { ...wantMap('jsonMerge', args, 0), ...wantMap('jsonMerge', args, 1) };
    },
  }),
  ...['jsonToString', 'toJSON'].map((name) =>
    def({
      name,
      minArgs: 1,
      maxArgs: 1,
      signature: `${name}(value)`,
      pure: true,
      call(args) {
        return JSON.stringify(argOf(args, 0));
      },
    }),
  ),
  def({
    name: 'toString',
    minArgs: 1,
    maxArgs: 1,
    signature: 'toString(value)',
    pure: true,
    // A string stays as it is; anything else becomes its JSON text.
    call(args) {
      return toText(argOf(args, 0));
    },
  }),
  def({
    name: 'toNumber',
    minArgs: 1,
    maxArgs: 1,
    signature: 'toNumber(string | number)',
    pure: true,
    // A number stays as it is; a string must hold a decimal number (surrounding spaces allowed).
    call(args) {
      const v = argOf(args, 0);
      if (typeof v === 'number') return v;
      if (typeof v !== 'string') return fail('toNumber', `the argument must be a string or a number, but it is ${jsonTypeName(v)}.`);
      const t = v.trim();
      const n = Number(t);
      // Number() also accepts hex/octal/binary literals ("0x1f"); only decimal text is a number here.
      const body = t[0] === '+' || t[0] === '-' ? t.slice(1) : t;
      const radixPrefix = body[0] === '0' && body[1] !== undefined && 'xXoObB'.includes(body[1]);
      if (t === '' || !Number.isFinite(n) || radixPrefix) fail('toNumber', `"${v.length > 40 ? `${v.slice(0, 40)}…` : v}" is not a number.`);
      return n;
    },
  }),
];

/** Built-in functions by name. */
export const BUILTINS: ReadonlyMap<string, BuiltinDef> = new Map(DEFS.map((d) => [d.name, d]));

/** Names of all built-in functions (aliases included). */
export const BUILTIN_FUNCTIONS: readonly string[] = Object.freeze(DEFS.map((d) => d.name));
