import type { Json, JsonObject } from '../../shared/json.js';
import { isJsonObject, jsonTypeName } from '../../shared/json.js';
import { FlowrunError } from '../../shared/errors.js';
import { ExpressionSyntaxError, runtimeError } from './errors.js';
import { BUILTINS, BUILTIN_FUNCTIONS } from './functions.js';
import type { CompiledArg } from './functions.js';
import { arrayBuilder, objectBuilder } from './objects.js';
import { parse } from './parser.js';
import type { BinaryOp, Node } from './parser.js';
import { compilePath } from './paths.js';
import { closestName } from './suggest.js';
import type { EvalScope, Evaluator, ExpressionOptions } from './types.js';
import { deepEqual, deepFreeze, setOwn } from './values.js';

/**
 * Semantics chosen for the operators (documented here once):
 * - `&&`, `||` and `!` treat exactly `true` as true and every other value (including non-boolean
 *   values such as 1 or "yes") as false; they always produce a boolean. `&&`/`||` short-circuit.
 * - `==`/`!=` compare JSON values structurally (`1 == 1.0`, `"1" != 1`, `[1,{"a":2}] == [1,{"a":2}]`).
 * - `<`, `<=`, `>`, `>=` compare two numbers or two strings (by UTF-16 code units); any other pair
 *   of operands gives false (not an error).
 * - `x in y`: y an array → contains x (deep equality); y a map and x a string → y has own key x;
 *   y and x strings → x is a substring of y; anything else → false.
 * - `+` adds two numbers or concatenates two strings; `-`, `*`, `/`, `%` and unary `-` need numbers.
 *   Anything else, division by zero and non-finite results are run-time errors (FnF.Runtime).
 * Results of constant sub-expressions are computed at compile time and deep-frozen, so they can be
 * shared between evaluations.
 */

/** A compiled sub-expression. `value` is meaningful only when `constant` is true. */
export type Compiled = CompiledArg;

/** Constant evaluators never read their scope; folding calls them with this placeholder. */
const NO_SCOPE = undefined as unknown as EvalScope;

function constant(value: Json, pos: number): Compiled {
  const v = deepFreeze(value);
  return { ev: () => v, constant: true, value: v, pos };
}

function dynamic(ev: Evaluator, pos: number): Compiled {
  return { ev, constant: false, value: null, pos };
}

function isPrimitive(v: Json): v is string | number | boolean | null {
  return v === null || typeof v !== 'object';
}

function finite(op: string, column: number, n: number): number {
  if (!Number.isFinite(n)) throw runtimeError(`Operator "${op}" at column ${column}: the result is not a finite number.`);
  return n;
}

function membership(x: Json, y: Json): boolean {
  if (Array.isArray(y)) return isPrimitive(x) ? y.includes(x) : y.some((item) => deepEqual(item, x));
  if (typeof x !== 'string') return false;
  if (typeof y === 'string') return y.includes(x);
  return isJsonObject(y) && Object.hasOwn(y, x);
}

class Compiler {
  constructor(
    private readonly source: string,
    private readonly options: ExpressionOptions,
  ) {}

  fail(pos: number, reason: string): never {
    throw new ExpressionSyntaxError(this.source, pos, reason);
  }

  /** Evaluates a constant sub-expression now; a run-time error it would always raise becomes a compile error. */
  private fold(ev: Evaluator, pos: number, what: string): Compiled {
    try {
      return constant(ev(NO_SCOPE), pos);
    } catch (e) {
      if (e instanceof FlowrunError) this.fail(pos, `${what} always fails: ${e.message}`);
      throw e;
    }
  }

  compile(node: Node): Compiled {
    switch (node.kind) {
      case 'literal':
        return constant(node.value, node.pos);
      case 'path':
        if (node.path.root === 'Output' && this.options.allowOutput !== true) {
          this.fail(node.pos, '$Output is only available in OutputConstructor and GlobalConstructor (after the state has produced its result).');
        }
        return dynamic(compilePath(node.path), node.pos);
      case 'array':
        return this.compileArray(node.items.map((n) => this.compile(n)), node.pos);
      case 'map':
        return this.compileMap(
          node.keys,
          node.values.map((n) => this.compile(n)),
          node.pos,
        );
      case 'call':
        return this.compileCall(node.name, node.args, node.pos);
      case 'unary':
        return this.compileUnary(node.op, this.compile(node.operand), node.pos);
      case 'binary':
        return this.compileBinary(node.op, this.compile(node.left), this.compile(node.right), node.pos);
    }
  }

  private compileArray(items: Compiled[], pos: number): Compiled {
    if (items.every((c) => c.constant)) return constant(items.map((c) => c.value), pos);
    return dynamic(arrayBuilder(items.map((c) => c.ev)), pos);
  }

  private compileMap(keys: string[], values: Compiled[], pos: number): Compiled {
    if (values.every((c) => c.constant)) {
      const out: JsonObject = {};
      for (let i = 0; i < keys.length; i++) setOwn(out, keys[i] as string, (values[i] as Compiled).value);
      return constant(out, pos);
    }
    return dynamic(
      objectBuilder(
        keys,
        values.map((c) => c.ev),
      ),
      pos,
    );
  }

  private compileCall(name: string, argNodes: Node[], pos: number): Compiled {
    const def = BUILTINS.get(name);
    if (def === undefined) {
      const guess = closestName(name, BUILTIN_FUNCTIONS);
      this.fail(pos, `Unknown function "${name}"${guess ? `; did you mean "${guess}"?` : '.'}`);
    }
    const n = argNodes.length;
    if (n < def.minArgs || n > def.maxArgs) {
      const expected =
        def.minArgs === def.maxArgs
          ? `exactly ${def.minArgs} argument${def.minArgs === 1 ? '' : 's'}`
          : def.maxArgs === Infinity
            ? `at least ${def.minArgs} argument${def.minArgs === 1 ? '' : 's'}`
            : `${def.minArgs} to ${def.maxArgs} arguments`;
      this.fail(pos, `${name} takes ${expected} but was given ${n}; usage: ${def.signature}.`);
    }
    const args = argNodes.map((a) => this.compile(a));
    const call = def.call;
    if (def.pure && args.every((a) => a.constant)) {
      const values = args.map((a) => a.value);
      return this.fold(() => call(values), pos, `${name}(...)`);
    }
    const special = def.specialize?.(args, (p, reason) => this.fail(p, reason));
    if (special !== undefined) return dynamic(special, pos);
    const evs = args.map((a) => a.ev);
    switch (n) {
      case 0:
        return dynamic(() => call([]), pos);
      case 1: {
        const a = evs[0] as Evaluator;
        return dynamic((s) => call([a(s)]), pos);
      }
      case 2: {
        const a = evs[0] as Evaluator;
        const b = evs[1] as Evaluator;
        return dynamic((s) => call([a(s), b(s)]), pos);
      }
      default:
        return dynamic((s) => {
          const values: Json[] = new Array<Json>(n);
          for (let i = 0; i < n; i++) values[i] = (evs[i] as Evaluator)(s);
          return call(values);
        }, pos);
    }
  }

  private compileUnary(op: '!' | '-', operand: Compiled, pos: number): Compiled {
    const a = operand.ev;
    const column = pos + 1;
    const ev: Evaluator =
      op === '!'
        ? (s) => a(s) !== true
        : (s) => {
            const v = a(s);
            if (typeof v !== 'number') throw runtimeError(`Operator "-" at column ${column} needs a number, but got ${jsonTypeName(v)}.`);
            return -v;
          };
    return operand.constant ? this.fold(ev, pos, `"${op}"`) : dynamic(ev, pos);
  }

  private compileBinary(op: BinaryOp, left: Compiled, right: Compiled, pos: number): Compiled {
    const a = left.ev;
    const b = right.ev;
    // Short-circuit operators: fold on a constant left operand.
    if (op === '&&' || op === '||') {
      const stop = op === '||'; // left value that decides the result on its own
      if (left.constant) {
        if ((left.value === true) === stop) return constant(stop, pos);
        return right.constant ? constant(right.value === true, pos) : dynamic((s) => b(s) === true, pos);
      }
      return dynamic(stop ? (s) => a(s) === true || b(s) === true : (s) => a(s) === true && b(s) === true, pos);
    }
    const ev = this.binaryEvaluator(op, left, right, pos);
    return left.constant && right.constant ? this.fold(ev, pos, `"${op}"`) : dynamic(ev, pos);
  }

  private binaryEvaluator(op: Exclude<BinaryOp, '&&' | '||'>, left: Compiled, right: Compiled, pos: number): Evaluator {
    const a = left.ev;
    const b = right.ev;
    const column = pos + 1;
    const needNumbers = (x: Json, y: Json): never => {
      throw runtimeError(`Operator "${op}" at column ${column} needs two numbers, but got ${jsonTypeName(x)} and ${jsonTypeName(y)}.`);
    };
    switch (op) {
      case '==':
      case '!=': {
        const want = op === '==';
        // Against a constant primitive, structural equality is plain ===.
        if (right.constant && isPrimitive(right.value)) {
          const k = right.value;
          return want ? (s) => a(s) === k : (s) => a(s) !== k;
        }
        if (left.constant && isPrimitive(left.value)) {
          const k = left.value;
          return want ? (s) => b(s) === k : (s) => b(s) !== k;
        }
        return want ? (s) => deepEqual(a(s), b(s)) : (s) => !deepEqual(a(s), b(s));
      }
      case '<':
        return (s) => {
          const x = a(s);
          const y = b(s);
          return (typeof x === 'number' && typeof y === 'number') || (typeof x === 'string' && typeof y === 'string') ? x < y : false;
        };
      case '<=':
        return (s) => {
          const x = a(s);
          const y = b(s);
          return (typeof x === 'number' && typeof y === 'number') || (typeof x === 'string' && typeof y === 'string') ? x <= y : false;
        };
      case '>':
        return (s) => {
          const x = a(s);
          const y = b(s);
          return (typeof x === 'number' && typeof y === 'number') || (typeof x === 'string' && typeof y === 'string') ? x > y : false;
        };
      case '>=':
        return (s) => {
          const x = a(s);
          const y = b(s);
          return (typeof x === 'number' && typeof y === 'number') || (typeof x === 'string' && typeof y === 'string') ? x >= y : false;
        };
      case 'in':
        return (s) => membership(a(s), b(s));
      case '+':
        return (s) => {
          const x = a(s);
          const y = b(s);
          if (typeof x === 'number' && typeof y === 'number') return finite(op, column, x + y);
          if (typeof x === 'string' && typeof y === 'string') return x + y;
          throw runtimeError(`Operator "+" at column ${column} needs two numbers or two strings, but got ${jsonTypeName(x)} and ${jsonTypeName(y)}.`);
        };
      case '-':
        return (s) => {
          const x = a(s);
          const y = b(s);
          return typeof x === 'number' && typeof y === 'number' ? finite(op, column, x - y) : needNumbers(x, y);
        };
      case '*':
        return (s) => {
          const x = a(s);
          const y = b(s);
          return typeof x === 'number' && typeof y === 'number' ? finite(op, column, x * y) : needNumbers(x, y);
        };
      case '/':
      case '%':
        return (s) => {
          const x = a(s);
          const y = b(s);
          if (typeof x !== 'number' || typeof y !== 'number') return needNumbers(x, y);
          if (y === 0) throw runtimeError(`Operator "${op}" at column ${column}: division by zero.`);
          return finite(op, column, op === '/' ? x / y : x % y);
        };
    }
  }
}

/** Parses and compiles `source`; throws ExpressionSyntaxError on any compile-time problem. */
export function compileToNode(source: string, options: ExpressionOptions = {}): Compiled {
  if (typeof source !== 'string') throw new ExpressionSyntaxError(String(source), 0, `An expression must be a string, but got ${jsonTypeName(source)}.`);
  return new Compiler(source, options).compile(parse(source));
}

/** Compiles an expression into a closure. */
export function compileExpression(source: string, options?: ExpressionOptions): Evaluator {
  return compileToNode(source, options).ev;
}

/** Compiles a Choice condition: true only when the expression evaluates to exactly `true`. */
export function compileCondition(source: string, options?: ExpressionOptions): (scope: EvalScope) => boolean {
  const c = compileToNode(source, options);
  if (c.constant) {
    const v = c.value === true;
    return () => v;
  }
  const ev = c.ev;
  return (s) => ev(s) === true;
}
