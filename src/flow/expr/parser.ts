import type { Json } from '../../shared/json.js';
import { MAX_FUNCTION_NESTING } from '../../shared/limits.js';
import { ExpressionSyntaxError } from './errors.js';
import { Lexer } from './lexer.js';
import type { PathSpec, Token } from './lexer.js';

export type BinaryOp = '||' | '&&' | '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | '+' | '-' | '*' | '/' | '%';
export type UnaryOp = '!' | '-';

export type Node =
  | { kind: 'literal'; pos: number; value: Json }
  | { kind: 'path'; pos: number; path: PathSpec }
  | { kind: 'array'; pos: number; items: Node[] }
  | { kind: 'map'; pos: number; keys: string[]; values: Node[] }
  | { kind: 'call'; pos: number; name: string; args: Node[] }
  | { kind: 'unary'; pos: number; op: UnaryOp; operand: Node }
  | { kind: 'binary'; pos: number; op: BinaryOp; left: Node; right: Node };

/** Guards the parser's recursion (brackets and parentheses), independent of function nesting. */
const MAX_SYNTAX_DEPTH = 200;

/** Binary operator levels, lowest precedence first. */
const LEVELS: readonly (readonly BinaryOp[])[] = [['||'], ['&&'], ['==', '!='], ['<', '<=', '>', '>=', 'in'], ['+', '-'], ['*', '/', '%']];

/** A token as the object of "Unexpected …". */
function unexpected(t: Token): string {
  return t.type === 'eof' ? 'end of the expression' : describe(t).replace(/^the /, '');
}

function describe(t: Token): string {
  switch (t.type) {
    case 'eof':
      return 'the end of the expression';
    case 'str':
      return `the string ${t.text}`;
    case 'num':
      return `the number ${t.text}`;
    case 'path':
      return `the path ${t.text}`;
    default:
      return `"${t.text}"`;
  }
}

/** Recursive-descent parser for the CloudFlow expression grammar. */
export class Parser {
  private readonly tokens: Token[];
  private k = 0;
  private callDepth = 0;
  private depth = 0;

  constructor(private readonly source: string) {
    this.tokens = new Lexer(source).tokenize();
  }

  private fail(pos: number, reason: string): never {
    throw new ExpressionSyntaxError(this.source, pos, reason);
  }

  private peek(): Token {
    return this.tokens[this.k] as Token;
  }

  private take(): Token {
    const t = this.tokens[this.k] as Token;
    if (t.type !== 'eof') this.k++;
    return t;
  }

  private isOp(text: string): boolean {
    const t = this.peek();
    return t.type === 'op' && t.text === text;
  }

  private expectOp(text: string, context: string): Token {
    const t = this.peek();
    if (t.type !== 'op' || t.text !== text) this.fail(t.pos, `Expected "${text}" ${context}, but found ${describe(t)}.`);
    return this.take();
  }

  /** Parses the whole source as one expression. */
  parseAll(): Node {
    if (this.peek().type === 'eof') this.fail(0, 'The expression is empty.');
    const node = this.parseBinary(0);
    const t = this.peek();
    if (t.type !== 'eof') {
      this.fail(t.pos, `Unexpected ${unexpected(t)} after the end of a complete expression; is an operator missing?`);
    }
    return node;
  }

  private parseBinary(level: number): Node {
    const ops = LEVELS[level];
    if (ops === undefined) return this.parseUnary();
    let left = this.parseBinary(level + 1);
    for (;;) {
      const t = this.peek();
      const op = (t.type === 'op' || (t.type === 'ident' && t.text === 'in') ? t.text : '') as BinaryOp;
      if (!ops.includes(op)) return left;
      this.take();
      if (this.peek().type === 'eof') this.fail(t.pos, `The operator "${op}" has nothing on its right.`);
      const right = this.parseBinary(level + 1);
      left = { kind: 'binary', pos: t.pos, op, left, right };
    }
  }

  private parseUnary(): Node {
    const t = this.peek();
    if (t.type === 'op' && (t.text === '!' || t.text === '-')) {
      this.take();
      this.enter(t.pos);
      const operand = this.parseUnary();
      this.depth--;
      return { kind: 'unary', pos: t.pos, op: t.text, operand };
    }
    return this.parsePrimary();
  }

  private enter(pos: number): void {
    if (++this.depth > MAX_SYNTAX_DEPTH) this.fail(pos, `The expression is nested more than ${MAX_SYNTAX_DEPTH} levels deep.`);
  }

  private parsePrimary(): Node {
    const t = this.take();
    switch (t.type) {
      case 'num':
        return { kind: 'literal', pos: t.pos, value: t.value as number };
      case 'str':
        return { kind: 'literal', pos: t.pos, value: t.value as string };
      case 'path':
        return { kind: 'path', pos: t.pos, path: t.path as PathSpec };
      case 'ident':
        return this.parseIdent(t);
      case 'op':
        if (t.text === '(') {
          this.enter(t.pos);
          const inner = this.parseBinary(0);
          this.expectOp(')', `to close the "(" at column ${t.pos + 1}`);
          this.depth--;
          return inner;
        }
        if (t.text === '[') return this.parseArray(t);
        if (t.text === '{') return this.parseMap(t);
        return this.fail(t.pos, `Unexpected ${unexpected(t)}; expected a value (a path, literal, function call or "(").`);
      case 'eof':
        return this.fail(t.pos, 'The expression ends too early; expected a value.');
    }
  }

  private parseIdent(t: Token): Node {
    switch (t.text) {
      case 'true':
        return { kind: 'literal', pos: t.pos, value: true };
      case 'false':
        return { kind: 'literal', pos: t.pos, value: false };
      case 'null':
        return { kind: 'literal', pos: t.pos, value: null };
      case 'in':
        return this.fail(t.pos, 'Unexpected "in"; it needs a value on its left, as in: "x" in $Input.list.');
    }
    if (!this.isOp('(')) {
      this.fail(
        t.pos,
        `Unknown name "${t.text}". Paths start with "$" (e.g. $Input.${t.text}), strings need quotes ("${t.text}"), and functions need parentheses (${t.text}(...)).`,
      );
    }
    this.take();
    if (++this.callDepth > MAX_FUNCTION_NESTING) {
      this.fail(t.pos, `Function calls are nested more than ${MAX_FUNCTION_NESTING} levels deep (at "${t.text}"); simplify the expression.`);
    }
    const args: Node[] = [];
    if (!this.isOp(')')) {
      for (;;) {
        args.push(this.parseBinary(0));
        if (this.isOp(',')) {
          this.take();
          continue;
        }
        break;
      }
    }
    this.expectOp(')', `to close the arguments of ${t.text}(...) that start at column ${t.pos + 1}`);
    this.callDepth--;
    return { kind: 'call', pos: t.pos, name: t.text, args };
  }

  private parseArray(open: Token): Node {
    this.enter(open.pos);
    const items: Node[] = [];
    if (!this.isOp(']')) {
      for (;;) {
        items.push(this.parseBinary(0));
        if (this.isOp(',')) {
          this.take();
          continue;
        }
        break;
      }
    }
    this.expectOp(']', `to close the array started at column ${open.pos + 1}`);
    this.depth--;
    return { kind: 'array', pos: open.pos, items };
  }

  private parseMap(open: Token): Node {
    this.enter(open.pos);
    const keys: string[] = [];
    const values: Node[] = [];
    if (!this.isOp('}')) {
      for (;;) {
        const k = this.take();
        let key: string;
        if (k.type === 'str') key = k.value as string;
        else if (k.type === 'ident') key = k.text;
        else this.fail(k.pos, `Expected a key (a quoted string) in the map started at column ${open.pos + 1}, but found ${describe(k)}.`);
        if (keys.includes(key)) this.fail(k.pos, `The key "${key}" appears twice in the same map.`);
        this.expectOp(':', `after the map key ${k.text}`);
        keys.push(key);
        values.push(this.parseBinary(0));
        if (this.isOp(',')) {
          this.take();
          continue;
        }
        break;
      }
    }
    this.expectOp('}', `to close the map started at column ${open.pos + 1}`);
    this.depth--;
    return { kind: 'map', pos: open.pos, keys, values };
  }
}

export function parse(source: string): Node {
  return new Parser(source).parseAll();
}
