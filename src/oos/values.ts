/**
 * Template values → closures, compiled once. A value is any JSON in a template (Properties, When,
 * Loop.Items, Outputs, parameter Defaults): strings may hold `{{ }}` references, and an object
 * whose only key is `Fn::Name` is a function call whose argument is itself a value. Evaluation
 * order (oos.md §6.4): references are resolved first (a string that is exactly one reference keeps
 * the referenced value's type; references inside longer strings are interpolated as text), then
 * functions are evaluated bottom-up (`Fn::If`, `Fn::And`, `Fn::Or` only evaluate what they need).
 *
 * Names are resolved at compile time (a reference to an unknown parameter, task or output is a
 * problem with a JSON pointer); at run time a closure only reads its environment.
 */
import { jqValues } from '../engine/actions/jq.js';
import { FlowrunError } from '../shared/errors.js';
import { isJsonObject, jsonTypeName } from '../shared/json.js';
import type { Json, JsonObject } from '../shared/json.js';
import { oosError, OosErrorNames } from './errors.js';
import type { Problem } from './errors.js';
import { interpolationText, streamValue } from './convert.js';
import { FUNCTIONS, UNSUPPORTED_FUNCTIONS } from './functions.js';
import { DEFAULT_ACCOUNT_ID, DEFAULT_EXECUTE_USER, DEFAULT_REGION_ID, OOS_UTIL_VERSION } from './limits.js';
import { jqPathOf, parseTemplateString, PSEUDO_PARAMETERS } from './refs.js';
import type { RefSyntax } from './refs.js';
import { formatUtc } from './time.js';

/** What a compiled value reads when it runs. */
export interface OosEnv {
  /** Execution parameters (checked, with Defaults applied). */
  parameters: JsonObject;
  /** `$Global` of the execution: task outputs under `task.output` (see {@link outputKey}). */
  global: JsonObject;
  /** The current loop item, inside a loop task. */
  loopItem?: { value: Json };
  executionId: string;
  templateName: string;
  regionId: string;
  accountId: string;
  executeUser: string;
  /** Current time (ms since the epoch), for ACS::CurrentUTCTime / ACS::CurrentDate. */
  now(): number;
  /** `{{ oos:name }}` / `{{ oos-secret:name }}` values; undefined = not found. */
  parameterStore?: (name: string, secret: boolean) => Json | undefined;
}

export type OosValue = (env: OosEnv) => Json;

export { interpolationText, looseEquals, streamValue, toBoolean } from './convert.js';

/** A test or tool environment with defaults for everything not given. */
export function makeEnv(partial: Partial<OosEnv> = {}): OosEnv {
  return {
    parameters: {},
    global: {},
    executionId: 'exec-00000000000000000000',
    templateName: 'template',
    regionId: DEFAULT_REGION_ID,
    accountId: DEFAULT_ACCOUNT_ID,
    executeUser: DEFAULT_EXECUTE_USER,
    now: () => Date.now(),
    ...partial,
  };
}

// ---------------------------------------------------------------------------------------------
// Global keys (the lifecycle layer reads these too)

/** `$Global` key of a task output (and of a loop aggregate): `task.output`. */
export const outputKey = (task: string, output: string): string => `${task}.${output}`;
/** `$Global` key of a task's raw action result (kept only when `{{ task.jq.path }}` needs it). */
export const resultKey = (task: string): string => `${task}::Result`;
/** `$Global` key of a task's last status marker (`Success`, `Skipped`, `Failed`). */
export const statusKey = (task: string): string => `${task}::Status`;
/** `$Global` key of a loop task's counters `{Total, Success, Failed}`. */
export const loopKey = (task: string): string => `${task}::Loop`;

// ---------------------------------------------------------------------------------------------
// Compilation

/** What a reference may name. */
export interface TaskRefInfo {
  /** Declared task outputs (for a loop task: its per-item outputs, exposed as lists after the loop). */
  outputs: readonly string[];
  /** Loop.Outputs aggregate names. */
  aggregates: readonly string[];
}

export interface ReferenceScope {
  parameters: readonly string[];
  tasks: ReadonlyMap<string, TaskRefInfo>;
}

/** Where a value sits: which references are allowed there. */
export interface ValueSite {
  /** `{{ ACS::TaskLoopItem }}` is available (inside a loop task's Properties and Outputs). */
  loopItem: boolean;
  /** `{{ task.jq.path }}` over a task's raw result is allowed (template Outputs). */
  rawTaskPaths: boolean;
  /** Task references are allowed (not in parameter Defaults). */
  tasks: boolean;
}

/** A reference that could not be resolved because its task has not produced the value. */
export class TaskNotRunError extends FlowrunError {
  constructor(message: string) {
    super(OosErrorNames.Reference, message, { retryable: false });
    this.name = 'TaskNotRunError';
  }
}

interface Compiled {
  run: OosValue;
  constant: boolean;
}

const constant = (value: Json): Compiled => {
  if (value !== null && typeof value === 'object') {
    const text = JSON.stringify(value);
    return { run: () => JSON.parse(text) as Json, constant: true };
  }
  return { run: () => value, constant: true };
};

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Finds `name` in `names`: exactly, else the one name equal ignoring case (inferred: OOS is lenient). */
export function findName(name: string, names: Iterable<string>): string | undefined {
  const list = [...names];
  if (list.includes(name)) return name;
  const lower = name.toLowerCase();
  const matches = list.filter((n) => n.toLowerCase() === lower);
  return matches.length === 1 ? matches[0] : undefined;
}

function suggestion(name: string, names: readonly string[]): string {
  const near = names.filter((n) => editDistance(n.toLowerCase(), name.toLowerCase()) <= 2);
  return near.length > 0 ? ` Did you mean '${near[0]}'?` : '';
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/** Compiles template values against a reference scope, collecting problems. */
export class ValueCompiler {
  /** Tasks whose raw result must be kept (referenced as `{{ task.jq.path }}`). */
  readonly rawResultTasks = new Set<string>();

  constructor(
    private readonly scope: ReferenceScope,
    readonly problems: Problem[],
  ) {}

  private problem(pointer: string, message: string): void {
    this.problems.push({ pointer, message });
  }

  /** Compiles `raw` found at `pointer`. Never throws; problems are recorded. */
  compile(raw: unknown, pointer: string, site: ValueSite): OosValue {
    return this.value(raw, pointer, site).run;
  }

  /** True when `raw` holds no reference and no function (its value is known now). */
  isStatic(raw: unknown): boolean {
    if (typeof raw === 'string') return !parseTemplateString(raw).dynamic;
    if (Array.isArray(raw)) return raw.every((x) => this.isStatic(x));
    if (isJsonObject(raw)) return !Object.keys(raw).some((k) => k.startsWith('Fn::')) && Object.values(raw).every((x) => this.isStatic(x));
    return true;
  }

  private value(raw: unknown, pointer: string, site: ValueSite): Compiled {
    if (typeof raw === 'string') return this.string(raw, pointer, site);
    if (Array.isArray(raw)) {
      const items = raw.map((x, i) => this.value(x, `${pointer}/${i}`, site));
      if (items.every((c) => c.constant)) return constant(raw as Json);
      return { run: (env) => items.map((c) => c.run(env)), constant: false };
    }
    if (isJsonObject(raw)) {
      const keys = Object.keys(raw);
      const fnKeys = keys.filter((k) => k.startsWith('Fn::'));
      if (fnKeys.length > 0) {
        if (keys.length > 1) {
          this.problem(pointer, `a function call must be the only key of its mapping; found ${keys.map((k) => `'${k}'`).join(', ')}`);
          return constant(null);
        }
        return this.call(fnKeys[0] as string, raw[fnKeys[0] as string], `${pointer}/${escapePointer(fnKeys[0] as string)}`, site);
      }
      const members = keys.map((k) => [k, this.value(raw[k], `${pointer}/${escapePointer(k)}`, site)] as const);
      if (members.every(([, c]) => c.constant)) return constant(raw);
      return {
        run: (env) => {
          const out: JsonObject = {};
          for (const [k, c] of members) out[k] = c.run(env);
          return out;
        },
        constant: false,
      };
    }
    return constant((raw ?? null) as Json);
  }

  private call(name: string, arg: unknown, pointer: string, site: ValueSite): Compiled {
    const spec = FUNCTIONS[name];
    if (!spec) {
      const why = UNSUPPORTED_FUNCTIONS.includes(name) ? `${name} is not supported by flowrun` : `unknown function ${name}`;
      this.problem(pointer, `${why}; the functions are ${Object.keys(FUNCTIONS).sort().join(', ')}`);
      return constant(null);
    }
    if (Array.isArray(arg) && spec.arity) {
      const [min, max] = spec.arity;
      if (arg.length < min || arg.length > max) {
        const expected = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
        this.problem(pointer, `${name} takes ${expected} argument${expected === '1' ? '' : 's'} (${spec.shape}), got ${arg.length}`);
      }
    } else if (spec.needsList && !Array.isArray(arg) && this.isStatic(arg)) {
      this.problem(pointer, `${name} takes a list (${spec.shape}), got ${jsonTypeName(arg)}`);
    }
    if (spec.lazy && Array.isArray(arg)) {
      const parts = arg.map((x, i) => this.value(x, `${pointer}/${i}`, site).run);
      const lazy = spec.lazy;
      return { run: (env) => wrap(name, () => lazy(parts, env)), constant: false };
    }
    const argument = this.value(arg, pointer, site);
    const evaluate = spec.evaluate;
    return { run: (env) => wrap(name, () => evaluate(argument.run(env), env)), constant: false };
  }

  private string(text: string, pointer: string, site: ValueSite): Compiled {
    const parsed = parseTemplateString(text);
    if (!parsed.dynamic) return constant(text);
    if (parsed.whole) {
      const part = parsed.parts.find((p) => typeof p !== 'string');
      if (part && typeof part !== 'string') return { run: this.reference(part.ref, part.source, pointer, site), constant: false };
    }
    const pieces = parsed.parts.map((p) => (typeof p === 'string' ? p : this.reference(p.ref, p.source, pointer, site)));
    return {
      run: (env) => {
        let out = '';
        for (const p of pieces) out += typeof p === 'string' ? p : interpolationText(p(env));
        return out;
      },
      constant: false,
    };
  }

  /** Resolves one reference now; returns the closure reading it. */
  private reference(ref: RefSyntax, source: string, pointer: string, site: ValueSite): OosValue {
    const fail = (message: string): OosValue => {
      this.problem(pointer, `${source}: ${message}`);
      return () => null;
    };
    if (ref.kind === 'store') {
      const { name, secret } = ref;
      return (env) => {
        const value = env.parameterStore?.(name, secret);
        if (value === undefined) throw oosError(OosErrorNames.Reference, `${source}: no ${secret ? 'secret ' : ''}parameter named '${name}' in the parameter store`);
        return value;
      };
    }
    if (ref.kind === 'pseudo') {
      if (!ref.name) return fail(`unknown pseudo parameter ACS::${ref.written}; known: ${PSEUDO_PARAMETERS.map((p) => `ACS::${p}`).join(', ')}`);
      if (ref.name === 'TaskLoopItem' && !site.loopItem) return fail('ACS::TaskLoopItem is only available in the Properties and Outputs of a task with a Loop');
      const read = pseudo(ref.name);
      return ref.path === undefined ? read : withPath(read, jqPathOf(ref.path));
    }
    const { head, rest } = ref;
    const taskName = findName(head, this.scope.tasks.keys());
    const paramName = findName(head, this.scope.parameters);
    if (rest === undefined || taskName === undefined || !site.tasks) {
      if (paramName !== undefined) {
        const read: OosValue = (env) => {
          if (!Object.hasOwn(env.parameters, paramName)) throw oosError(OosErrorNames.Reference, `${source}: parameter '${paramName}' has no value`);
          return env.parameters[paramName] as Json;
        };
        return rest === undefined ? read : withPath(read, jqPathOf(rest));
      }
      if (taskName !== undefined && rest === undefined) return fail(`'${taskName}' is a task; name one of its outputs, e.g. {{ ${taskName}.output }}`);
      if (taskName !== undefined) return fail('task outputs cannot be referenced here');
      const known = [...this.scope.parameters];
      return fail(`unknown parameter '${head}'.${suggestion(head, known)}${known.length > 0 ? ` Parameters: ${known.join(', ')}.` : ' The template declares no parameters.'}`);
    }
    const info = this.scope.tasks.get(taskName) as TaskRefInfo;
    const field = rest.startsWith('.') ? rest.slice(1) : rest;
    const declared = findName(field, [...info.aggregates, ...info.outputs]);
    if (declared !== undefined) {
      const key = outputKey(taskName, declared);
      return (env) => {
        if (!Object.hasOwn(env.global, key)) throw new TaskNotRunError(`${source}: task '${taskName}' has not produced output '${declared}' (it has not run, was skipped or failed)`);
        return env.global[key] as Json;
      };
    }
    if (site.rawTaskPaths) {
      this.rawResultTasks.add(taskName);
      const key = resultKey(taskName);
      const path = jqPathOf(rest);
      return withPath((env) => {
        if (!Object.hasOwn(env.global, key)) throw new TaskNotRunError(`${source}: task '${taskName}' has not run`);
        return env.global[key] as Json;
      }, path);
    }
    const names = [...info.outputs, ...info.aggregates];
    return fail(
      `task '${taskName}' has no output '${field}'.${suggestion(field, names)}${names.length > 0 ? ` Its outputs: ${names.join(', ')}.` : ' It declares no Outputs.'}`,
    );
  }
}

function pseudo(name: (typeof PSEUDO_PARAMETERS)[number]): OosValue {
  switch (name) {
    case 'RegionId':
      return (env) => env.regionId;
    case 'ExecutionId':
      return (env) => env.executionId;
    case 'TemplateName':
      return (env) => env.templateName;
    case 'AccountId':
      return (env) => env.accountId;
    case 'ExecuteUser':
      return (env) => env.executeUser;
    case 'CurrentUTCTime':
      return (env) => formatUtc(env.now());
    case 'CurrentDate':
      return (env) => formatUtc(env.now()).slice(0, 10);
    case 'OOSUtilVersion':
      return () => OOS_UTIL_VERSION;
    case 'TaskLoopItem':
      return (env) => {
        if (!env.loopItem) throw oosError(OosErrorNames.Reference, 'ACS::TaskLoopItem is only available inside a loop');
        return env.loopItem.value;
      };
  }
}

function withPath(read: OosValue, path: string): OosValue {
  return (env) => streamValue(jqValues(path, read(env)));
}

/** Runs a function body, turning plain errors into `OOS.FunctionError` naming the function. */
function wrap(name: string, body: () => Json): Json {
  try {
    return body();
  } catch (err) {
    if (err instanceof FlowrunError) throw err;
    throw oosError(OosErrorNames.Function, `${name}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
