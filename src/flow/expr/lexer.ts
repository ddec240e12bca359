import { ExpressionSyntaxError } from './errors.js';
import { closestName } from './suggest.js';

/** The variables a path can start from. `$` alone (legacy JSONPath) means `$Input`. */
export type PathRoot = 'Input' | 'Output' | 'Global' | 'Context';
const ROOTS: readonly PathRoot[] = ['Input', 'Output', 'Global', 'Context'];

/** One step of a simple path: an object key, and the array index it denotes (if it is an integer). */
export interface PathSegment {
  key: string;
  /** Integer index used when the current value is an array (negative counts from the end); null if `key` is not an integer. */
  index: number | null;
}

export interface PathSpec {
  root: PathRoot;
  /** Source text of the whole path, for messages. */
  text: string;
  /** Steps of a simple path (only `.name`, `[n]`, `["key"]`). Empty for a complex path. */
  segments: PathSegment[];
  /** For paths using JSONPath features (`[*]`, `..`, filters, slices, unions): the jsonpath-plus expression, rooted at `$`. */
  jsonPath: string | null;
  /** For a complex path: true when it denotes at most one value (its result is that value, not an array of matches). */
  definite: boolean;
}

export type TokenType = 'num' | 'str' | 'ident' | 'path' | 'op' | 'eof';

export interface Token {
  type: TokenType;
  /** 0-based offset of the first character. */
  pos: number;
  /** Raw source text of the token. */
  text: string;
  /** Decoded value of a string or number literal. */
  value?: string | number;
  path?: PathSpec;
}

const OPERATORS = ['&&', '||', '==', '!=', '<=', '>=', '<', '>', '!', '+', '-', '*', '/', '%', '(', ')', '[', ']', '{', '}', ',', ':'];

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

function isIdentStart(c: string | undefined): boolean {
  return c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_');
}

function isIdentPart(c: string | undefined): boolean {
  return isIdentStart(c) || isDigit(c);
}

const NAME_CHAR = /^[\p{L}\p{N}_$]$/u;
/** Characters allowed in a `.name` path step (letters, digits, `_`, `$`; use `["a-b"]` for anything else). */
function isNameChar(c: string | undefined): boolean {
  return c !== undefined && NAME_CHAR.test(c);
}

function describeChar(c: string): string {
  return c === '\n' ? 'a line break' : c === '\t' ? 'a tab' : `"${c}"`;
}

/** A lone `=` inside a JSONPath filter would assign to the data: refuse it. */
const FILTER_ASSIGNMENT = /(^|[^=!<>])=($|[^=])/;

/** Turns an expression's source into tokens. Paths are scanned (and pre-parsed) as single tokens. */
export class Lexer {
  private i = 0;
  private readonly src: string;

  constructor(src: string) {
    this.src = src;
  }

  fail(pos: number, reason: string): never {
    throw new ExpressionSyntaxError(this.src, pos, reason);
  }

  tokenize(): Token[] {
    const tokens: Token[] = [];
    for (;;) {
      const t = this.next();
      tokens.push(t);
      if (t.type === 'eof') return tokens;
    }
  }

  private next(): Token {
    const src = this.src;
    while (this.i < src.length) {
      const c = src[this.i];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') this.i++;
      else break;
    }
    const start = this.i;
    const c = src[start];
    if (c === undefined) return { type: 'eof', pos: start, text: '' };
    if (c === '"' || c === "'" || c === '`') {
      const { value, end } = this.readString(start);
      this.i = end;
      return { type: 'str', pos: start, text: src.slice(start, end), value };
    }
    if (isDigit(c) || (c === '.' && isDigit(src[start + 1]))) return this.readNumber(start);
    if (c === '$') return this.readPath(start);
    if (isIdentStart(c)) {
      let j = start + 1;
      while (isIdentPart(src[j])) j++;
      this.i = j;
      return { type: 'ident', pos: start, text: src.slice(start, j) };
    }
    if (src.startsWith('===', start) || src.startsWith('!==', start)) {
      this.fail(start, `"${src.slice(start, start + 3)}" is not an operator; use "${src.slice(start, start + 2)}" (it already compares without type coercion).`);
    }
    for (const op of OPERATORS) {
      if (src.startsWith(op, start)) {
        this.i = start + op.length;
        return { type: 'op', pos: start, text: op };
      }
    }
    if (c === '=') this.fail(start, 'Unexpected "="; use "==" to compare values (there is no assignment).');
    if (c === '&') this.fail(start, 'Unexpected "&"; use "&&" for logical and.');
    if (c === '|') this.fail(start, 'Unexpected "|"; use "||" for logical or.');
    if (c === '.') this.fail(start, 'Unexpected "."; only paths ($Input.a.b) have fields; use get(value, "key") to read a field of another value.');
    return this.fail(start, `Unexpected character ${describeChar(c)}.`);
  }

  private readNumber(start: number): Token {
    const src = this.src;
    let j = start;
    while (isDigit(src[j])) j++;
    if (src[j] === '.') {
      j++;
      if (!isDigit(src[j])) this.fail(j, `A digit must follow the decimal point in the number "${src.slice(start, j)}".`);
      while (isDigit(src[j])) j++;
    }
    if (src[j] === 'e' || src[j] === 'E') {
      let k = j + 1;
      if (src[k] === '+' || src[k] === '-') k++;
      if (!isDigit(src[k])) this.fail(k, `The exponent of the number "${src.slice(start, k)}" has no digits.`);
      while (isDigit(src[k])) k++;
      j = k;
    }
    if (isIdentPart(src[j]) || src[j] === '.') {
      let k = j;
      while (isIdentPart(src[k]) || src[k] === '.') k++;
      this.fail(start, `"${src.slice(start, k)}" is not a valid number.`);
    }
    const text = src.slice(start, j);
    const value = Number(text);
    if (!Number.isFinite(value)) this.fail(start, `The number ${text} is too large.`);
    this.i = j;
    return { type: 'num', pos: start, text, value };
  }

  /** Reads a quoted string starting at `start` (which holds the quote). Returns its value and the offset after the closing quote. */
  readString(start: number): { value: string; end: number } {
    const src = this.src;
    const quote = src[start] as string;
    let out = '';
    let j = start + 1;
    let chunk = j;
    for (;;) {
      const c = src[j];
      if (c === undefined) {
        this.fail(start, `Unterminated string: the ${quote} opened here is never closed.`);
      }
      if (c === quote) {
        out += src.slice(chunk, j);
        return { value: out, end: j + 1 };
      }
      if (c === '\\') {
        out += src.slice(chunk, j);
        const e = src[j + 1];
        switch (e) {
          case '"':
          case "'":
          case '`':
          case '\\':
          case '/':
            out += e;
            j += 2;
            break;
          case 'n':
            out += '\n';
            j += 2;
            break;
          case 't':
            out += '\t';
            j += 2;
            break;
          case 'r':
            out += '\r';
            j += 2;
            break;
          case 'b':
            out += '\b';
            j += 2;
            break;
          case 'f':
            out += '\f';
            j += 2;
            break;
          case 'u': {
            const hex = src.slice(j + 2, j + 6);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail(j, 'The escape "\\u" must be followed by exactly 4 hexadecimal digits.');
            out += String.fromCharCode(parseInt(hex, 16));
            j += 6;
            break;
          }
          case undefined:
            return this.fail(start, `Unterminated string: the ${quote} opened here is never closed.`);
          default:
            return this.fail(j, `Unknown escape sequence "\\${e}" in a string; use \\\\ for a backslash.`);
        }
        chunk = j;
        continue;
      }
      j++;
    }
  }

  private readPath(start: number): Token {
    const src = this.src;
    let j = start + 1;
    let root: PathRoot;
    if (isIdentStart(src[j])) {
      while (isIdentPart(src[j])) j++;
      const name = src.slice(start + 1, j);
      if (!(ROOTS as readonly string[]).includes(name)) {
        const guess = closestName(name, ROOTS);
        this.fail(
          start,
          `Unknown variable "$${name}"${guess ? `; did you mean "$${guess}"?` : '.'} Paths start with $Input, $Output, $Global or $Context (or $ for $Input).`,
        );
      }
      root = name as PathRoot;
    } else {
      root = 'Input';
    }
    const segments: PathSegment[] = [];
    /** The JSONPath text equivalent to the steps read so far. */
    let jp = '$';
    let complex = false;
    let definite = true;
    for (;;) {
      const c = src[j];
      if (c === '.') {
        if (src[j + 1] === '.') {
          complex = true;
          definite = false;
          jp += '..';
          j += 2;
          if (src[j] === '*') {
            jp += '*';
            j++;
          } else if (src[j] !== '[') {
            const nameStart = j;
            while (isNameChar(src[j])) j++;
            if (j === nameStart) this.fail(j, 'Expected a property name, "*" or "[" after "..".');
            jp += src.slice(nameStart, j);
          }
          continue;
        }
        j++;
        if (src[j] === '*') {
          complex = true;
          definite = false;
          jp += '.*';
          j++;
          continue;
        }
        const nameStart = j;
        while (isNameChar(src[j])) j++;
        if (j === nameStart) {
          const what = src[j] === undefined ? 'the end of the expression' : describeChar(src[j] as string);
          this.fail(j, `Expected a property name after "." in the path "${src.slice(start, j)}", but found ${what}. Use ["..."] for keys with other characters.`);
        }
        const name = src.slice(nameStart, j);
        segments.push({ key: name, index: /^\d+$/.test(name) ? Number(name) : null });
        jp += `.${name}`;
        continue;
      }
      if (c === '[') {
        const close = this.findClosingBracket(j);
        const raw = src.slice(j + 1, close);
        const content = raw.trim();
        if (content === '') this.fail(j, 'Empty brackets "[]" in a path; put an index, a quoted key or a JSONPath selector inside.');
        if (/^-?\d+$/.test(content)) {
          const n = Number(content);
          if (!Number.isSafeInteger(n)) this.fail(j + 1, `The index ${content} is too large.`);
          segments.push({ key: String(n), index: n });
          if (n < 0) {
            // jsonpath-plus does not accept negative indices; use the equivalent slice.
            jp += n === -1 ? '[-1:]' : `[${n}:${n + 1}]`;
          } else {
            jp += `[${n}]`;
          }
        } else if ((content[0] === '"' || content[0] === "'" || content[0] === '`') && this.isSingleString(j + 1 + raw.indexOf(content[0]), close)) {
          const key = this.readString(j + 1 + raw.indexOf(content[0])).value;
          segments.push({ key, index: null });
          jp += `['${key}']`;
          if (key.includes("'") || key.includes(']')) {
            // Only matters when the path also uses JSONPath features (checked below).
            jp += '\u0000';
          }
        } else {
          complex = true;
          if (content === '*' || content.includes(':') || content.includes(',') || content.startsWith('?')) definite = false;
          if (content.startsWith('?') && FILTER_ASSIGNMENT.test(content)) {
            this.fail(j + 1, `The JSONPath filter "${content}" contains "="; use "==" to compare.`);
          }
          jp += `[${content}]`;
        }
        j = close + 1;
        continue;
      }
      break;
    }
    const text = src.slice(start, j);
    if (complex && jp.includes('\u0000')) {
      this.fail(start, `The path "${text}" mixes JSONPath selectors with a bracket key containing ' or ], which JSONPath cannot express.`);
    }
    this.i = j;
    return {
      type: 'path',
      pos: start,
      text,
      path: { root, text, segments: complex ? [] : segments, jsonPath: complex ? jp : null, definite: complex ? definite : true },
    };
  }

  /** True when the string literal starting at `quotePos` ends right before `close` (ignoring spaces). */
  private isSingleString(quotePos: number, close: number): boolean {
    const { end } = this.readString(quotePos);
    return this.src.slice(end, close).trim() === '';
  }

  /** Offset of the `]` closing the `[` at `open`, skipping nested brackets, parentheses and quoted strings. */
  private findClosingBracket(open: number): number {
    const src = this.src;
    const stack: string[] = [];
    let j = open;
    for (;;) {
      const c = src[j];
      if (c === undefined) this.fail(open, `Unclosed "[" in a path: no matching "]".`);
      if (c === '"' || c === "'" || c === '`') {
        j = this.readString(j).end;
        continue;
      }
      if (c === '[' || c === '(') stack.push(c === '[' ? ']' : ')');
      else if (c === ']' || c === ')') {
        const expected = stack.pop();
        if (expected !== c) this.fail(j, `Unexpected "${c}" in a path; expected "${expected ?? ']'}".`);
        if (stack.length === 0) return j;
      }
      j++;
    }
  }
}
