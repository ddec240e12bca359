/**
 * `Fn::Eval`: a single-line expression in the Python-like syntax OOS documents (arithmetic,
 * comparisons, `and`/`or`/`not`, `in`, string and list literals, `True`/`False`/`None`, and the
 * functions len, int, float, str, bool, abs, round, min, max, sum). Nothing else: no names, no
 * attribute access, no calls other than those. Parsed texts are cached (they usually come from
 * interpolated references, so they are only known at run time).
 */
import { isJsonObject } from '../shared/json.js';
import type { Json } from '../shared/json.js';

type Node =
  | { t: 'lit'; v: Json }
  | { t: 'list'; items: Node[] }
  | { t: 'un'; op: string; a: Node }
  | { t: 'bin'; op: string; a: Node; b: Node }
  | { t: 'cmp'; ops: string[]; operands: Node[] }
  | { t: 'call'; fn: string; args: Node[] }
  | { t: 'index'; a: Node; i: Node };

export class EvalSyntaxError extends Error {}

const CACHE_LIMIT = 256;
const cache = new Map<string, Node>();

const TOKEN = /\s*(?:(\d+\.\d*|\.\d+|\d+)|('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|([A-Za-z_][A-Za-z0-9_]*)|(\*\*|\/\/|==|!=|<=|>=|[-+*/%<>()[\],]))/y;

function tokenize(text: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < text.length) {
    if (/^\s*$/.test(text.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(text);
    if (!m) throw new EvalSyntaxError(`unexpected character ${JSON.stringify(text.slice(pos).trim()[0])} at ${pos}`);
    out.push((m[1] ?? m[2] ?? m[3] ?? m[4]) as string);
    pos = TOKEN.lastIndex;
  }
  return out;
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: string[]) {}
  peek(): string | undefined {
    return this.tokens[this.i];
  }
  take(expected?: string): string {
    const t = this.tokens[this.i];
    if (t === undefined || (expected !== undefined && t !== expected)) {
      throw new EvalSyntaxError(expected ? `expected '${expected}'${t ? ` but found '${t}'` : ' at the end'}` : 'unexpected end of expression');
    }
    this.i++;
    return t;
  }
  done(): boolean {
    return this.i >= this.tokens.length;
  }
  expr(): Node {
    let a = this.and();
    while (this.peek() === 'or') {
      this.take();
      a = { t: 'bin', op: 'or', a, b: this.and() };
    }
    return a;
  }
  and(): Node {
    let a = this.not();
    while (this.peek() === 'and') {
      this.take();
      a = { t: 'bin', op: 'and', a, b: this.not() };
    }
    return a;
  }
  not(): Node {
    if (this.peek() === 'not') {
      this.take();
      return { t: 'un', op: 'not', a: this.not() };
    }
    return this.cmp();
  }
  cmp(): Node {
    const first = this.add();
    const ops: string[] = [];
    const operands = [first];
    for (;;) {
      const t = this.peek();
      if (t === '==' || t === '!=' || t === '<' || t === '<=' || t === '>' || t === '>=' || t === 'in') {
        ops.push(this.take());
      } else if (t === 'not' && this.tokens[this.i + 1] === 'in') {
        this.take();
        this.take();
        ops.push('not in');
      } else break;
      operands.push(this.add());
    }
    return ops.length === 0 ? first : { t: 'cmp', ops, operands };
  }
  add(): Node {
    let a = this.mul();
    while (this.peek() === '+' || this.peek() === '-') {
      const op = this.take();
      a = { t: 'bin', op, a, b: this.mul() };
    }
    return a;
  }
  mul(): Node {
    let a = this.unary();
    while (this.peek() === '*' || this.peek() === '/' || this.peek() === '//' || this.peek() === '%') {
      const op = this.take();
      a = { t: 'bin', op, a, b: this.unary() };
    }
    return a;
  }
  unary(): Node {
    if (this.peek() === '-' || this.peek() === '+') {
      const op = this.take();
      return { t: 'un', op, a: this.unary() };
    }
    const base = this.postfix();
    if (this.peek() === '**') {
      this.take();
      return { t: 'bin', op: '**', a: base, b: this.unary() };
    }
    return base;
  }
  postfix(): Node {
    let a = this.primary();
    while (this.peek() === '[') {
      this.take();
      const i = this.expr();
      this.take(']');
      a = { t: 'index', a, i };
    }
    return a;
  }
  primary(): Node {
    const t = this.take();
    if (/^(\d|\.\d)/.test(t)) return { t: 'lit', v: Number(t) };
    if (t.startsWith("'") || t.startsWith('"')) return { t: 'lit', v: unquote(t) };
    if (t === 'True' || t === 'true') return { t: 'lit', v: true };
    if (t === 'False' || t === 'false') return { t: 'lit', v: false };
    if (t === 'None' || t === 'null') return { t: 'lit', v: null };
    if (t === '(') {
      const e = this.expr();
      this.take(')');
      return e;
    }
    if (t === '[') {
      const items: Node[] = [];
      while (this.peek() !== ']') {
        items.push(this.expr());
        if (this.peek() === ',') this.take();
        else break;
      }
      this.take(']');
      return { t: 'list', items };
    }
    if (/^[A-Za-z_]/.test(t) && FUNCTIONS[t] && this.peek() === '(') {
      this.take('(');
      const args: Node[] = [];
      while (this.peek() !== ')') {
        args.push(this.expr());
        if (this.peek() === ',') this.take();
        else break;
      }
      this.take(')');
      return { t: 'call', fn: t, args };
    }
    throw new EvalSyntaxError(`unexpected '${t}'`);
  }
}

function unquote(token: string): string {
  const body = token.slice(1, -1);
  return body.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
}

const num = (v: Json, what: string): number => {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  throw new EvalSyntaxError(`${what} needs a number, got ${JSON.stringify(v)}`);
};
const truthy = (v: Json): boolean =>
  v === null ? false : typeof v === 'boolean' ? v : typeof v === 'number' ? v !== 0 : typeof v === 'string' ? v !== '' : Array.isArray(v) ? v.length > 0 : Object.keys(v).length > 0;

const FUNCTIONS: Record<string, (args: Json[]) => Json> = {
  len: ([v]) => (typeof v === 'string' || Array.isArray(v) ? v.length : isJsonObject(v) ? Object.keys(v).length : num(v ?? null, 'len')),
  int: ([v]) => (typeof v === 'string' ? Math.trunc(Number.parseInt(v, 10)) : Math.trunc(num(v ?? null, 'int'))),
  float: ([v]) => (typeof v === 'string' ? Number.parseFloat(v) : num(v ?? null, 'float')),
  str: ([v]) => (typeof v === 'string' ? v : JSON.stringify(v ?? null)),
  bool: ([v]) => truthy(v ?? null),
  abs: ([v]) => Math.abs(num(v ?? null, 'abs')),
  round: ([v, d]) => {
    const f = 10 ** (d === undefined ? 0 : num(d, 'round'));
    return Math.round(num(v ?? null, 'round') * f) / f;
  },
  min: (args) => Math.min(...(args.length === 1 && Array.isArray(args[0]) ? args[0] : args).map((a) => num(a, 'min'))),
  max: (args) => Math.max(...(args.length === 1 && Array.isArray(args[0]) ? args[0] : args).map((a) => num(a, 'max'))),
  sum: ([v]) => (Array.isArray(v) ? v.reduce<number>((s, x) => s + num(x, 'sum'), 0) : num(v ?? null, 'sum')),
};

function equal(a: Json, b: Json): boolean {
  return JSON.stringify(a) === JSON.stringify(b) || (typeof a !== 'object' && typeof b !== 'object' && typeof a === typeof b && a === b);
}

function compare(op: string, a: Json, b: Json): boolean {
  switch (op) {
    case '==':
      return equal(a, b);
    case '!=':
      return !equal(a, b);
    case 'in':
    case 'not in': {
      const inside = typeof b === 'string' ? typeof a === 'string' && b.includes(a) : Array.isArray(b) ? b.some((x) => equal(x, a)) : isJsonObject(b) ? typeof a === 'string' && Object.hasOwn(b, a) : false;
      return op === 'in' ? inside : !inside;
    }
    default: {
      const x = typeof a === 'string' && typeof b === 'string' ? a : num(a, op);
      const y = typeof a === 'string' && typeof b === 'string' ? b : num(b, op);
      return op === '<' ? x < y : op === '<=' ? x <= y : op === '>' ? x > y : x >= y;
    }
  }
}

function run(n: Node): Json {
  switch (n.t) {
    case 'lit':
      return n.v;
    case 'list':
      return n.items.map(run);
    case 'un': {
      const v = run(n.a);
      return n.op === 'not' ? !truthy(v) : n.op === '-' ? -num(v, '-') : num(v, '+');
    }
    case 'cmp': {
      for (let i = 0; i < n.ops.length; i++) {
        if (!compare(n.ops[i] as string, run(n.operands[i] as Node), run(n.operands[i + 1] as Node))) return false;
      }
      return true;
    }
    case 'call':
      return (FUNCTIONS[n.fn] as (args: Json[]) => Json)(n.args.map(run));
    case 'index': {
      const a = run(n.a);
      const i = run(n.i);
      if (Array.isArray(a) || typeof a === 'string') {
        const k = num(i, 'index');
        const v = a[k < 0 ? a.length + k : k];
        if (v === undefined) throw new EvalSyntaxError(`index ${k} out of range`);
        return v;
      }
      if (isJsonObject(a) && typeof i === 'string' && Object.hasOwn(a, i)) return a[i] as Json;
      throw new EvalSyntaxError(`cannot index ${JSON.stringify(a)} with ${JSON.stringify(i)}`);
    }
    case 'bin': {
      if (n.op === 'and') {
        const a = run(n.a);
        return truthy(a) ? run(n.b) : a;
      }
      if (n.op === 'or') {
        const a = run(n.a);
        return truthy(a) ? a : run(n.b);
      }
      const a = run(n.a);
      const b = run(n.b);
      if (n.op === '+' && typeof a === 'string' && typeof b === 'string') return a + b;
      if (n.op === '+' && Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
      if (n.op === '*' && typeof a === 'string' && typeof b === 'number') return a.repeat(Math.max(0, b));
      const x = num(a, n.op);
      const y = num(b, n.op);
      switch (n.op) {
        case '+':
          return x + y;
        case '-':
          return x - y;
        case '*':
          return x * y;
        case '**':
          return x ** y;
        default:
          if (y === 0) throw new EvalSyntaxError('division by zero');
          return n.op === '/' ? x / y : n.op === '//' ? Math.floor(x / y) : x - Math.floor(x / y) * y;
      }
    }
  }
}

/** Parses (cached) and evaluates an expression; throws EvalSyntaxError with a readable reason. */
export function evaluateExpression(text: string): Json {
  let node = cache.get(text);
  if (!node) {
    const parser = new Parser(tokenize(text));
    node = parser.expr();
    if (!parser.done()) throw new EvalSyntaxError(`unexpected '${parser.peek() ?? ''}'`);
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    cache.set(text, node);
  }
  const value = run(node);
  if (typeof value === 'number' && !Number.isFinite(value)) throw new EvalSyntaxError('the result is not a finite number');
  return value;
}
