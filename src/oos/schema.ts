/**
 * The OOS template JSON schema (`schema/oos-template.schema.json`, shipped for editors) and its
 * validator, compiled once when this module loads; ajv errors become problems with a JSON pointer
 * and a sentence. The schema file is read with fs (it lives outside `src/`, like the FDL schema).
 */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import type { AnySchemaObject, ErrorObject, ValidateFunction } from 'ajv';
import type { Problem } from './errors.js';

/** Where the schema file is, relative to this module (works from `src/oos` and `dist/oos`). */
export const OOS_TEMPLATE_SCHEMA_URL = new URL('../../schema/oos-template.schema.json', import.meta.url);

/** The parsed schema document. Do not mutate it: the compiled validator shares its objects. */
export const oosTemplateSchema = JSON.parse(readFileSync(OOS_TEMPLATE_SCHEMA_URL, 'utf8')) as AnySchemaObject;

const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictRequired: false, allowUnionTypes: true });

/** Validates a document against the template schema; errors are in `.errors`. */
export const validateTemplateSchema: ValidateFunction = ajv.compile(oosTemplateSchema);

/** What a schema location holds, for messages ("Tasks accept …"). */
const LABELS: Record<string, string> = {
  '': 'templates',
  '/definitions/Parameter': 'parameters',
  '/definitions/Task': 'tasks',
  '/definitions/TaskOutput': 'task outputs',
  '/definitions/Loop': 'Loop',
  '/definitions/Loop/properties/Outputs/additionalProperties': 'loop outputs',
  '/definitions/TemplateOutput': 'template outputs',
};

/** Every object of the schema document → its JSON pointer (ajv's schemaPath restarts at $ref). */
const schemaPaths = new Map<object, string>();
(function index(node: unknown, path: string): void {
  if (typeof node !== 'object' || node === null) return;
  if (!Array.isArray(node)) schemaPaths.set(node, path);
  for (const [key, child] of Object.entries(node)) index(child, `${path}/${key}`);
})(oosTemplateSchema, '');

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return value.length > 40 ? `"${value.slice(0, 40)}…"` : JSON.stringify(value);
  return `${typeof value} ${String(value)}`;
}

function typePhrase(type: unknown): string {
  const names: Record<string, string> = { object: 'a mapping', array: 'a list', string: 'a string', integer: 'an integer', number: 'a number', boolean: 'a boolean' };
  return String(type)
    .split(',')
    .map((t) => names[t] ?? t)
    .join(' or ');
}

function near(word: string, candidates: string[]): string | undefined {
  const lower = word.toLowerCase();
  return candidates.find((c) => c.toLowerCase() === lower) ?? candidates.find((c) => distance(c.toLowerCase(), lower) <= 2);
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

function message(e: ErrorObject): string {
  const where = schemaPathOf(e.parentSchema) ?? '';
  const params = e.params as Record<string, unknown>;
  const parent = (e.parentSchema ?? {}) as { properties?: Record<string, unknown>; required?: string[] };
  const label = LABELS[where];
  switch (e.keyword) {
    case 'additionalProperties': {
      const extra = String(params['additionalProperty']);
      const known = Object.keys(parent.properties ?? {});
      const hint = near(extra, known);
      return `unknown key '${extra}'${label ? `; ${label} accept ${known.join(', ')}` : ''}${hint ? `. Did you mean '${hint}'?` : ''}`;
    }
    case 'required': {
      const missing = String(params['missingProperty']);
      const all = parent.required ?? [];
      return `missing required key '${missing}'${label && all.length > 1 ? ` (${label} require ${all.join(', ')})` : ''}`;
    }
    case 'type':
      return `must be ${typePhrase(params['type'])}, got ${describe(e.data)}`;
    case 'enum': {
      const allowed = (params['allowedValues'] as unknown[]).map(String);
      const hint = typeof e.data === 'string' ? near(e.data, allowed) : undefined;
      return `must be one of ${allowed.join(', ')} (got ${describe(e.data)})${hint ? `. Did you mean '${hint}'?` : ''}`;
    }
    case 'const':
      return `must be ${String(params['allowedValue'])} (got ${describe(e.data)})`;
    case 'pattern':
      if (where.endsWith('/Task/properties/Name')) return `a task name has 1 to 200 letters, digits, '-' or '_' (got ${describe(e.data)})`;
      return `must match ${String(params['pattern'])} (got ${describe(e.data)})`;
    case 'propertyNames':
      return `parameter names use letters, digits, '-' and '_' only (got ${describe(params['propertyName'])})`;
    case 'minItems':
      return where === '/properties/Tasks' ? 'a template needs at least one task' : `must have at least ${String(params['limit'])} item(s)`;
    case 'minLength':
      return 'must not be empty';
    case 'minimum':
    case 'exclusiveMinimum':
      return `must be ${e.keyword === 'minimum' ? 'at least' : 'greater than'} ${String(params['limit'])} (got ${describe(e.data)})`;
    default:
      return e.message ?? 'is invalid';
  }
}

function schemaPathOf(schemaObject: unknown): string | undefined {
  return typeof schemaObject === 'object' && schemaObject !== null ? schemaPaths.get(schemaObject) : undefined;
}

/** Schema problems of `document` (empty when it matches the schema). */
export function schemaProblems(document: unknown): Problem[] {
  if (validateTemplateSchema(document)) return [];
  const errors = validateTemplateSchema.errors ?? [];
  // propertyNames also reports the inner pattern error: keep only the propertyNames one.
  const namesAt = new Set(errors.filter((e) => e.keyword === 'propertyNames').map((e) => e.instancePath));
  const problems: Problem[] = [];
  for (const e of errors) {
    if (e.keyword === 'pattern' && e.propertyName !== undefined) continue;
    if (e.keyword === 'pattern' && namesAt.has(e.instancePath) && schemaPathOf(e.parentSchema)?.endsWith('propertyNames')) continue;
    if (e.keyword === 'type' && e.instancePath === '' && typeof e.data !== 'object') {
      problems.push({ pointer: '', message: `a template must be a mapping (FormatVersion, Parameters, Tasks, Outputs), got ${describe(e.data)}` });
      continue;
    }
    const pointer = e.keyword === 'propertyNames' ? `${e.instancePath}/${String((e.params as { propertyName?: unknown }).propertyName ?? '')}` : e.instancePath;
    problems.push({ pointer, message: message(e) });
  }
  return problems;
}
