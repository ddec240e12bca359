/**
 * Template text → JSON document. JSON and YAML (1.2 core schema, so JSON parses too) are both
 * accepted; the format is reported as OOS does (`TemplateFormat: JSON|YAML`). Problems carry a
 * JSON pointer and, where known, line and column.
 */
import { LineCounter, parseDocument } from 'yaml';
import { withPositions } from '../flow/parse.js';
import type { Problem } from './errors.js';
import { MAX_TEMPLATE_BYTES } from './limits.js';

export type TemplateFormat = 'JSON' | 'YAML';

export type TemplateParseResult = { ok: true; document: unknown; format: TemplateFormat } | { ok: false; problems: Problem[] };

/** Aliases one document may expand (more is treated as an attack). */
const MAX_ALIAS_COUNT = 100;

/** `JSON` when the content is a JSON object text, else `YAML`. */
export function detectFormat(text: string): TemplateFormat {
  return text.trimStart().startsWith('{') ? 'JSON' : 'YAML';
}

/** Parses template content (at most {@link MAX_TEMPLATE_BYTES} bytes of UTF-8). Never throws. */
export function parseTemplateText(text: string): TemplateParseResult {
  const size = text.length > MAX_TEMPLATE_BYTES * 4 ? Infinity : Buffer.byteLength(text, 'utf8');
  if (size > MAX_TEMPLATE_BYTES) {
    return {
      ok: false,
      problems: [{ pointer: '', message: `the template content is larger than ${MAX_TEMPLATE_BYTES} bytes (64 KB), the most OOS accepts` }],
    };
  }
  const format = detectFormat(text);
  const syntax = format === 'JSON' ? 'JSON syntax error' : 'YAML syntax error';
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { version: '1.2', schema: 'core', uniqueKeys: true, prettyErrors: false, lineCounter });
  const problems: Problem[] = [];
  // A syntax error cascades into dozens: report the first one (and every duplicate key).
  const errors = [...doc.errors, ...doc.warnings];
  const firstSyntax = errors.find((e) => e.code !== 'DUPLICATE_KEY');
  for (const err of errors.filter((e) => e.code === 'DUPLICATE_KEY' || e === firstSyntax)) {
    const pos = lineCounter.linePos(err.pos[0]);
    const message =
      err.code === 'DUPLICATE_KEY'
        ? `duplicate key: a key may appear only once in a mapping (${err.message.split('\n')[0] ?? ''})`
        : err.code === 'MULTIPLE_DOCS'
          ? 'the content holds more than one YAML document (---); a template is a single document'
          : `${syntax}: ${err.message.split('\n')[0] ?? err.message}`;
    problems.push({ pointer: '', message, line: pos.line, column: pos.col });
  }
  if (problems.length > 0) return { ok: false, problems };
  if (doc.contents === null) return { ok: false, problems: [{ pointer: '', message: 'the template content is empty; expected FormatVersion, Parameters, Tasks, Outputs' }] };
  let document: unknown;
  try {
    document = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    return { ok: false, problems: [{ pointer: '', message: `${syntax}: ${err instanceof Error ? err.message : String(err)}` }] };
  }
  const bad: Problem[] = [];
  checkJson(document, '', bad);
  if (bad.length > 0) return { ok: false, problems: withPositions(bad, text) };
  return { ok: true, document, format };
}

function checkJson(value: unknown, pointer: string, problems: Problem[]): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) problems.push({ pointer, message: `${String(value)} is not a JSON number` });
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkJson(item, `${pointer}/${i}`, problems));
    return;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [k, v] of Object.entries(value)) checkJson(v, `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, problems);
    return;
  }
  problems.push({ pointer, message: `${value instanceof Uint8Array ? 'binary data' : typeof value} is not a JSON value` });
}
