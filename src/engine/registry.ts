import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { isJsonObject } from '../shared/json.js';
import type { Json, JsonObject } from '../shared/json.js';
import type { ActionDefinition } from './types.js';

/** Suffix marking a dynamic Parameters key whose value is an expression (`url.$: $Input.url`). */
export const DYNAMIC_KEY_SUFFIX = '.$';

/**
 * Schema annotation an action may put next to `anyOf`/`oneOf`: the sentence (without subject) used
 * when no branch matches, e.g. `"x-message": "needs functionName or resourceArn"`.
 */
export const SCHEMA_MESSAGE_KEYWORD = 'x-message';

interface Registered {
  def: ActionDefinition;
  validate: ValidateFunction;
}

/** Actions by name, with their parameter schemas compiled once at registration. */
export class ActionRegistry {
  private readonly ajv = new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true, strict: true, strictRequired: false });
  private readonly actions = new Map<string, Registered>();

  constructor(definitions: Iterable<ActionDefinition> = []) {
    this.ajv.addKeyword(SCHEMA_MESSAGE_KEYWORD);
    for (const def of definitions) this.register(def);
  }

  /** Adds an action; throws when the name is taken or the schema does not compile. */
  register(def: ActionDefinition): this {
    if (this.actions.has(def.name)) throw new Error(`action '${def.name}' is already registered`);
    let validate: ValidateFunction;
    try {
      validate = this.ajv.compile(def.parametersSchema);
    } catch (err) {
      throw new Error(`action '${def.name}' has an invalid parameters schema: ${(err as Error).message}`, { cause: err });
    }
    this.actions.set(def.name, { def, validate });
    return this;
  }

  get(name: string): ActionDefinition | undefined {
    return this.actions.get(name)?.def;
  }

  has(name: string): boolean {
    return this.actions.has(name);
  }

  /** Registered action names, sorted. */
  names(): string[] {
    return [...this.actions.keys()].sort();
  }

  /**
   * Checks a Task's Parameters TEMPLATE (compile time). Keys ending in `.$` are dynamic: their
   * values are expressions of unknown type, so they satisfy any type constraint and count as
   * present for `required`. Returns one sentence per problem, each naming a JSON pointer inside
   * the Parameters (keys spelled as in the template); an empty list means the template is fine.
   */
  checkParameters(action: string, template: Json): string[] {
    const entry = this.actions.get(action);
    if (!entry) return [`unknown action '${action}'; known actions: ${this.names().join(', ')}.`];
    const problems: string[] = [];
    const dynamicPaths: string[] = [];
    const data = stripDynamic(template, '', dynamicPaths, problems);
    if (entry.validate(data)) return problems;
    const errors = entry.validate.errors ?? [];
    const underDynamic = (path: string): boolean => dynamicPaths.some((d) => path === d || path.startsWith(`${d}/`));
    const isCombinator = (e: ErrorObject): boolean => e.keyword === 'anyOf' || e.keyword === 'oneOf';
    const combinators = errors.filter(isCombinator);
    // Errors raised inside a combinator's branches for the same (or a nested) value.
    const within = (inner: ErrorObject, outer: ErrorObject): boolean =>
      inner.schemaPath.startsWith(`${outer.schemaPath}/`) &&
      (inner.instancePath === outer.instancePath || inner.instancePath.startsWith(`${outer.instancePath}/`));
    const inBranch = (e: ErrorObject): ErrorObject | undefined => combinators.find((c) => c !== e && within(e, c));
    for (const e of errors) {
      if (underDynamic(e.instancePath)) continue;
      if (inBranch(e)) continue; // reported through its anyOf/oneOf
      if (isCombinator(e)) {
        // A branch may have failed only because a dynamic value stood in for real data: unknowable.
        const branchErrors = errors.filter((b) => within(b, e));
        if (branchErrors.some((b) => underDynamic(b.instancePath))) continue;
      }
      problems.push(describe(action, e, template));
    }
    return [...new Set(problems)];
  }
}

/**
 * A copy of `template` with `.$` suffixes removed and dynamic values replaced by `null`;
 * records the pointers (stripped spelling) of the dynamic values.
 */
function stripDynamic(value: Json, pointer: string, dynamicPaths: string[], problems: string[]): Json {
  if (Array.isArray(value)) return value.map((item, i) => stripDynamic(item, `${pointer}/${i}`, dynamicPaths, problems));
  if (!isJsonObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    if (key.endsWith(DYNAMIC_KEY_SUFFIX)) {
      const name = key.slice(0, -DYNAMIC_KEY_SUFFIX.length);
      const path = `${pointer}/${escapePointer(name)}`;
      if (Object.hasOwn(value, name)) {
        problems.push(`Parameter ${path} is given twice (as '${name}' and '${key}').`);
      }
      if (typeof item !== 'string') {
        problems.push(`Parameter ${pointer}/${escapePointer(key)} must be an expression string (a '.$' key holds an expression).`);
      }
      dynamicPaths.push(path);
      out[name] = null;
    } else if (!Object.hasOwn(out, key)) {
      out[key] = stripDynamic(item, `${pointer}/${escapePointer(key)}`, dynamicPaths, problems);
    }
  }
  return out;
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** Spells a pointer over the stripped data with the template's own keys (`/url` → `/url.$`). */
function templatePointer(template: Json, pointer: string): string {
  if (pointer === '') return '';
  let node: Json | undefined = template;
  const out: string[] = [];
  for (const raw of pointer.slice(1).split('/')) {
    const key = unescapePointer(raw);
    if (isJsonObject(node) && !Object.hasOwn(node, key) && Object.hasOwn(node, key + DYNAMIC_KEY_SUFFIX)) {
      out.push(escapePointer(key + DYNAMIC_KEY_SUFFIX));
      node = undefined;
    } else {
      out.push(raw);
      node = Array.isArray(node) ? node[Number(key)] : isJsonObject(node) ? node[key] : undefined;
    }
  }
  return `/${out.join('/')}`;
}

function subject(action: string, pointer: string): string {
  return pointer === '' ? `Parameters of ${action}` : `Parameter ${pointer}`;
}

function describe(action: string, e: ErrorObject, template: Json): string {
  const at = templatePointer(template, e.instancePath);
  const params = e.params as Record<string, unknown>;
  const parent = (e.parentSchema ?? {}) as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const extra = String(params.additionalProperty);
      const known = Object.keys((parent.properties ?? {}) as object);
      const near = closest(extra, known);
      const hint = near ? ` Did you mean '${near}'?` : '';
      const accepted = known.length > 0 ? ` (accepted: ${known.join(', ')})` : '';
      const holder = lookup(template, at);
      const extraKey = isJsonObject(holder) && !Object.hasOwn(holder, extra) ? extra + DYNAMIC_KEY_SUFFIX : extra;
      return `Parameter ${at}/${escapePointer(extraKey)} is not accepted by ${action}${accepted}.${hint}`;
    }
    case 'required':
      return `Parameter ${at}/${escapePointer(String(params.missingProperty))} is required by ${action}.`;
    case 'enum':
      return `${subject(action, at)} must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}.`;
    case 'type':
      return `${subject(action, at)} must be ${String(params.type).replace(/,/g, ' or ')}.`;
    case 'anyOf':
    case 'oneOf': {
      const custom = parent[SCHEMA_MESSAGE_KEYWORD];
      return `${subject(action, at)} ${typeof custom === 'string' ? custom : `must match one of the allowed shapes (${e.keyword})`}.`;
    }
    default:
      return `${subject(action, at)} ${e.message ?? 'is invalid'}.`;
  }
}

function lookup(template: Json, pointer: string): Json | undefined {
  let node: Json | undefined = template;
  if (pointer === '') return node;
  for (const raw of pointer.slice(1).split('/')) {
    const key = unescapePointer(raw);
    node = Array.isArray(node) ? node[Number(key)] : isJsonObject(node) ? node[key] : undefined;
  }
  return node;
}

/** The candidate within edit distance 2 of `word` (case-insensitive), if any. */
function closest(word: string, candidates: string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d <= 2 && (!best || d < best.d)) best = { name: c, d };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}
