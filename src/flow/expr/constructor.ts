import type { Json, JsonObject } from '../../shared/json.js';
import { isJsonObject, jsonTypeName } from '../../shared/json.js';
import { FlowrunError } from '../../shared/errors.js';
import { compileToNode } from './compile.js';
import { ConstructorError, ExpressionSyntaxError } from './errors.js';
import type { ConstructorProblem } from './errors.js';
import type { EvalScope, Evaluator, ExpressionOptions } from './types.js';
import { arrayBuilder, objectBuilder } from './objects.js';
import { deepFreeze, setOwn } from './values.js';

/**
 * Constructors (InputConstructor, OutputConstructor, GlobalConstructor, Task Parameters): a key
 * ending in `.$` holds an expression, stored under the key without `.$`; every other key is a
 * literal, and nested maps/arrays are constructed recursively.
 *
 * Compiled constructors are closures over precomputed key and evaluator arrays. Every call returns
 * a new top-level object (callers may change it); constant parts nested inside are deep-frozen and
 * shared between calls, and values read through paths are the scope's own values (not copies), so
 * nested values of a result must be treated as read-only.
 */

const EXPRESSION_SUFFIX = '.$';

/** RFC 6901 escaping of one reference token. */
function escapePointerToken(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** True for a run-time error that does not yet say which constructor key failed. */
function unlocated(err: unknown): err is FlowrunError {
  return err instanceof FlowrunError && err.details?.['pointer'] === undefined;
}

/** Adds the location of a run-time failure to the error (once, at the innermost `.$` key). */
function locate(err: FlowrunError, pointer: string): FlowrunError {
  return new FlowrunError(err.code, `${err.message} (constructor key ${pointer})`, {
    retryable: err.retryable,
    cause: err,
    details: { ...err.details, pointer },
  });
}

interface Built {
  ev: Evaluator;
  constant: boolean;
  /** Deep-frozen value, meaningful only when `constant`. */
  value: Json;
}

function constantBuilt(value: Json): Built {
  const v = deepFreeze(value);
  return { ev: () => v, constant: true, value: v };
}

class TemplateCompiler {
  readonly problems: ConstructorProblem[] = [];

  constructor(private readonly options: ExpressionOptions) {}

  build(value: Json, pointer: string): Built {
    if (Array.isArray(value)) return this.buildArray(value, pointer);
    if (isJsonObject(value)) return this.buildObject(value, pointer);
    return constantBuilt(value);
  }

  private buildArray(items: Json[], pointer: string): Built {
    const parts = items.map((item, i) => this.build(item, `${pointer}/${i}`));
    if (parts.every((p) => p.constant)) return constantBuilt(parts.map((p) => p.value));
    return { constant: false, value: null, ev: arrayBuilder(parts.map((p) => p.ev)) };
  }

  private buildObject(obj: JsonObject, pointer: string): Built {
    const keys: string[] = [];
    const parts: Built[] = [];
    const pointers: string[] = [];
    /** Output key → template key that produced it, to catch "a" next to "a.$". */
    const producedBy = new Map<string, string>();
    for (const key of Object.keys(obj)) {
      const value = obj[key] as Json;
      const ptr = `${pointer}/${escapePointerToken(key)}`;
      const isExpression = key.endsWith(EXPRESSION_SUFFIX);
      const outKey = isExpression ? key.slice(0, -EXPRESSION_SUFFIX.length) : key;
      const other = producedBy.get(outKey);
      if (other !== undefined) {
        this.problems.push({ pointer: ptr, message: `The keys "${other}" and "${key}" both produce the output key "${outKey}"; keep only one.` });
      }
      producedBy.set(outKey, key);
      let part: Built;
      if (isExpression) {
        if (typeof value !== 'string') {
          this.problems.push({
            pointer: ptr,
            message: `The value of "${key}" must be a string holding an expression (keys ending in ".$" are evaluated), but it is ${jsonTypeName(value)}; drop the ".$" suffix for a literal value.`,
          });
          continue;
        }
        try {
          const c = compileToNode(value, this.options);
          part = { ev: c.ev, constant: c.constant, value: c.value };
        } catch (e) {
          if (!(e instanceof ExpressionSyntaxError)) throw e;
          this.problems.push({ pointer: ptr, message: `Invalid expression: ${e.message}` });
          continue;
        }
      } else {
        part = this.build(value, ptr);
      }
      keys.push(outKey);
      parts.push(part);
      pointers.push(ptr);
    }
    if (parts.every((p) => p.constant)) {
      const out: JsonObject = {};
      for (let i = 0; i < keys.length; i++) setOwn(out, keys[i] as string, (parts[i] as Built).value);
      return constantBuilt(out);
    }
    const evs = parts.map((p) => p.ev);
    const build = objectBuilder(keys, evs);
    return {
      constant: false,
      value: null,
      ev: (s) => {
        try {
          return build(s);
        } catch (e) {
          throw unlocated(e) ? locate(e, failingPointer(evs, pointers, s)) : e;
        }
      },
    };
  }
}

/**
 * Which value failed (only called after a failure): evaluates the values again in order and
 * returns the pointer of the first that throws. Evaluation is deterministic except uuid() and
 * randomInt(), whose failures do not depend on randomness.
 */
function failingPointer(evs: readonly Evaluator[], pointers: readonly string[], s: EvalScope): string {
  for (let i = 0; i < evs.length; i++) {
    try {
      (evs[i] as Evaluator)(s);
    } catch {
      return pointers[i] as string;
    }
  }
  return pointers[0] ?? '';
}

function compileTemplate(template: Json, options: ExpressionOptions): Built {
  const compiler = new TemplateCompiler(options);
  const built = compiler.build(template, '');
  if (compiler.problems.length > 0) throw new ConstructorError(compiler.problems);
  return built;
}

/** A closure returning a fresh top-level copy of a deep-frozen constant. */
function freshCopy(value: Json): Evaluator {
  if (Array.isArray(value)) return () => value.slice();
  if (isJsonObject(value)) return () => ({ ...value });
  return () => value;
}

/**
 * Compiles a constructor template (a JSON object). Throws one ConstructorError listing every
 * problem found. The returned function builds a new object on each call.
 */
export function compileConstructor(template: JsonObject, options: ExpressionOptions = {}): (scope: EvalScope) => JsonObject {
  if (!isJsonObject(template)) {
    throw new ConstructorError([{ pointer: '', message: `A constructor must be a JSON object (map), but it is ${jsonTypeName(template)}.` }]);
  }
  const built = compileTemplate(template, options);
  return (built.constant ? freshCopy(built.value) : built.ev) as (scope: EvalScope) => JsonObject;
}

/** Same rules as compileConstructor, for any JSON value (used for Task Parameters). */
export function compileValueTemplate(template: Json, options: ExpressionOptions = {}): (scope: EvalScope) => Json {
  const built = compileTemplate(template, options);
  return built.constant ? freshCopy(built.value) : built.ev;
}

/** True if any key anywhere in the template ends in ".$". */
export function isDynamic(template: Json): boolean {
  if (Array.isArray(template)) return template.some(isDynamic);
  if (!isJsonObject(template)) return false;
  for (const key of Object.keys(template)) {
    if (key.endsWith(EXPRESSION_SUFFIX) || isDynamic(template[key] as Json)) return true;
  }
  return false;
}
