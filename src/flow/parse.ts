/**
 * Definition text (YAML 1.2, core schema — so JSON parses too) → a JSON document, or problems
 * with line and column. Also maps JSON pointers back to positions in the text, so validation
 * problems can carry line:column as well ({@link withPositions}).
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node as YamlNode, YAMLError } from 'yaml';
import type { Problem } from './validate.js';

export type { Problem } from './validate.js';

export type ParseResult = { ok: true; document: unknown } | { ok: false; problems: Problem[] };

/** Largest definition text flowrun reads (CloudFlow's request size cap: 1,024 KiB). */
export const MAX_DEFINITION_BYTES = 1024 * 1024;

/** Aliases (`*name`) one document may expand; beyond this is treated as a "billion laughs" attack. */
const MAX_ALIAS_COUNT = 100;

const PARSE_OPTIONS = { version: '1.2', schema: 'core', uniqueKeys: true, prettyErrors: false, keepSourceTokens: false } as const;

/**
 * Parses a flow definition. Refuses texts over {@link MAX_DEFINITION_BYTES}, empty documents,
 * syntax errors, duplicate keys, several documents in one text, unknown tags (`!Ref`), non-string
 * (collection) keys and values JSON cannot hold (binary, .inf, .nan).
 */
export function parseDefinitionText(text: string, fileName?: string): ParseResult {
  const size = utf8Length(text, MAX_DEFINITION_BYTES);
  if (size > MAX_DEFINITION_BYTES) {
    return fail({
      pointer: '',
      message: `the definition is larger than ${MAX_DEFINITION_BYTES} bytes (1 MiB), the most flowrun reads${size < Infinity ? ` (it has ${size} bytes)` : ''}`,
    });
  }
  const syntax = fileName !== undefined && /\.json$/i.test(fileName) ? 'JSON/YAML syntax error' : 'YAML syntax error';
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { ...PARSE_OPTIONS, lineCounter });
  const at = (offset: number): { line: number; column: number } => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };

  const problems: Problem[] = [];
  for (const err of [...doc.errors, ...doc.warnings]) problems.push({ ...describeYamlError(err, doc, text, syntax), ...at(err.pos[0]) });
  if (problems.length > 0) return fail(...problems);

  if (doc.contents === null) {
    return fail({ pointer: '', message: `${fileName ?? 'the definition'} is empty; expected a flow definition (Type: StateMachine, SpecVersion: v1, StartAt, States)` });
  }
  if (isScalar(doc.contents) && doc.contents.value === null) {
    return fail({ pointer: '', message: 'the document is empty (null); expected a flow definition (Type: StateMachine, SpecVersion: v1, StartAt, States)', ...at(doc.contents.range?.[0] ?? 0) });
  }

  // Keys must be scalars: a collection key (`? [a, b]`) has no JSON counterpart.
  walkNodes(doc.contents, [], (node, path) => {
    if (!isMap(node)) return;
    for (const pair of node.items) {
      if (pair.key !== null && !isScalar(pair.key) && !isAlias(pair.key)) {
        const start = (pair.key as YamlNode).range?.[0] ?? 0;
        problems.push({ pointer: toPointer(path), message: 'mapping keys must be plain strings, not lists or mappings', ...at(start) });
      }
    }
  });
  if (problems.length > 0) return fail(...problems);

  let document: unknown;
  try {
    document = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    return fail({ pointer: '', message: `${syntax}: ${err instanceof Error ? err.message : String(err)}` });
  }
  checkJsonValues(document, [], problems);
  if (problems.length > 0) {
    return fail(...problems.map((p) => ({ ...p, ...(locateInDocument(doc, lineCounter, p.pointer) ?? {}) })));
  }
  return { ok: true, document };
}

/**
 * The line and column (1-based) of what `pointer` designates in `text`: for a mapping member,
 * its key; for a list item, the item. Falls back to the deepest existing ancestor; undefined
 * when the text does not parse.
 */
export function locatePointer(text: string, pointer: string): { line: number; column: number } | undefined {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { ...PARSE_OPTIONS, lineCounter });
  return locateInDocument(doc, lineCounter, pointer);
}

/** Copies of `problems` with line/column (where still missing) looked up in the definition text. */
export function withPositions(problems: Problem[], text: string): Problem[] {
  if (utf8Length(text, MAX_DEFINITION_BYTES) > MAX_DEFINITION_BYTES) return problems;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { ...PARSE_OPTIONS, lineCounter });
  return problems.map((p) => {
    if (p.line !== undefined) return p;
    const pos = locateInDocument(doc, lineCounter, p.pointer);
    return pos ? { ...p, ...pos } : p;
  });
}

// ---------------------------------------------------------------------------------------------

function fail(...problems: Problem[]): ParseResult {
  return { ok: false, problems };
}

/** UTF-8 size of `text`, or Infinity once it surely exceeds `limit` (without encoding huge texts). */
function utf8Length(text: string, limit: number): number {
  if (text.length > limit) return Infinity;
  return Buffer.byteLength(text, 'utf8');
}

function describeYamlError(err: YAMLError, doc: Document, text: string, syntax: string): Problem {
  switch (err.code) {
    case 'DUPLICATE_KEY': {
      const path = pathAtOffset(doc.contents, err.pos[0], []);
      const key = path[path.length - 1] ?? text.slice(err.pos[0], err.pos[1]);
      return { pointer: toPointer(path), message: `duplicate key '${key}': a key may appear only once in a mapping` };
    }
    case 'MULTIPLE_DOCS':
      return { pointer: '', message: 'the text holds more than one YAML document (---); a flow definition is a single document' };
    case 'TAG_RESOLVE_FAILED':
      return { pointer: toPointer(pathAtOffset(doc.contents, err.pos[0], [])), message: `${err.message.replace(/^Unresolved tag/, 'unknown tag')}; flowrun reads plain YAML/JSON values only` };
    default:
      return { pointer: '', message: `${syntax}: ${err.message.split('\n')[0] ?? err.message}` };
  }
}

function toPointer(path: readonly string[]): string {
  return path.map((p) => `/${p.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

function fromPointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

function contains(node: unknown, offset: number): boolean {
  const range = (node as YamlNode | null)?.range;
  return Array.isArray(range) && offset >= range[0] && offset < Math.max(range[1], range[0] + 1);
}

/** Path (JSON keys and indices) of the innermost node at `offset`. */
function pathAtOffset(node: unknown, offset: number, path: string[]): string[] {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = keyText(pair.key);
      if (contains(pair.key, offset)) return [...path, key];
      if (contains(pair.value, offset)) return pathAtOffset(pair.value, offset, [...path, key]);
    }
  } else if (isSeq(node)) {
    for (let i = 0; i < node.items.length; i++) {
      const item = node.items[i];
      if (contains(item, offset)) return pathAtOffset(item, offset, [...path, String(i)]);
    }
  }
  return path;
}

function walkNodes(node: unknown, path: string[], visit: (node: unknown, path: string[]) => void): void {
  visit(node, path);
  if (isMap(node)) for (const pair of node.items) walkNodes(pair.value, [...path, keyText(pair.key)], visit);
  else if (isSeq(node)) node.items.forEach((item, i) => walkNodes(item, [...path, String(i)], visit));
}

function locateInDocument(doc: Document, lineCounter: LineCounter, pointer: string): { line: number; column: number } | undefined {
  if (doc.errors.length > 0 || doc.contents === null) return undefined;
  let node: unknown = doc.contents;
  let offset = (node as YamlNode).range?.[0];
  for (const token of fromPointer(pointer)) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && keyText(p.key) === token);
      if (!pair) break;
      offset = (pair.key as YamlNode | null)?.range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = /^\d+$/.test(token) ? node.items[Number(token)] : undefined;
      if (item === undefined) break;
      offset = (item as YamlNode | null)?.range?.[0] ?? offset;
      node = item;
    } else break;
  }
  if (offset === undefined) return undefined;
  const pos = lineCounter.linePos(offset);
  return { line: pos.line, column: pos.col };
}

/** Reports values JSON cannot hold (binary, non-finite numbers, ...). */
function checkJsonValues(value: unknown, path: string[], problems: Problem[]): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) problems.push({ pointer: toPointer(path), message: `${String(value)} is not a JSON number` });
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkJsonValues(item, [...path, String(i)], problems));
    return;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [k, v] of Object.entries(value)) checkJsonValues(v, [...path, k], problems);
    return;
  }
  const what = value instanceof Uint8Array ? 'binary data (!!binary)' : value instanceof Map || value instanceof Set ? 'a YAML set or ordered map' : typeof value;
  problems.push({ pointer: toPointer(path), message: `${what} is not a JSON value` });
}
