/**
 * Validation of CloudFlow FDL definitions (`Type: StateMachine`): the JSON schema first (ajv,
 * compiled once in ./schema.ts), then the rules a schema cannot express (names, references,
 * reachability, limits that depend on the execution mode). Every problem is reported at once,
 * each with an RFC 6901 pointer into the document and a sentence a person understands.
 * Expressions are not checked here (the compiler does that).
 */
import type { ErrorObject } from 'ajv';
import { flowSchema, isStateType, schemaPathOf, STATE_TYPES, validateFlowSchema } from './schema.js';
import type { ExecutionModeName, StateType } from './schema.js';
import { isJsonObject, jsonTypeName } from '../shared/json.js';
import type { JsonObject } from '../shared/json.js';
import {
  EXPRESS_WAIT_SECONDS,
  MAX_MAP_CONCURRENCY,
  MAX_PARALLEL_BRANCHES,
  MAX_RETRY_INTERVAL_SECONDS,
  STANDARD_WAIT_SECONDS,
} from '../shared/limits.js';

/** One thing wrong with a definition. `pointer` is an RFC 6901 JSON pointer ("" = the document). */
export interface Problem {
  pointer: string;
  message: string;
  /** 1-based, when known (parse errors; or added by `withPositions` from ./parse.js). */
  line?: number;
  column?: number;
}

export interface ValidateOptions {
  /** Execution mode to check against; default: the document's `ExecutionMode`, else Express. */
  mode?: ExecutionModeName;
}

export const LEGACY_FORMAT_MESSAGE =
  'This is the legacy FnF flow format (type: flow, steps:), which flowrun does not run; rewrite it as Type: StateMachine (CloudFlow FDL)';

/**
 * Checks a parsed definition. Returns every problem found (an empty array means valid), sorted
 * by pointer in document order. Never throws, whatever `document` is.
 */
export function validateDefinition(document: unknown, options: ValidateOptions = {}): Problem[] {
  if (isLegacyFormat(document)) return [{ pointer: '', message: LEGACY_FORMAT_MESSAGE }];
  const docMode = isJsonObject(document) ? document['ExecutionMode'] : undefined;
  const mode: ExecutionModeName = options.mode ?? (docMode === 'Standard' || docMode === 'Express' ? docMode : 'Express');

  const problems: Problem[] = [];
  const schemaOk = validateFlowSchema(document);
  if (!schemaOk) problems.push(...translateSchemaErrors(validateFlowSchema.errors ?? []));
  if (isJsonObject(document)) new SemanticChecker(mode, problems).run(document);
  return sortProblems(dedupe(problems));
}

/** One line per problem: `flow.yaml:3:5: /States/1/Next: message` (parts omitted when unknown). */
export function formatProblems(problems: Problem[], fileName?: string): string {
  return problems
    .map((p) => {
      let where = fileName ?? '';
      if (p.line !== undefined) where += `${where ? ':' : ''}${p.line}${p.column !== undefined ? `:${p.column}` : ''}`;
      const parts = [where, p.pointer, p.message].filter((s) => s !== '');
      return parts.join(': ');
    })
    .join('\n');
}

// ---------------------------------------------------------------------------------------------
// Legacy dialect

function isLegacyFormat(document: unknown): boolean {
  if (!isJsonObject(document)) return false;
  if (document['Type'] === 'StateMachine') return false;
  if (document['type'] === 'flow' || 'steps' in document) return true;
  const keys = Object.keys(document);
  return 'version' in document && keys.every((k) => /^[a-z]/.test(k));
}

// ---------------------------------------------------------------------------------------------
// Schema errors → problems

/** Who "accepts"/"requires" fields, by schema location, for messages. */
const KIND_LABELS: Record<string, string> = {
  '': 'flow definitions',
  '/definitions/Scope': 'Parallel branches and Map Processors',
  '/definitions/ChoiceBranch': 'Choice branches',
  '/definitions/RetryRule': 'Retry rules',
  '/definitions/CatchRule': 'Catch rules',
  '/definitions/OnErrorRule': 'OnErrors rules',
  '/definitions/OnErrorRetry': 'OnErrors Retry settings',
  ...Object.fromEntries(STATE_TYPES.map((t) => [`/definitions/${t}State`, `${t} states`])),
};

/** Schema checks whose failures the semantic checks report (with the limit's name and the mode). */
const SEMANTIC_OWNED = new Set([
  '/definitions/WaitState/properties/Seconds#minimum',
  '/definitions/WaitState/properties/Seconds#maximum',
  '/definitions/MapState/properties/MaxConcurrency#maximum',
  '/definitions/MapState/properties/MaxConcuccency#maximum',
  '/definitions/ParallelState/properties/Branches#maxItems',
  '/definitions/RetryRule/properties/IntervalSeconds#maximum',
  '/definitions/RetryRule/properties/MaxBackoffSeconds#maximum',
]);

/** AWS Step Functions (ASL) fields people bring along, and what CloudFlow uses instead. */
const ASL_HINTS: Record<string, string> = {
  Resource: 'CloudFlow Task states use Action',
  Comment: 'CloudFlow uses Description',
  InputPath: 'CloudFlow uses InputConstructor',
  OutputPath: 'CloudFlow uses OutputConstructor',
  ResultPath: 'CloudFlow uses OutputConstructor',
  ResultSelector: 'CloudFlow uses OutputConstructor',
  Parameters: 'only Task states have Parameters; use InputConstructor',
  Choices: 'CloudFlow Choice states use Branches',
  Iterator: 'CloudFlow Map states use Processor',
  ItemProcessor: 'CloudFlow Map states use Processor',
  Error: 'CloudFlow Fail states use Code',
  Cause: 'CloudFlow Fail states use Detail',
  TimeoutSeconds: 'CloudFlow Task states use Timeout',
  ErrorEquals: 'CloudFlow uses Errors',
  Variable: 'CloudFlow Choice branches use a Condition expression',
  SecondsPath: 'CloudFlow uses Seconds.$ with an expression',
  Timestamp: 'CloudFlow Wait states use Seconds (or legacy UntilDateTime)',
  States: 'CloudFlow states are a list (States: [...]) only at the top level, in Parallel Branches and in a Map Processor',
};

interface SchemaNode {
  title?: string;
  properties?: Record<string, unknown>;
  required?: string[];
  oneOf?: unknown[];
}

function translateSchemaErrors(errors: ErrorObject[]): Problem[] {
  // States whose Type is missing or not a kind: that is the only problem reported for them.
  const isStateBase = (e: ErrorObject): boolean => {
    const where = schemaPathOf(e.parentSchema);
    return where === '/definitions/State' || where === '/definitions/State/properties/Type';
  };
  const badStates = new Set<string>();
  for (const e of errors) {
    if (!isStateBase(e)) continue;
    if (e.keyword === 'enum') badStates.add(e.instancePath.replace(/\/Type$/, ''));
    if (e.keyword === 'required' || e.keyword === 'type') badStates.add(e.instancePath);
  }
  const insideBadState = (e: ErrorObject): boolean =>
    !isStateBase(e) && [...badStates].some((s) => e.instancePath === s || e.instancePath.startsWith(`${s}/`));

  // Branches of failed oneOf keywords: reported through the oneOf itself.
  const oneOfBranches = new Set<unknown>();
  for (const e of errors) if (e.keyword === 'oneOf' && Array.isArray(e.schema)) for (const b of e.schema as unknown[]) oneOfBranches.add(b);

  const problems: Problem[] = [];
  for (const e of errors) {
    if (e.keyword === 'if' || insideBadState(e)) continue;
    if (oneOfBranches.has(e.parentSchema)) continue;
    const where = schemaPathOf(e.parentSchema) ?? '?';
    if (SEMANTIC_OWNED.has(`${where}#${e.keyword}`)) continue;
    problems.push({ pointer: e.instancePath, message: messageFor(e, where) });
  }
  return problems;
}

function messageFor(e: ErrorObject, where: string): string {
  const parent = (e.parentSchema ?? {}) as SchemaNode;
  const params = e.params as Record<string, unknown>;
  const label = KIND_LABELS[where];
  switch (e.keyword) {
    case 'additionalProperties':
      return unknownFieldMessage(String(params['additionalProperty']), where, parent);
    case 'required': {
      const missing = String(params['missingProperty']);
      if (where === '/definitions/State') return `missing required field '${missing}' (one of ${STATE_TYPES.join(', ')})`;
      const all = parent.required ?? [];
      return `missing required field '${missing}'${label && all.length > 1 ? ` (${label} require: ${all.join(', ')})` : ''}`;
    }
    case 'type': {
      if (where === '/definitions/State') return `each state must be a mapping with Name and Type, got ${describe(e.data)}`;
      if (where === '') return `a flow definition must be a mapping (Type: StateMachine, SpecVersion: v1, StartAt, States), got ${describe(e.data)}`;
      return `must be ${typePhrase(params['type'])}, got ${describe(e.data)}`;
    }
    case 'enum': {
      const allowed = (params['allowedValues'] as unknown[]).map(String);
      return `must be one of ${allowed.join(', ')} (got ${describe(e.data)})${didYouMean(e.data, allowed)}`;
    }
    case 'const':
      return `must be ${String(params['allowedValue'])} (got ${describe(e.data)})`;
    case 'pattern':
      return `${PATTERN_MESSAGES[where] ?? `must match the pattern ${String(params['pattern'])}`} (got ${describe(e.data)})`;
    case 'format':
      return `must be an RFC 3339 date-time such as 2026-01-01T00:00:00Z (got ${describe(e.data)})`;
    case 'minimum':
    case 'exclusiveMinimum':
    case 'maximum':
    case 'exclusiveMaximum': {
      const words = { minimum: 'at least', exclusiveMinimum: 'greater than', maximum: 'at most', exclusiveMaximum: 'less than' }[e.keyword];
      return `must be ${words} ${String(params['limit'])} (got ${describe(e.data)})`;
    }
    case 'minItems':
      if (where === '/definitions/ErrorNames') return 'must list at least one error name, e.g. [FnF.ALL]';
      if (where === '/definitions/States') return 'must contain at least one state';
      if (where.endsWith('/properties/Branches')) return 'must contain at least one branch';
      return `must have at least ${String(params['limit'])} item(s)`;
    case 'maxItems':
      return `must have at most ${String(params['limit'])} item(s) (has ${Array.isArray(e.data) ? e.data.length : '?'})`;
    case 'minLength':
      return 'must not be empty';
    case 'oneOf':
      return oneOfMessage(e, label);
    default:
      return e.message ?? `fails the schema check '${e.keyword}'`;
  }
}

const PATTERN_MESSAGES: Record<string, string> = {
  '/definitions/TaskState/properties/Action': 'must be <Service>:<Operation> such as FC:InvokeFunction or HTTP:Request, or Mock',
  '/definitions/TaskState/properties/Timeout': 'must be a whole number of seconds of at least 1, as digits ("30") or an integer',
  '/properties/Name': 'must be 1–128 letters, digits, _ or -, starting with a letter or _',
};

/** Wait's `oneOf: [{required: [Seconds]}, ...]`: "needs one of" / "cannot combine". */
function oneOfMessage(e: ErrorObject, label: string | undefined): string {
  const branches = (Array.isArray(e.schema) ? e.schema : []) as SchemaNode[];
  const names = branches.map((b) => (b.required?.length === 1 ? b.required[0] : undefined));
  const who = label ? `${label.replace(/s$/, '')}` : 'this';
  const passing = (e.params as { passingSchemas?: number[] | null }).passingSchemas;
  if (names.every((n) => n !== undefined)) {
    if (passing) {
      const found = passing.map((i) => names[i]).filter((n) => n !== undefined);
      return `a ${who} can use only one of ${names.join(', ')} (found ${found.join(' and ')})`;
    }
    return `a ${who} needs one of ${joinWords(names.filter((n) => n !== undefined), 'or')}`;
  }
  return e.message ?? 'must match exactly one allowed form';
}

function unknownFieldMessage(field: string, where: string, parent: SchemaNode): string {
  const accepted = Object.keys(parent.properties ?? {});
  const label = KIND_LABELS[where];
  let hint = didYouMean(field, accepted);
  if (!hint && where.startsWith('/definitions/') && where.endsWith('State')) {
    const owners = STATE_TYPES.filter((t) => `/definitions/${t}State` !== where && stateAccepts(t, field));
    if (owners.length > 0) hint = `; ${field} belongs to ${joinWords(owners)} states`;
  }
  if (!hint && ASL_HINTS[field]) hint = `; ${ASL_HINTS[field]}`;
  return `unknown field '${field}'${hint}${label ? ` (${label} accept: ${accepted.join(', ')})` : ` (accepted: ${accepted.join(', ')})`}`;
}

function stateAccepts(type: StateType, field: string): boolean {
  const defs = (flowSchema['definitions'] ?? {}) as Record<string, SchemaNode>;
  return Object.hasOwn(defs[`${type}State`]?.properties ?? {}, field);
}

function typePhrase(type: unknown): string {
  const one = (t: string): string =>
    ({ string: 'a string', integer: 'an integer', number: 'a number', boolean: 'true or false', object: 'a mapping (object)', array: 'a list', null: 'null' })[t] ?? t;
  const types = Array.isArray(type) ? type.map(String) : String(type).split(',');
  return types.map(one).join(' or ');
}

/** A value, briefly, for "got ..." parts of messages. */
function describe(value: unknown): string {
  switch (jsonTypeName(value)) {
    case 'string': {
      const s = value as string;
      return `"${s.length > 60 ? `${s.slice(0, 57)}...` : s}"`;
    }
    case 'number':
    case 'boolean':
      return String(value);
    case 'null':
      return 'null';
    case 'undefined':
      return 'nothing';
    case 'array':
      return 'a list';
    case 'object':
      return 'a mapping';
    default:
      return jsonTypeName(value);
  }
}

function didYouMean(value: unknown, candidates: string[]): string {
  if (typeof value !== 'string') return '';
  const lower = value.toLowerCase();
  const exact = candidates.find((c) => c.toLowerCase() === lower);
  if (exact) return `; did you mean '${exact}'?`;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(lower, c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best !== undefined && bestDistance <= 2 && bestDistance < lower.length / 2 ? `; did you mean '${best}'?` : '';
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

function joinWords(words: readonly string[], conjunction = 'and'): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} ${conjunction} ${words[words.length - 1]}`;
}

// ---------------------------------------------------------------------------------------------
// Semantic checks

const NON_TERMINAL: ReadonlySet<string> = new Set(['Pass', 'Task', 'Wait', 'Parallel', 'Map']);

/** RFC 6901 escaping of one reference token. */
function token(key: string | number): string {
  return String(key).replace(/~/g, '~0').replace(/\//g, '~1');
}

function quoteList(names: string[], max = 20): string {
  if (names.length === 0) return 'none';
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown}, ... and ${names.length - max} more` : shown;
}

interface ScopeInfo {
  /** Pointer of the object holding StartAt and States ("" for the top level). */
  pointer: string;
  /** "the top level", "branch 0 of Parallel state 'P'", ... */
  label: string;
  def: JsonObject;
}

class SemanticChecker {
  /** Every state name of every scope, to tell "missing" from "in another scope". */
  private readonly allNames = new Set<string>();

  constructor(
    private readonly mode: ExecutionModeName,
    private readonly problems: Problem[],
  ) {}

  private add(pointer: string, message: string): void {
    this.problems.push({ pointer, message });
  }

  run(document: JsonObject): void {
    const top: ScopeInfo = { pointer: '', label: 'the top level', def: document };
    this.collectNames(top);
    this.scope(top);
  }

  private collectNames(scope: ScopeInfo): void {
    for (const { state, pointer } of statesOf(scope)) {
      if (typeof state['Name'] === 'string') this.allNames.add(state['Name']);
      for (const child of childScopes(state, pointer)) this.collectNames(child);
    }
  }

  private scope(scope: ScopeInfo): void {
    const entries = statesOf(scope);
    const names = new Map<string, string>(); // name → pointer of the first state with it
    for (const { state, pointer } of entries) {
      const name = state['Name'];
      if (typeof name !== 'string') continue;
      const first = names.get(name);
      if (first !== undefined) this.add(`${pointer}/Name`, `duplicate state name '${name}' in ${scope.label} (also used by ${first || '/'})`);
      else names.set(name, pointer);
    }
    const nameList = [...names.keys()];
    const checkTarget = (target: unknown, pointer: string): void => {
      if (typeof target !== 'string' || target === '' || names.has(target)) return; // wrong types: the schema reports them
      const elsewhere = this.allNames.has(target)
        ? `; '${target}' is in another scope, and Next cannot jump into or out of a Parallel branch or Map Processor`
        : '';
      this.add(pointer, `no state named '${target}' in ${scope.label} (states here: ${quoteList(nameList)})${elsewhere}`);
    };

    const startAt = scope.def['StartAt'];
    if (Array.isArray(scope.def['States']) && scope.def['States'].length > 0) checkTarget(startAt, `${scope.pointer}/StartAt`);

    for (const { state, pointer } of entries) {
      const type = state['Type'];
      if (!isStateType(type)) continue; // the schema reports it; nothing more to say about this state
      for (const [target, at] of edgesOf(state, pointer)) checkTarget(target, at);
      this.state(state, type, pointer);
      for (const child of childScopes(state, pointer)) this.scope(child);
    }

    // Reachability, when StartAt is usable.
    if (typeof startAt !== 'string' || !names.has(startAt)) return;
    const byName = new Map<string, { state: JsonObject; pointer: string }>();
    for (const e of entries) if (typeof e.state['Name'] === 'string' && !byName.has(e.state['Name'])) byName.set(e.state['Name'], e);
    const reached = new Set<string>([startAt]);
    const queue = [startAt];
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const entry = byName.get(name);
      if (!entry) continue;
      for (const [target] of edgesOf(entry.state, entry.pointer)) {
        if (typeof target === 'string' && names.has(target) && !reached.has(target)) {
          reached.add(target);
          queue.push(target);
        }
      }
    }
    for (const [name, pointer] of names) {
      const state = byName.get(name)?.state;
      if (!reached.has(name) && state && isStateType(state['Type'])) {
        this.add(pointer, `state '${name}' is never reached from StartAt ('${startAt}'): no Next, Default, branch Next or Catch Next leads to it`);
      }
    }
  }

  private state(s: JsonObject, type: StateType, p: string): void {
    const what = typeof s['Name'] === 'string' ? `${type} state '${s['Name']}'` : `this ${type} state`;
    const hasNext = s['Next'] !== undefined;
    if (NON_TERMINAL.has(type)) {
      const end = s['End'] === true;
      if (!hasNext && !end) this.add(p, `${what} needs either Next or End: true`);
      if (hasNext && end) this.add(p, `${what} cannot have both Next and End: true`);
    } else if (type === 'Choice') {
      if (hasNext) this.add(`${p}/Next`, 'Choice states cannot have Next: each branch has its own Next, and Default covers the rest');
      if (s['End'] !== undefined) this.add(`${p}/End`, 'Choice states cannot have End: each branch has its own Next, and Default covers the rest');
    } else if (hasNext) {
      this.add(`${p}/Next`, `${type} states end their scope and cannot have Next`);
    }

    switch (type) {
      case 'Task': {
        const taskMode = s['TaskMode'];
        if (this.mode === 'Express' && (taskMode === 'WaitForCustomCallback' || taskMode === 'WaitForSystemCallback')) {
          this.add(`${p}/TaskMode`, `TaskMode ${taskMode} is not available in Express flows, which support RequestComplete only (run the flow in Standard mode)`);
        }
        this.retryRules(s, p);
        break;
      }
      case 'Wait': {
        // "Exactly one of Seconds, Seconds.$, UntilDateTime, UntilDateTime.$" is the schema's oneOf.
        const seconds = s['Seconds'];
        if (typeof seconds === 'number') {
          const range = this.mode === 'Express' ? EXPRESS_WAIT_SECONDS : STANDARD_WAIT_SECONDS;
          if (seconds < range.min || seconds > range.max) {
            const other = this.mode === 'Express' ? `; Standard flows allow up to ${STANDARD_WAIT_SECONDS.max}` : '';
            this.add(`${p}/Seconds`, `must be between ${range.min} and ${range.max} seconds in ${this.mode} flows (got ${seconds})${other}`);
          }
        }
        break;
      }
      case 'Parallel': {
        const branches = s['Branches'];
        if (Array.isArray(branches) && branches.length > MAX_PARALLEL_BRANCHES) {
          this.add(`${p}/Branches`, `a Parallel state can have at most ${MAX_PARALLEL_BRANCHES} branches (this one has ${branches.length})`);
        }
        this.retryRules(s, p);
        break;
      }
      case 'Map': {
        if (s['MaxConcurrency'] !== undefined && s['MaxConcuccency'] !== undefined) {
          this.add(p, 'use MaxConcurrency or its alias MaxConcuccency, not both');
        }
        for (const field of ['MaxConcurrency', 'MaxConcuccency']) {
          const value = s[field];
          if (typeof value === 'number' && value > MAX_MAP_CONCURRENCY) {
            this.add(`${p}/${field}`, `must be at most ${MAX_MAP_CONCURRENCY}, the inline Map limit (got ${value})`);
          }
        }
        this.retryRules(s, p);
        break;
      }
      default:
        break;
    }
  }

  private retryRules(s: JsonObject, p: string): void {
    const rules = s['Retry'];
    if (!Array.isArray(rules)) return;
    rules.forEach((rule, i) => {
      if (!isJsonObject(rule)) return;
      for (const field of ['IntervalSeconds', 'MaxBackoffSeconds']) {
        const value = rule[field];
        if (typeof value === 'number' && value > MAX_RETRY_INTERVAL_SECONDS) {
          this.add(`${p}/Retry/${i}/${field}`, `must be at most ${MAX_RETRY_INTERVAL_SECONDS} seconds (got ${value})`);
        }
      }
    });
  }
}

function statesOf(scope: ScopeInfo): { state: JsonObject; pointer: string }[] {
  const states = scope.def['States'];
  if (!Array.isArray(states)) return [];
  const out: { state: JsonObject; pointer: string }[] = [];
  states.forEach((state, i) => {
    if (isJsonObject(state)) out.push({ state, pointer: `${scope.pointer}/States/${i}` });
  });
  return out;
}

function childScopes(state: JsonObject, pointer: string): ScopeInfo[] {
  const name = typeof state['Name'] === 'string' ? `'${state['Name']}'` : `at ${pointer}`;
  if (state['Type'] === 'Parallel' && Array.isArray(state['Branches'])) {
    const out: ScopeInfo[] = [];
    state['Branches'].forEach((branch, i) => {
      if (isJsonObject(branch)) out.push({ pointer: `${pointer}/Branches/${i}`, label: `branch ${i} of Parallel state ${name}`, def: branch });
    });
    return out;
  }
  if (state['Type'] === 'Map' && isJsonObject(state['Processor'])) {
    return [{ pointer: `${pointer}/Processor`, label: `the Processor of Map state ${name}`, def: state['Processor'] }];
  }
  return [];
}

/** Transitions out of a state: [target, pointer of the field naming it]. */
function edgesOf(state: JsonObject, pointer: string): [unknown, string][] {
  const edges: [unknown, string][] = [];
  if (state['Next'] !== undefined) edges.push([state['Next'], `${pointer}/Next`]);
  if (state['Type'] === 'Choice') {
    const branches = state['Branches'];
    if (Array.isArray(branches)) {
      branches.forEach((b, i) => {
        if (isJsonObject(b) && b['Next'] !== undefined) edges.push([b['Next'], `${pointer}/Branches/${i}/Next`]);
      });
    }
    if (state['Default'] !== undefined) edges.push([state['Default'], `${pointer}/Default`]);
  }
  for (const field of ['Catch', 'OnErrors']) {
    const rules = state[field];
    if (!Array.isArray(rules)) continue;
    rules.forEach((r, i) => {
      if (isJsonObject(r) && r['Next'] !== undefined) edges.push([r['Next'], `${pointer}/${token(field)}/${i}/Next`]);
    });
  }
  return edges;
}

// ---------------------------------------------------------------------------------------------
// Ordering

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.pointer}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Stable sort by pointer, array indices compared as numbers (so /States/2 comes before /States/10). */
function sortProblems(problems: Problem[]): Problem[] {
  const compare = (a: string, b: string): number => {
    const as = a === '' ? [] : a.slice(1).split('/');
    const bs = b === '' ? [] : b.slice(1).split('/');
    for (let i = 0; i < Math.min(as.length, bs.length); i++) {
      const x = as[i] ?? '';
      const y = bs[i] ?? '';
      if (x === y) continue;
      const nx = /^\d+$/.test(x) ? Number(x) : NaN;
      const ny = /^\d+$/.test(y) ? Number(y) : NaN;
      if (!Number.isNaN(nx) && !Number.isNaN(ny)) return nx - ny;
      return x < y ? -1 : 1;
    }
    return as.length - bs.length;
  };
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => compare(a.p.pointer, b.p.pointer) || a.i - b.i)
    .map(({ p }) => p);
}
