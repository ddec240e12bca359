/**
 * OOS template → the shared compiled graph (`CompiledFlow`), so the same interpreter runs FDL flows
 * and OOS templates. Validation (schema + every semantic rule, every reference) happens in the same
 * pass: `validateTemplate` returns the problems, `compileTemplate` throws them.
 *
 * Layout of the root scope, task by task in template order:
 *   [When Choice `<task>::When`, Skip Pass `<task>::Skipped`]   only for tasks with When
 *   main node `<task>`: Task (actions), Map (Loop), Wait (ACS::Sleep) or Choice (ACS::Choice)
 * then the final Pass node `ACS::END`, whose output is the template Outputs (the execution output).
 * Jumps (OnSuccess, OnError, Choice NextTask/DefaultTask) go to a task's first node, so a jump to a
 * task with When evaluates its When. `ACS::END` targets the final node.
 *
 * Data: the execution input is the checked parameters; `$Global` holds task outputs under
 * `task.output` (loop aggregates too), `task::Status` (`Success`/`Skipped`), `task::Loop` (loop
 * counters) and `task::Result` (raw result, only for tasks referenced as `{{ task.jq.path }}`).
 *
 * Loops: the Map node's items are `{"ACS::TaskLoopItem": item}` objects; its processor is the task's
 * Task node (outputs `{Item, Status: Success, Outputs}`) with a catch-all to `<task>::ItemFailed`
 * (outputs `{Item, Status: Failed, Error}`), so failed items are counted against MaxErrors by the
 * Map's output builder, which fails the loop (`OOS.LoopMaxErrorsExceeded`) past the tolerance.
 * A concurrency known only at run time (a reference, a percentage of a computed list) is the Map
 * node's `dynamicConcurrency`, decided when the loop starts.
 */
import { AcsActions, AcsErrorNames, DEFAULT_HIGH_RISK_API_PATTERN, isHighRiskApi } from '../engine/actions/acs-names.js';
import { jqSyntaxError, jqValues, normalizeSelector } from '../engine/actions/jq.js';
import type { EvalScope } from '../flow/expr/index.js';
import type { CatchRule, ChoiceBranch, CompiledFlow, FlowNode, MapBatches, MapNode, ObjectBuilder, RetryPolicy, ScopeGraph, TaskMode } from '../flow/graph.js';
import { systemClock } from '../shared/clock.js';
import type { Clock } from '../shared/clock.js';
import { ErrorNames } from '../shared/errors.js';
import type { FlowrunError } from '../shared/errors.js';
import { isJsonObject, jsonTypeName } from '../shared/json.js';
import type { Json, JsonObject } from '../shared/json.js';
import { MAX_GLOBAL_KEY_BYTES } from '../shared/limits.js';
import { interpolationText, streamValue, toBoolean } from './convert.js';
import { oosError, OosErrorNames, TemplateDefinitionError } from './errors.js';
import type { Problem } from './errors.js';
import { AGGREGATORS } from './functions.js';
import {
  DEFAULT_ACCOUNT_ID,
  DEFAULT_BATCH_CONCURRENCY,
  DEFAULT_EXECUTE_USER,
  DEFAULT_EXPONENTIAL_DELAY_SECONDS,
  DEFAULT_LOOP_CONCURRENCY,
  DEFAULT_REGION_ID,
  DEFAULT_RETRY_DELAY_SECONDS,
  DEFAULT_WAITFOR_RETRIES,
  MAX_LOOP_CONCURRENCY,
  MAX_LOOP_ITEMS,
  MAX_SLEEP_SECONDS,
  MAX_TASK_RETRIES,
  TEMPLATE_NAME_PATTERN,
} from './limits.js';
import { declarationProblems, ParameterChecker } from './params.js';
import type { ParameterType, TemplateParameter } from './params.js';
import { parseTemplateText } from './parse.js';
import type { TemplateFormat } from './parse.js';
import { schemaProblems } from './schema.js';
import { formatUtc, parseDurationSeconds, parseUtc } from './time.js';
import { findName, loopKey, outputKey, resultKey, statusKey, TaskNotRunError, ValueCompiler } from './values.js';
import type { OosEnv, OosValue, ReferenceScope, TaskRefInfo, ValueSite } from './values.js';
import { validateTemplateName } from './names.js';

// ---------------------------------------------------------------------------------------------
// Public types

export interface CompileTemplateOptions {
  /** TemplateName (for `{{ ACS::TemplateName }}`, messages, the flow name). Default `template`. */
  name?: string;
  /** `{{ ACS::RegionId }}`; default {@link DEFAULT_REGION_ID}. */
  regionId?: string;
  /** `{{ ACS::AccountId }}`. */
  accountId?: string;
  /** `{{ ACS::ExecuteUser }}`. */
  executeUser?: string;
  /** Time for `{{ ACS::CurrentUTCTime }}` and time functions (tests pass a ManualClock). */
  clock?: Clock;
  /** `{{ oos:name }}` / `{{ oos-secret:name }}` values. */
  parameterStore?: (name: string, secret: boolean) => Json | undefined;
  /** API names that are high-risk (default: Delete*, Release*, Stop*, Reboot*, …). */
  highRiskApiPattern?: RegExp;
}

export type TaskKind =
  | 'api'
  | 'waitfor'
  | 'checkfor'
  | 'approve'
  | 'pause'
  | 'notify'
  | 'sleep'
  | 'choice'
  | 'template'
  | 'selecttargets'
  | 'runcommand'
  | 'trigger'
  | 'product';

export interface TemplateTask {
  name: string;
  /** Action as written in the template. */
  action: string;
  kind: TaskKind;
  /** Engine action a Task node calls (undefined for Sleep and Choice). */
  engineAction: string | undefined;
  /** Task mode of its Task node: callback modes wait for NotifyExecution (Approve, Pause, triggers). */
  mode: TaskMode | undefined;
  loop: boolean;
  when: boolean;
  outputs: string[];
  aggregates: string[];
  /** Static risk analysis (literal Service/API): high-risk unless `Risk: Normal`. */
  risk: { highRisk: boolean; service?: string; api?: string };
  /** Index of the task's main node in the root scope. */
  node: number;
}

export type NodeRoleKind = 'task' | 'when' | 'skipped' | 'loop' | 'item' | 'item-failed' | 'end';

export interface NodeRole {
  /** The template task the node belongs to (undefined for `ACS::END`). */
  task: string | undefined;
  role: NodeRoleKind;
}

export interface CompiledTemplate {
  name: string;
  format: TemplateFormat | undefined;
  /** The template as a JSON document. */
  document: JsonObject;
  /** The graph the interpreter runs (execution input = the checked parameters). */
  flow: CompiledFlow;
  parameters: readonly TemplateParameter[];
  tasks: readonly TemplateTask[];
  /** Template output names. */
  outputs: readonly string[];
  /**
   * Role of a history step: `name` is the step name, `depth` its path length (0 for root nodes,
   * 1 for loop iterations). E.g. `roleOf('runCommand', 1)` → `{task: 'runCommand', role: 'item'}`.
   */
  roleOf(name: string, depth: number): NodeRole | undefined;
  /** Checks StartExecution parameters (see ./params.ts); the result is the execution input. */
  readonly parameterChecker: ParameterChecker;
  /** The environment values of this template's executions (region, account, clock…). */
  readonly envBase: EnvBase;
}

/** The parts of OosEnv fixed per template (the rest comes from the execution). */
export interface EnvBase {
  templateName: string;
  regionId: string;
  accountId: string;
  executeUser: string;
  now(): number;
  parameterStore?: (name: string, secret: boolean) => Json | undefined;
}

/** Key of the loop item inside a loop iteration's input. */
export const LOOP_ITEM_KEY = 'ACS::TaskLoopItem';
/** Name of the final node (template Outputs). */
export const END_NODE_NAME = 'ACS::END';
export const whenNodeName = (task: string): string => `${task}::When`;
export const skippedNodeName = (task: string): string => `${task}::Skipped`;
export const itemFailedNodeName = (task: string): string => `${task}::ItemFailed`;

// ---------------------------------------------------------------------------------------------
// Actions

interface ActionInfo {
  kind: TaskKind;
  engineAction: string | undefined;
  loopable: boolean;
  mode: TaskMode;
}

const ATOMIC: Record<string, ActionInfo> = {
  'acs::executeapi': { kind: 'api', engineAction: AcsActions.ExecuteAPI, loopable: true, mode: 'RequestComplete' },
  'acs::waitfor': { kind: 'waitfor', engineAction: AcsActions.WaitFor, loopable: true, mode: 'RequestComplete' },
  'acs::checkfor': { kind: 'checkfor', engineAction: AcsActions.CheckFor, loopable: true, mode: 'RequestComplete' },
  'acs::approve': { kind: 'approve', engineAction: AcsActions.Approve, loopable: false, mode: 'WaitForCustomCallback' },
  'acs::pause': { kind: 'pause', engineAction: AcsActions.Pause, loopable: false, mode: 'WaitForCustomCallback' },
  'acs::notify': { kind: 'notify', engineAction: AcsActions.Notify, loopable: true, mode: 'RequestComplete' },
  'acs::sleep': { kind: 'sleep', engineAction: undefined, loopable: false, mode: 'RequestComplete' },
  'acs::choice': { kind: 'choice', engineAction: undefined, loopable: false, mode: 'RequestComplete' },
  'acs::template': { kind: 'template', engineAction: AcsActions.Template, loopable: true, mode: 'RequestComplete' },
  'acs::selecttargets': { kind: 'selecttargets', engineAction: AcsActions.SelectTargets, loopable: false, mode: 'RequestComplete' },
  'acs::ecs::runcommand': { kind: 'runcommand', engineAction: AcsActions.RunCommand, loopable: true, mode: 'RequestComplete' },
  'acs::timertrigger': { kind: 'trigger', engineAction: AcsActions.TimerTrigger, loopable: false, mode: 'WaitForCustomCallback' },
  'acs::eventtrigger': { kind: 'trigger', engineAction: AcsActions.EventTrigger, loopable: false, mode: 'WaitForCustomCallback' },
  'acs::alarmtrigger': { kind: 'trigger', engineAction: AcsActions.AlarmTrigger, loopable: false, mode: 'WaitForCustomCallback' },
};

/** How an action name is run; undefined for an unknown `ACS::Name`. */
export function actionInfo(action: string): ActionInfo | undefined {
  const atomic = ATOMIC[action.toLowerCase()];
  if (atomic) return atomic;
  if (/^acs::[A-Za-z0-9]+$/i.test(action)) return undefined;
  // ACS::<Product>::<Name> product actions and plain template names run as child templates.
  return { kind: 'product', engineAction: AcsActions.Template, loopable: true, mode: 'RequestComplete' };
}

// ---------------------------------------------------------------------------------------------
// Outputs

export type OutputType = 'String' | 'Number' | 'Boolean' | 'List' | 'Json' | 'Object';

/** Converts a value to a declared output type; throws `OOS.OutputTypeMismatch`. */
export function toOutputType(value: Json, type: OutputType, what: string): Json {
  const mismatch = (): FlowrunError =>
    oosError(OosErrorNames.OutputType, `${what} is declared ${type} but the value is ${jsonTypeName(value)} ${JSON.stringify(value).slice(0, 80)}`);
  switch (type) {
    case 'String':
      return value === null ? null : interpolationText(value);
    case 'Number':
      if (value === null || typeof value === 'number') return value;
      if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
      throw mismatch();
    case 'Boolean':
      if (value === null || typeof value === 'boolean') return value;
      if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
      throw mismatch();
    case 'List':
      return Array.isArray(value) ? value : value === null ? [] : [value];
    default:
      return value;
  }
}

/** The typed value of a selector's jq stream (List collects the stream; others take its value). */
export function outputFromStream(values: Json[], type: OutputType, what: string): Json {
  if (type === 'List') return values.length === 1 && Array.isArray(values[0]) ? values[0] : values;
  return toOutputType(streamValue(values), type, what);
}

interface CompiledOutput {
  name: string;
  type: OutputType;
  selector: OosValue;
}

// ---------------------------------------------------------------------------------------------
// The compiler

interface TaskPlan {
  index: number;
  def: JsonObject;
  name: string;
  action: string;
  info: ActionInfo | undefined;
  pointer: string;
  whenNode: number | undefined;
  skipNode: number | undefined;
  mainNode: number;
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Milliseconds-free numbers: integer or numeric string → number; undefined otherwise. */
function intOf(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) return Number(value);
  return undefined;
}

/** A count that is an integer or a percentage ('20%'): [value, isPercent]; undefined if neither. */
function countOrPercent(value: Json | undefined): { n: number; percent: boolean } | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return { n: value, percent: false };
  if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(value);
    if (m) return { n: Number(m[1]), percent: m[2] === '%' };
  }
  return undefined;
}

/** Concurrency for `count` items: a percentage rounds up (inferred), at least 1. */
export function resolveConcurrency(value: Json | undefined, count: number): number {
  const c = countOrPercent(value ?? DEFAULT_LOOP_CONCURRENCY);
  if (!c) throw oosError(OosErrorNames.RateControl, `Concurrency must be a positive integer or a percentage such as "20%", got ${JSON.stringify(value)}`);
  const n = c.percent ? Math.ceil((count * c.n) / 100) : c.n;
  return Math.min(MAX_LOOP_CONCURRENCY, Math.max(1, n));
}

/** Failed iterations tolerated among `count`: a percentage rounds down (UNCONFIRMED). */
export function resolveMaxErrors(value: Json | undefined, count: number): number {
  const c = countOrPercent(value ?? 0);
  if (!c) throw oosError(OosErrorNames.RateControl, `MaxErrors must be an integer or a percentage such as "10%", got ${JSON.stringify(value)}`);
  return c.percent ? Math.floor((count * c.n) / 100) : c.n;
}

class TemplateCompiler {
  readonly problems: Problem[] = [];
  private readonly values: ValueCompiler;
  private readonly plans: TaskPlan[] = [];
  private readonly byName = new Map<string, TaskPlan>();
  private endNode = 0;
  readonly scopes: ScopeGraph[] = [];
  readonly tasks: TemplateTask[] = [];
  readonly rootRoles = new Map<string, NodeRole>();
  readonly itemRoles = new Map<string, NodeRole>();
  readonly parameters: TemplateParameter[] = [];

  constructor(
    private readonly doc: JsonObject,
    private readonly base: EnvBase,
    private readonly riskPattern: RegExp,
  ) {
    const scope: ReferenceScope = { parameters: this.parameterNames(), tasks: this.taskRefInfos() };
    this.values = new ValueCompiler(scope, this.problems);
  }

  problem(pointer: string, message: string): void {
    this.problems.push({ pointer, message });
  }

  private parameterNames(): string[] {
    return isJsonObject(this.doc['Parameters']) ? Object.keys(this.doc['Parameters']) : [];
  }

  private taskDefs(): JsonObject[] {
    return Array.isArray(this.doc['Tasks']) ? this.doc['Tasks'].map((t) => (isJsonObject(t) ? t : {})) : [];
  }

  private taskRefInfos(): Map<string, TaskRefInfo> {
    const infos = new Map<string, TaskRefInfo>();
    for (const t of this.taskDefs()) {
      if (typeof t['Name'] !== 'string' || infos.has(t['Name'])) continue;
      const outputs = isJsonObject(t['Outputs']) ? Object.keys(t['Outputs']) : [];
      const loop = isJsonObject(t['Loop']) ? t['Loop'] : undefined;
      const aggregates = loop && isJsonObject(loop['Outputs']) ? Object.keys(loop['Outputs']) : [];
      infos.set(t['Name'], { outputs, aggregates });
    }
    return infos;
  }

  private env(scope: EvalScope, loopItem?: { value: Json }): OosEnv {
    const exec = scope.context()['Execution'];
    const execution = isJsonObject(exec) ? exec : {};
    const input = execution['Input'];
    const env: OosEnv = {
      ...this.base,
      parameters: isJsonObject(input) ? input : {},
      global: scope.global,
      executionId: typeof execution['Name'] === 'string' ? execution['Name'] : '',
    };
    if (loopItem) env.loopItem = loopItem;
    return env;
  }

  private loopItemOf(scope: EvalScope): { value: Json } {
    const input = scope.input;
    return { value: isJsonObject(input) && Object.hasOwn(input, LOOP_ITEM_KEY) ? (input[LOOP_ITEM_KEY] as Json) : null };
  }

  // -------------------------------------------------------------------------------------------

  compile(): ScopeGraph {
    this.compileParameters();
    this.layout();
    const nodes: FlowNode[] = [];
    const root: ScopeGraph = { id: 0, start: 0, nodes };
    this.scopes.push(root);
    for (const plan of this.plans) nodes.push(...this.taskNodes(plan));
    nodes.push(this.endNodeOf());
    root.start = this.plans[0] ? this.entry(this.plans[0]) : this.endNode;
    return root;
  }

  private compileParameters(): void {
    const params = this.doc['Parameters'];
    if (!isJsonObject(params)) return;
    const earlier: string[] = [];
    for (const [name, raw] of Object.entries(params)) {
      const pointer = `/Parameters/${escapePointer(name)}`;
      const decl = isJsonObject(raw) ? raw : {};
      const type = (typeof decl['Type'] === 'string' && ['String', 'Number', 'Boolean', 'List', 'Json'].includes(decl['Type']) ? decl['Type'] : 'String') as ParameterType;
      this.problems.push(...declarationProblems(decl, pointer));
      let defaultValue: OosValue | undefined;
      if (Object.hasOwn(decl, 'Default')) {
        // Defaults may use pseudo parameters and functions, and earlier parameters.
        const scoped = new ValueCompiler({ parameters: [...earlier], tasks: new Map() }, this.problems);
        defaultValue = scoped.compile(decl['Default'], `${pointer}/Default`, { loopItem: false, rawTaskPaths: false, tasks: false });
      }
      this.parameters.push({ name, type, hasDefault: defaultValue !== undefined, defaultValue, declaration: decl });
      earlier.push(name);
    }
    // Literal Defaults must satisfy their own constraints.
    const checker = new ParameterChecker(this.parameters);
    for (const p of this.parameters) {
      const d = p.declaration['Default'];
      if (d === undefined || !this.values.isStatic(d)) continue;
      for (const message of checker.valueProblems(p.name, d as Json)) this.problem(`/Parameters/${escapePointer(p.name)}/Default`, `the Default does not fit: ${message}`);
    }
  }

  private layout(): void {
    let next = 0;
    this.taskDefs().forEach((def, index) => {
      const pointer = `/Tasks/${index}`;
      const name = typeof def['Name'] === 'string' ? def['Name'] : `#${index}`;
      const action = typeof def['Action'] === 'string' ? def['Action'] : '';
      const info = actionInfo(action);
      if (!info && action !== '') this.problem(`${pointer}/Action`, `unknown action '${action}'${actionHint(action)}`);
      if (this.byName.has(name)) this.problem(`${pointer}/Name`, `duplicate task name '${name}' (task names must be unique)`);
      const hasWhen = def['When'] !== undefined;
      const plan: TaskPlan = {
        index,
        def,
        name,
        action,
        info,
        pointer,
        whenNode: hasWhen ? next++ : undefined,
        skipNode: hasWhen ? next++ : undefined,
        mainNode: next++,
      };
      this.plans.push(plan);
      if (!this.byName.has(name)) this.byName.set(name, plan);
    });
    this.endNode = next;
  }

  private entry(plan: TaskPlan): number {
    return plan.whenNode ?? plan.mainNode;
  }

  private nextEntry(plan: TaskPlan): number {
    const following = this.plans[plan.index + 1];
    return following ? this.entry(following) : this.endNode;
  }

  /** Node index of a jump target (`ACS::NEXT`, `ACS::END`, a task name). */
  private target(value: unknown, plan: TaskPlan, pointer: string, allowNext = true): number {
    if (typeof value !== 'string') {
      this.problem(pointer, `must be ACS::NEXT, ACS::END or a task name, got ${jsonTypeName(value)}`);
      return this.endNode;
    }
    const upper = value.trim().toUpperCase();
    if (upper === 'ACS::END') return this.endNode;
    if (upper === 'ACS::NEXT' && allowNext) return this.nextEntry(plan);
    if (value.includes('{{')) {
      this.problem(pointer, 'must be a literal task name (references are not allowed here)');
      return this.endNode;
    }
    const name = findName(value, this.byName.keys());
    const found = name === undefined ? undefined : this.byName.get(name);
    if (!found) {
      const names = [...this.byName.keys()];
      const near = names.find((n) => n.toLowerCase().startsWith(value.toLowerCase().slice(0, 3)));
      this.problem(pointer, `no task named '${value}'${near ? `. Did you mean '${near}'?` : ''} (use ACS::NEXT, ACS::END or one of: ${names.join(', ')})`);
      return this.endNode;
    }
    return this.entry(found);
  }

  private site(loop: boolean): ValueSite {
    return { loopItem: loop, rawTaskPaths: false, tasks: true };
  }

  private taskNodes(plan: TaskPlan): FlowNode[] {
    const { def, name, pointer } = plan;
    const info = plan.info ?? { kind: 'api' as TaskKind, engineAction: undefined, loopable: true, mode: 'RequestComplete' as TaskMode };
    const loopDef = isJsonObject(def['Loop']) ? def['Loop'] : undefined;
    const loop = loopDef !== undefined;
    if (loop && !info.loopable) this.problem(`${pointer}/Loop`, `${plan.action} tasks cannot loop (Loop is for API, template and product-action tasks)`);
    const props = isJsonObject(def['Properties']) ? def['Properties'] : {};
    const nodes: FlowNode[] = [];
    const next = def['OnSuccess'] === undefined ? this.nextEntry(plan) : this.target(def['OnSuccess'], plan, `${pointer}/OnSuccess`);
    const catches = this.catchRules(def['OnError'], plan);

    if (plan.whenNode !== undefined && plan.skipNode !== undefined) {
      const when = this.values.compile(def['When'], `${pointer}/When`, this.site(false));
      const branch: ChoiceBranch = { condition: (scope) => toBoolean(when(this.env(scope)), `the When of task '${name}'`), next: plan.mainNode };
      nodes.push({ ...this.base0(whenNodeName(name), plan.whenNode), kind: 'Choice', next: plan.skipNode, branches: [branch], default: plan.skipNode });
      nodes.push({
        ...this.base0(skippedNodeName(name), plan.skipNode),
        kind: 'Pass',
        global: () => ({ [statusKey(name)]: 'Skipped' }),
        next: this.nextEntry(plan),
      });
      this.rootRoles.set(whenNodeName(name), { task: name, role: 'when' });
      this.rootRoles.set(skippedNodeName(name), { task: name, role: 'skipped' });
    }

    const outputs = this.outputs(def, pointer, loop, info.kind);
    const task: TemplateTask = {
      name,
      action: plan.action,
      kind: info.kind,
      engineAction: info.engineAction,
      mode: info.engineAction ? info.mode : undefined,
      loop,
      when: plan.whenNode !== undefined,
      outputs: outputs.map((o) => o.name),
      aggregates: loopDef && isJsonObject(loopDef['Outputs']) ? Object.keys(loopDef['Outputs']) : [],
      risk: this.risk(plan, props),
      node: plan.mainNode,
    };
    this.tasks.push(task);

    if (info.kind === 'sleep') {
      nodes.push(this.sleepNode(plan, props, next, catches));
      this.rootRoles.set(name, { task: name, role: 'task' });
      return nodes;
    }
    if (info.kind === 'choice') {
      nodes.push(this.choiceNode(plan, props, catches));
      this.rootRoles.set(name, { task: name, role: 'task' });
      return nodes;
    }
    const parameters = this.taskParameters(plan, props, info, loop);
    const retry = this.retryPolicies(def, info.kind, pointer);
    const keepResult = (): boolean => this.values.rawResultTasks.has(name);

    if (!loopDef) {
      const memo = new WeakMap<EvalScope, JsonObject>();
      const compute = (scope: EvalScope): JsonObject => {
        let out = memo.get(scope);
        if (!out) {
          out = this.computeOutputs(name, outputs, scope.output ?? null, this.env(scope));
          memo.set(scope, out);
        }
        return out;
      };
      nodes.push({
        ...this.base0(name, plan.mainNode),
        kind: 'Task',
        action: info.engineAction ?? plan.action,
        mode: info.mode,
        parameters,
        timeoutMs: undefined,
        output: (scope) => compute(scope),
        global: (scope) => {
          const g: JsonObject = { [statusKey(name)]: 'Success' };
          for (const [k, v] of Object.entries(compute(scope))) g[outputKey(name, k)] = v;
          if (keepResult()) g[resultKey(name)] = scope.output ?? null;
          return g;
        },
        next,
        retry,
        catch: catches,
      });
      this.rootRoles.set(name, { task: name, role: 'task' });
      return nodes;
    }

    nodes.push(this.loopNode(plan, loopDef, info, parameters, outputs, retry, next, catches));
    this.rootRoles.set(name, { task: name, role: 'loop' });
    this.itemRoles.set(name, { task: name, role: 'item' });
    this.itemRoles.set(itemFailedNodeName(name), { task: name, role: 'item-failed' });
    return nodes;
  }

  private base0(name: string, index: number): Omit<FlowNode, 'kind'> {
    return { name, index, input: undefined, output: undefined, global: undefined, next: this.endNode, retry: [], catch: [] };
  }

  private catchRules(onError: unknown, plan: TaskPlan): CatchRule[] {
    if (onError === undefined) return [];
    const pointer = `${plan.pointer}/OnError`;
    if (typeof onError === 'string' && onError.trim().toUpperCase() === 'ACS::END') return [];
    const next = this.target(onError, plan, pointer);
    const output: ObjectBuilder = (scope) => {
      const current = scope.context()['Current'];
      const error = isJsonObject(current) && isJsonObject(current['Error']) ? current['Error'] : {};
      return { Error: { Code: error['Code'] ?? null, Detail: error['Detail'] ?? null } };
    };
    return [{ errors: [ErrorNames.All], matchAll: true, next, output }];
  }

  private outputs(def: JsonObject, pointer: string, loop: boolean, kind: TaskKind): CompiledOutput[] {
    if (!isJsonObject(def['Outputs'])) return [];
    if (kind === 'sleep' || kind === 'choice') {
      this.problem(`${pointer}/Outputs`, `${kind === 'sleep' ? 'ACS::Sleep' : 'ACS::Choice'} tasks have no result to select Outputs from`);
      return [];
    }
    const out: CompiledOutput[] = [];
    for (const [name, raw] of Object.entries(def['Outputs'])) {
      const at = `${pointer}/Outputs/${escapePointer(name)}`;
      if (!isJsonObject(raw)) continue;
      const type = (typeof raw['Type'] === 'string' ? raw['Type'] : 'String') as OutputType;
      const selectorRaw = raw['ValueSelector'];
      if (typeof selectorRaw !== 'string') continue;
      if (Buffer.byteLength(outputKey(String(def['Name'] ?? ''), name), 'utf8') > MAX_GLOBAL_KEY_BYTES) {
        this.problem(at, `'${String(def['Name'])}.${name}' is longer than ${MAX_GLOBAL_KEY_BYTES} bytes, the longest output key flowrun keeps; shorten the task or output name`);
      }
      const selector = this.values.compile(selectorRaw, `${at}/ValueSelector`, this.site(loop));
      if (this.values.isStatic(selectorRaw)) {
        const error = jqSyntaxError(normalizeSelector(selectorRaw));
        if (error) this.problem(`${at}/ValueSelector`, `is not a valid jq expression: ${error}`);
      }
      out.push({ name, type, selector });
    }
    return out;
  }

  private computeOutputs(task: string, outputs: CompiledOutput[], raw: Json, env: OosEnv): JsonObject {
    const out: JsonObject = {};
    for (const o of outputs) {
      const text = normalizeSelector(interpolationText(o.selector(env)));
      out[o.name] = outputFromStream(jqValues(text, raw), o.type, `output ${task}.${o.name}`);
    }
    return out;
  }

  private taskParameters(plan: TaskPlan, props: JsonObject, info: ActionInfo, loop: boolean): (scope: EvalScope) => Json {
    const value = this.values.compile(props, `${plan.pointer}/Properties`, this.site(loop));
    if (plan.info) this.checkProperties(plan, props, info);
    const wrapAsTemplate = info.kind === 'product';
    const action = plan.action;
    return (scope) => {
      const env = loop ? this.env(scope, this.loopItemOf(scope)) : this.env(scope);
      const resolved = value(env);
      return wrapAsTemplate ? { TemplateName: action, Parameters: resolved } : resolved;
    };
  }

  /** Static checks of Properties per action kind (what is known before running). */
  private checkProperties(plan: TaskPlan, props: JsonObject, info: ActionInfo): void {
    const at = `${plan.pointer}/Properties`;
    const need = (key: string, why: string): void => {
      if (props[key] === undefined) this.problem(at, `${plan.action} needs Properties.${key} (${why})`);
    };
    switch (info.kind) {
      case 'api':
      case 'waitfor':
      case 'checkfor':
        need('Service', 'the product code, e.g. ECS');
        need('API', 'the API name, e.g. DescribeInstances');
        if (info.kind !== 'api') {
          need('PropertySelector', 'a jq expression selecting the value to check');
          if (props['DesiredValues'] === undefined && props['NotDesiredValues'] === undefined) {
            this.problem(at, `${plan.action} needs Properties.DesiredValues or Properties.NotDesiredValues`);
          }
          const sel = props['PropertySelector'];
          if (typeof sel === 'string' && this.values.isStatic(sel)) {
            const error = jqSyntaxError(normalizeSelector(sel));
            if (error) this.problem(`${at}/PropertySelector`, `is not a valid jq expression: ${error}`);
          }
        }
        break;
      case 'template':
        need('TemplateName', 'the template to run as a child execution');
        break;
      case 'runcommand':
        need('instanceId', 'the instance to run the command on');
        need('commandContent', 'the command to run');
        break;
      case 'approve':
      case 'notify': {
        const hook = props['WebHook'];
        if (hook !== undefined && isJsonObject(hook) && hook['URI'] === undefined) this.problem(`${at}/WebHook`, 'needs URI (the webhook address)');
        if (info.kind === 'notify' && hook === undefined) need('WebHook', 'where the notification is sent');
        break;
      }
      default:
        break;
    }
  }

  private risk(plan: TaskPlan, props: JsonObject): TemplateTask['risk'] {
    const exempt = plan.def['Risk'] === 'Normal' || props['Risk'] === 'Normal';
    const kind = plan.info?.kind;
    if (kind === 'api' || kind === 'waitfor' || kind === 'checkfor') {
      const service = typeof props['Service'] === 'string' ? props['Service'] : undefined;
      const api = typeof props['API'] === 'string' ? props['API'] : undefined;
      const r: TemplateTask['risk'] = { highRisk: !exempt && kind === 'api' && api !== undefined && !api.includes('{{') && isHighRiskApi(api, this.riskPattern) };
      if (service !== undefined) r.service = service;
      if (api !== undefined) r.api = api;
      return r;
    }
    if (kind === 'product') return { highRisk: !exempt && isHighRiskApi(plan.action, this.riskPattern), api: plan.action };
    return { highRisk: false };
  }

  private retryPolicies(def: JsonObject, kind: TaskKind, pointer: string): RetryPolicy[] {
    let retries = kind === 'waitfor' ? DEFAULT_WAITFOR_RETRIES : 0;
    if (def['Retries'] !== undefined) {
      const n = intOf(def['Retries']);
      if (n === undefined || n < 0 || n > MAX_TASK_RETRIES) {
        this.problem(`${pointer}/Retries`, `must be an integer from 0 to ${MAX_TASK_RETRIES}, got ${JSON.stringify(def['Retries'])}`);
      } else retries = n;
    }
    const policies: RetryPolicy[] = [];
    if (kind === 'waitfor') {
      // A StopRetryValue ends polling: a rule with no attempts placed first matches it and wins.
      policies.push({ errors: [AcsErrorNames.WaitForStopped], matchAll: false, maxAttempts: 0, intervalMs: 0, backoffRate: 1, maxDelayMs: undefined });
    }
    if (retries <= 0) return policies;
    const delayType = typeof def['DelayType'] === 'string' ? def['DelayType'] : 'Exponential';
    const delay = typeof def['Delay'] === 'number' ? def['Delay'] : undefined;
    const maxDelayMs = typeof def['MaxRetryInterval'] === 'number' ? def['MaxRetryInterval'] * 1000 : undefined;
    const policy: RetryPolicy = {
      errors: [ErrorNames.All],
      matchAll: true,
      maxAttempts: retries,
      intervalMs: (delay ?? (delayType === 'Exponential' ? DEFAULT_EXPONENTIAL_DELAY_SECONDS : DEFAULT_RETRY_DELAY_SECONDS)) * 1000,
      backoffRate: delayType === 'Exponential' ? 2 : 1,
      maxDelayMs,
    };
    if (delayType === 'Linear') {
      // Delay + BackOff·(n−1).
      policy.linearIncrementMs = (typeof def['BackOff'] === 'number' ? def['BackOff'] : 0) * 1000;
    }
    policies.push(policy);
    return policies;
  }

  private sleepNode(plan: TaskPlan, props: JsonObject, next: number, catches: CatchRule[]): FlowNode {
    const at = `${plan.pointer}/Properties`;
    const base = { ...this.base0(plan.name, plan.mainNode), next, catch: catches };
    const duration = props['Duration'];
    const endDate = props['EndDate'];
    if ((duration === undefined) === (endDate === undefined)) {
      this.problem(at, 'ACS::Sleep needs exactly one of Duration (e.g. PT15M, 15m) and EndDate (a UTC time)');
      return { ...base, kind: 'Wait', seconds: 0, until: undefined, minSeconds: 0, maxSeconds: MAX_SLEEP_SECONDS };
    }
    if (duration !== undefined) {
      if (this.values.isStatic(duration)) {
        const seconds = parseDurationSeconds(duration);
        if (seconds === undefined || seconds < 1 || seconds > MAX_SLEEP_SECONDS) {
          this.problem(`${at}/Duration`, `must be a duration of 1 second to 1 year such as PT15M, 1H2M or 30s, got ${JSON.stringify(duration)}`);
        }
        return { ...base, kind: 'Wait', seconds: seconds ?? 0, until: undefined, minSeconds: 0, maxSeconds: MAX_SLEEP_SECONDS };
      }
      const value = this.values.compile(duration, `${at}/Duration`, this.site(false));
      const seconds = (scope: EvalScope): Json => {
        const v = value(this.env(scope));
        const s = parseDurationSeconds(v);
        if (s === undefined) throw oosError(OosErrorNames.Sleep, `ACS::Sleep '${plan.name}': Duration ${JSON.stringify(v)} is not a duration such as PT15M or 30s`);
        return s;
      };
      return { ...base, kind: 'Wait', seconds, until: undefined, minSeconds: 0, maxSeconds: MAX_SLEEP_SECONDS };
    }
    if (this.values.isStatic(endDate)) {
      const ms = parseUtc(endDate);
      if (ms === undefined) this.problem(`${at}/EndDate`, `must be a UTC time such as 2026-01-01T00:00:00Z, got ${JSON.stringify(endDate)}`);
      return { ...base, kind: 'Wait', seconds: undefined, until: formatUtc(ms ?? 0), minSeconds: 0, maxSeconds: MAX_SLEEP_SECONDS };
    }
    const value = this.values.compile(endDate, `${at}/EndDate`, this.site(false));
    const until = (scope: EvalScope): Json => {
      const v = value(this.env(scope));
      const ms = parseUtc(v);
      if (ms === undefined) throw oosError(OosErrorNames.Sleep, `ACS::Sleep '${plan.name}': EndDate ${JSON.stringify(v)} is not a UTC time`);
      return new Date(ms).toISOString();
    };
    return { ...base, kind: 'Wait', seconds: undefined, until, minSeconds: 0, maxSeconds: MAX_SLEEP_SECONDS };
  }

  private choiceNode(plan: TaskPlan, props: JsonObject, catches: CatchRule[]): FlowNode {
    const at = `${plan.pointer}/Properties`;
    const choices = props['Choices'];
    const branches: ChoiceBranch[] = [];
    if (!Array.isArray(choices) || choices.length === 0) {
      this.problem(at, 'ACS::Choice needs Choices: a list of {When, NextTask}');
    } else {
      choices.forEach((c, i) => {
        const cp = `${at}/Choices/${i}`;
        if (!isJsonObject(c) || c['When'] === undefined || c['NextTask'] === undefined) {
          this.problem(cp, 'each choice needs When (a condition) and NextTask (a task name or ACS::END)');
          return;
        }
        const when = this.values.compile(c['When'], `${cp}/When`, this.site(false));
        const name = plan.name;
        branches.push({
          condition: (scope) => toBoolean(when(this.env(scope)), `choice ${i} of task '${name}'`),
          next: this.target(c['NextTask'], plan, `${cp}/NextTask`),
        });
      });
    }
    const fallback = props['DefaultTask'] === undefined ? this.nextEntry(plan) : this.target(props['DefaultTask'], plan, `${at}/DefaultTask`);
    return { ...this.base0(plan.name, plan.mainNode), kind: 'Choice', branches, default: fallback, catch: catches };
  }

  private loopNode(
    plan: TaskPlan,
    loopDef: JsonObject,
    info: ActionInfo,
    parameters: (scope: EvalScope) => Json,
    outputs: CompiledOutput[],
    retry: RetryPolicy[],
    next: number,
    catches: CatchRule[],
  ): MapNode {
    const { name, pointer } = plan;
    const at = `${pointer}/Loop`;
    const items = this.values.compile(loopDef['Items'], `${at}/Items`, this.site(false));
    if (Array.isArray(loopDef['Items']) && loopDef['Items'].length > MAX_LOOP_ITEMS) this.problem(`${at}/Items`, `a loop runs over at most ${MAX_LOOP_ITEMS} items`);
    const rate = this.rateControl(loopDef, at);
    const aggregates = this.aggregates(loopDef, at, outputs);

    const readItems = (scope: EvalScope): Json[] => {
      let v = items(this.env(scope));
      if (typeof v === 'string' && /^\s*\[/.test(v)) {
        try {
          v = JSON.parse(v) as Json;
        } catch {
          /* reported below */
        }
      }
      if (!Array.isArray(v)) throw oosError(OosErrorNames.LoopItems, `Loop.Items of task '${name}' must be a list, got ${jsonTypeName(v)}`);
      if (v.length > MAX_LOOP_ITEMS) throw oosError(OosErrorNames.LoopItems, `Loop.Items of task '${name}' has ${v.length} items; a loop runs over at most ${MAX_LOOP_ITEMS}`);
      return v;
    };

    // The processor: the task per item, failures caught so MaxErrors can tolerate them.
    const memo = new WeakMap<EvalScope, JsonObject>();
    const compute = (scope: EvalScope): JsonObject => {
      let out = memo.get(scope);
      if (!out) {
        out = this.computeOutputs(name, outputs, scope.output ?? null, this.env(scope, this.loopItemOf(scope)));
        memo.set(scope, out);
      }
      return out;
    };
    const processorId = this.scopes.length;
    const itemFailed = itemFailedNodeName(name);
    const processor: ScopeGraph = {
      id: processorId,
      start: 0,
      nodes: [
        {
          ...this.base0(name, 0),
          next: -1,
          kind: 'Task',
          action: info.engineAction ?? plan.action,
          mode: info.mode,
          parameters,
          timeoutMs: undefined,
          output: (scope) => ({ Item: this.loopItemOf(scope).value, Status: 'Success', Outputs: compute(scope) }),
          retry,
          catch: [
            {
              errors: [ErrorNames.All],
              matchAll: true,
              next: 1,
              output: (scope) => {
                const current = scope.context()['Current'];
                const error = isJsonObject(current) && isJsonObject(current['Error']) ? current['Error'] : {};
                return { Item: this.loopItemOf(scope).value, Status: 'Failed', Error: { Code: error['Code'] ?? null, Detail: error['Detail'] ?? null } };
              },
            },
          ],
        },
        { ...this.base0(itemFailed, 1), next: -1, kind: 'Pass' },
      ],
    };
    this.scopes.push(processor);

    const results = (scope: EvalScope): JsonObject[] => {
      const out = scope.output;
      const list = isJsonObject(out) && Array.isArray(out['Items']) ? out['Items'] : [];
      return list.map((r) => (isJsonObject(r) ? r : {}));
    };
    const counters = (scope: EvalScope): JsonObject => {
      const rs = results(scope);
      const failed = rs.filter((r) => r['Status'] === 'Failed').length;
      const success = rs.filter((r) => r['Status'] === 'Success').length;
      return { Total: rs.length, Success: success, Failed: failed };
    };

    const node: MapNode = {
      ...this.base0(name, plan.mainNode),
      kind: 'Map',
      items: (scope) => readItems(scope).map((item) => ({ [LOOP_ITEM_KEY]: item })),
      processor,
      maxConcurrency: rate.staticConcurrency ?? DEFAULT_LOOP_CONCURRENCY,
      output: (scope) => {
        const c = counters(scope);
        const total = c['Total'] as number;
        const failed = c['Failed'] as number;
        const tolerated = resolveMaxErrors(rate.maxErrors(this.env(scope)), total);
        if (failed > tolerated) {
          const first = results(scope).find((r) => r['Status'] === 'Failed');
          const err = first && isJsonObject(first['Error']) ? first['Error'] : {};
          const notStarted = total - failed - (c['Success'] as number);
          throw oosError(
            OosErrorNames.LoopMaxErrors,
            `${failed} of ${total} iterations of task '${name}' failed (MaxErrors ${tolerated})${notStarted > 0 ? `; ${notStarted} not started` : ''}; first failure: item ${JSON.stringify(first?.['Item'] ?? null)}: ${String(err['Code'] ?? '')}: ${String(err['Detail'] ?? '')}`,
          );
        }
        return c;
      },
      // past MaxErrors no further item starts; those in flight finish (oos.md's recommendation)
      tolerance: {
        failed: (result) => result['Status'] === 'Failed',
        max: (scope, count) => resolveMaxErrors(rate.maxErrors(this.env(scope)), count),
      },
      global: (scope) => {
        const rs = results(scope);
        const ok = rs.filter((r) => r['Status'] === 'Success');
        const g: JsonObject = { [statusKey(name)]: 'Success', [loopKey(name)]: counters(scope) };
        // Each per-item output, as a list in item order (failed items left out).
        for (const o of outputs) g[outputKey(name, o.name)] = ok.map((r) => (isJsonObject(r['Outputs']) ? (r['Outputs'][o.name] ?? null) : null));
        for (const a of aggregates) {
          const values = ok.map((r) => (isJsonObject(r['Outputs']) ? (r['Outputs'][a.field] ?? null) : null));
          g[outputKey(name, a.name)] = a.reduce(values);
        }
        return g;
      },
      next,
      catch: catches,
    };
    if (rate.dynamicConcurrency) {
      const dyn = rate.dynamicConcurrency;
      node.dynamicConcurrency = (scope, count) => resolveConcurrency(dyn(this.env(scope)), count);
    }
    const batches = this.batchPlan(loopDef, at);
    if (batches) node.batches = (scope, count) => batches(this.env(scope), count);
    return node;
  }

  /**
   * Batch mode (`RateControl.Mode: Batch`): the batches of a loop, known when it starts. Undefined
   * when the loop cannot be in Batch mode (no RateControl, or a literal one of another mode).
   */
  private batchPlan(loopDef: JsonObject, at: string): ((env: OosEnv, count: number) => MapBatches | undefined) | undefined {
    const rc = loopDef['RateControl'];
    if (rc === undefined || (isJsonObject(rc) && rc['Mode'] !== 'Batch')) return undefined;
    if (isJsonObject(rc) && this.values.isStatic(rc)) {
      for (const p of batchProblems(rc)) this.problem(`${at}/RateControl/${p.key}`, p.message);
    }
    const whole = this.values.compile(rc, `${at}/RateControl`, this.site(false));
    return (env, count) => {
      const v = whole(env);
      if (!isJsonObject(v)) throw oosError(OosErrorNames.RateControl, `Loop.RateControl must be a mapping, got ${jsonTypeName(v)}`);
      return v['Mode'] === 'Batch' ? resolveBatches(v, count) : undefined;
    };
  }

  /** Concurrency and MaxErrors of a loop: RateControl (literal or a reference) or legacy keys. */
  private rateControl(loopDef: JsonObject, at: string): { staticConcurrency: number | undefined; dynamicConcurrency: OosValue | undefined; maxErrors: OosValue } {
    const rc = loopDef['RateControl'];
    const legacyConcurrency = loopDef['Concurrency'];
    const legacyMaxErrors = loopDef['MaxErrors'];
    const items = loopDef['Items'];
    const itemCount = Array.isArray(items) ? items.length : undefined;
    const checkCount = (value: unknown, pointer: string, what: string): void => {
      if (value === undefined || !this.values.isStatic(value)) return;
      const c = countOrPercent(value as Json);
      if (!c || (what === 'Concurrency' && !c.percent && c.n < 1) || (c.percent && c.n > 100)) {
        this.problem(pointer, `${what} must be ${what === 'Concurrency' ? 'a positive integer' : 'an integer ≥ 0'} or a percentage such as "20%", got ${JSON.stringify(value)}`);
      }
    };
    if (rc === undefined || isJsonObject(rc)) {
      const obj = rc ?? {};
      if (isJsonObject(rc)) {
        for (const key of Object.keys(rc)) {
          if (!['Mode', 'MaxErrors', 'Concurrency', 'Batch', 'ConcurrencyInBatches', 'BatchPauseOption'].includes(key)) this.problem(`${at}/RateControl/${escapePointer(key)}`, `unknown RateControl key '${key}' (Mode, Concurrency, MaxErrors, Batch, ConcurrencyInBatches, BatchPauseOption)`);
        }
        if (rc['Mode'] !== undefined && rc['Mode'] !== 'Concurrency' && rc['Mode'] !== 'Batch') this.problem(`${at}/RateControl/Mode`, `must be Concurrency or Batch, got ${JSON.stringify(rc['Mode'])}`);
      }
      const concurrencyRaw = obj['Mode'] === 'Batch' ? batchConcurrency(obj) : (obj['Concurrency'] ?? legacyConcurrency);
      const maxErrorsRaw = obj['MaxErrors'] ?? legacyMaxErrors;
      checkCount(obj['Concurrency'] !== undefined ? obj['Concurrency'] : legacyConcurrency, `${at}${obj['Concurrency'] !== undefined ? '/RateControl' : ''}/Concurrency`, 'Concurrency');
      checkCount(maxErrorsRaw, `${at}${obj['MaxErrors'] !== undefined ? '/RateControl' : ''}/MaxErrors`, 'MaxErrors');
      const maxErrors = this.values.compile(maxErrorsRaw ?? 0, `${at}/MaxErrors`, this.site(false));
      if (concurrencyRaw === undefined) return { staticConcurrency: DEFAULT_LOOP_CONCURRENCY, dynamicConcurrency: undefined, maxErrors };
      if (this.values.isStatic(concurrencyRaw)) {
        const c = countOrPercent(concurrencyRaw as Json);
        if (c && !c.percent) return { staticConcurrency: Math.min(MAX_LOOP_CONCURRENCY, Math.max(1, c.n)), dynamicConcurrency: undefined, maxErrors };
        if (c && c.percent && itemCount !== undefined) return { staticConcurrency: resolveConcurrency(concurrencyRaw as Json, itemCount), dynamicConcurrency: undefined, maxErrors };
      }
      const dynamic = this.values.compile(concurrencyRaw, `${at}/Concurrency`, this.site(false));
      return { staticConcurrency: undefined, dynamicConcurrency: dynamic, maxErrors };
    }
    // RateControl: '{{ rateControl }}' — known only when the execution runs.
    const whole = this.values.compile(rc, `${at}/RateControl`, this.site(false));
    const field = (key: string, fallback: Json | undefined): OosValue => (env) => {
      const v = whole(env);
      if (!isJsonObject(v)) throw oosError(OosErrorNames.RateControl, `Loop.RateControl must be a mapping, got ${jsonTypeName(v)}`);
      if (key === 'Concurrency' && v['Mode'] === 'Batch') return batchConcurrency(v) ?? DEFAULT_BATCH_CONCURRENCY;
      return (v[key] ?? fallback ?? null) as Json;
    };
    return {
      staticConcurrency: undefined,
      dynamicConcurrency: field('Concurrency', (legacyConcurrency as Json | undefined) ?? DEFAULT_LOOP_CONCURRENCY),
      maxErrors: field('MaxErrors', (legacyMaxErrors as Json | undefined) ?? 0),
    };
  }

  private aggregates(loopDef: JsonObject, at: string, outputs: CompiledOutput[]): { name: string; field: string; reduce: (values: Json[]) => Json }[] {
    const defs = loopDef['Outputs'];
    if (!isJsonObject(defs)) return [];
    const out: { name: string; field: string; reduce: (values: Json[]) => Json }[] = [];
    for (const [name, raw] of Object.entries(defs)) {
      const p = `${at}/Outputs/${escapePointer(name)}`;
      if (!isJsonObject(raw)) continue;
      const type = String(raw['AggregateType'] ?? '');
      const reducer = AGGREGATORS[type];
      if (!reducer) this.problem(`${p}/AggregateType`, `unknown aggregate ${JSON.stringify(type)}; use one of ${Object.keys(AGGREGATORS).join(', ')}`);
      const field = String(raw['AggregateField'] ?? '');
      const declared = findName(field, outputs.map((o) => o.name));
      if (declared === undefined) {
        this.problem(`${p}/AggregateField`, `the task has no output '${field}'${outputs.length > 0 ? ` (its outputs: ${outputs.map((o) => o.name).join(', ')})` : ' (declare it under the task Outputs)'}`);
      }
      const reduce = reducer ?? ((v: Json[]) => v);
      out.push({
        name,
        field: declared ?? field,
        reduce: (values) => {
          try {
            return reduce(values);
          } catch (err) {
            throw oosError(OosErrorNames.Function, `loop output '${name}' (${type}): ${(err as Error).message}`);
          }
        },
      });
    }
    return out;
  }

  private endNodeOf(): FlowNode {
    const defs = isJsonObject(this.doc['Outputs']) ? this.doc['Outputs'] : {};
    const compiled: { name: string; type: OutputType; value: OosValue }[] = [];
    for (const [name, raw] of Object.entries(defs)) {
      if (!isJsonObject(raw)) continue;
      const type = (typeof raw['Type'] === 'string' ? raw['Type'] : 'String') as OutputType;
      const value = this.values.compile(raw['Value'], `/Outputs/${escapePointer(name)}/Value`, { loopItem: false, rawTaskPaths: true, tasks: true });
      compiled.push({ name, type, value });
    }
    this.rootRoles.set(END_NODE_NAME, { task: undefined, role: 'end' });
    return {
      ...this.base0(END_NODE_NAME, this.endNode),
      kind: 'Pass',
      next: -1,
      output: (scope) => {
        const env = this.env(scope);
        const out: JsonObject = {};
        for (const o of compiled) {
          let v: Json;
          try {
            v = o.value(env);
          } catch (err) {
            // An output naming a task that never ran (skipped, other Choice branch) is null.
            if (err instanceof TaskNotRunError) v = null;
            else throw err;
          }
          out[o.name] = toOutputType(v, o.type, `template output '${o.name}'`);
        }
        return out;
      },
    };
  }
}

export const BATCH_PAUSE_OPTIONS: readonly string[] = ['Automatic', 'FirstBatchPause', 'EveryBatchPause'];

/**
 * The batches of a Batch-mode RateControl over `count` items. `Batch` sizes are counts or
 * percentages of the items (rounded up, at least 1); when they do not cover every item the last
 * size repeats (UNCONFIRMED); without `Batch` all items are one batch. `ConcurrencyInBatches[i]`
 * (a count, or a percentage of that batch, rounded up) is batch i's concurrency; missing entries
 * repeat the last one, default 20. `BatchPauseOption` says before which batches the execution
 * waits (FirstBatchPause: the second; EveryBatchPause: every one after the first).
 */
export function resolveBatches(rc: JsonObject, count: number): MapBatches {
  const problem = batchProblems(rc)[0];
  if (problem) throw oosError(OosErrorNames.RateControl, `RateControl.${problem.message}`);
  const list = (key: string): Json[] | undefined => (Array.isArray(rc[key]) ? rc[key] : undefined);
  // entries are valid (above): counts, or percentages of `of` rounded up; at least 1
  const amount = (v: Json, of: number): number => {
    const c = countOrPercent(v) as { n: number; percent: boolean };
    return Math.max(1, c.percent ? Math.ceil((of * c.n) / 100) : c.n);
  };
  const sizes = (list('Batch') ?? [Math.max(1, count)]).map((v) => amount(v, count));
  const rawConcurrency = list('ConcurrencyInBatches') ?? [DEFAULT_BATCH_CONCURRENCY];
  const at = <T>(items: T[], i: number): T => items[Math.min(i, items.length - 1)] as T;
  const concurrency = Array.from({ length: Math.max(sizes.length, rawConcurrency.length) }, (_, i) => Math.min(MAX_LOOP_CONCURRENCY, amount(at(rawConcurrency, i), at(sizes, i))));
  return { sizes, concurrency, pause: batchPause(typeof rc['BatchPauseOption'] === 'string' ? rc['BatchPauseOption'] : 'Automatic') };
}

/** What is wrong with the Batch keys of a RateControl (each with its key): checked statically and when a loop starts. */
function batchProblems(rc: JsonObject): { key: string; message: string }[] {
  const out: { key: string; message: string }[] = [];
  for (const key of ['Batch', 'ConcurrencyInBatches']) {
    const list = rc[key];
    if (list === undefined || list === null) continue;
    const bad = !Array.isArray(list) || list.length === 0 || list.some((v) => {
      const c = countOrPercent(v);
      return !c || c.n <= 0 || (c.percent && c.n > 100) || (!c.percent && !Number.isInteger(c.n));
    });
    if (bad) out.push({ key, message: `${key} must be a non-empty list of positive integers or percentages such as "20%", got ${JSON.stringify(list)}` });
  }
  const option = rc['BatchPauseOption'];
  if (option !== undefined && option !== null && (typeof option !== 'string' || !BATCH_PAUSE_OPTIONS.includes(option))) {
    out.push({ key: 'BatchPauseOption', message: `BatchPauseOption must be one of ${BATCH_PAUSE_OPTIONS.join(', ')}, got ${JSON.stringify(option)}` });
  }
  return out;
}

/** Where a loop in batches pauses, for a BatchPauseOption or LoopMode. */
export function batchPause(option: string): MapBatches['pause'] {
  return option === 'FirstBatchPause' ? 'first' : option === 'EveryBatchPause' ? 'every' : 'none';
}

/** Both pause settings together: a pause either asks for is made. */
export function strongerPause(a: MapBatches['pause'], b: MapBatches['pause']): MapBatches['pause'] {
  return a === 'every' || b === 'every' ? 'every' : a === 'first' || b === 'first' ? 'first' : 'none';
}

function batchConcurrency(rc: JsonObject): Json | undefined {
  const list = rc['ConcurrencyInBatches'];
  if (Array.isArray(list) && list.length > 0) {
    const numbers = list.filter((x): x is number => typeof x === 'number');
    return numbers.length > 0 ? Math.max(...numbers) : DEFAULT_BATCH_CONCURRENCY;
  }
  return DEFAULT_BATCH_CONCURRENCY;
}

function actionHint(action: string): string {
  const lower = action.toLowerCase();
  const names = Object.keys(ATOMIC);
  const near = names.find((n) => n.replace('acs::', '').startsWith(lower.replace(/^acs::/, '').slice(0, 4)));
  const canonical = (n: string): string => Object.values(AcsActions).find((a) => a.toLowerCase() === n) ?? (n === 'acs::sleep' ? 'ACS::Sleep' : n === 'acs::choice' ? 'ACS::Choice' : n);
  return `${near ? `. Did you mean '${canonical(near)}'?` : ''} (atomic actions: ${names.map(canonical).join(', ')}; product actions are ACS::<Product>::<Name>)`;
}

// ---------------------------------------------------------------------------------------------
// Entry points

interface Analysis {
  problems: Problem[];
  template?: CompiledTemplate;
}

function envBaseOf(name: string, options: CompileTemplateOptions): EnvBase {
  const clock = options.clock ?? systemClock;
  const base: EnvBase = {
    templateName: name,
    regionId: options.regionId ?? DEFAULT_REGION_ID,
    accountId: options.accountId ?? DEFAULT_ACCOUNT_ID,
    executeUser: options.executeUser ?? DEFAULT_EXECUTE_USER,
    now: () => clock.now(),
  };
  if (options.parameterStore) base.parameterStore = options.parameterStore;
  return base;
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.pointer}\n${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function analyze(document: unknown, options: CompileTemplateOptions, format: TemplateFormat | undefined): Analysis {
  const problems: Problem[] = [...schemaProblems(document)];
  const name = options.name ?? 'template';
  if (options.name !== undefined) problems.push(...validateTemplateName(options.name).map((message) => ({ pointer: '', message: `template name: ${message}` })));
  if (!isJsonObject(document)) return { problems: dedupe(problems) };
  const base = envBaseOf(name, options);
  const compiler = new TemplateCompiler(document, base, options.highRiskApiPattern ?? DEFAULT_HIGH_RISK_API_PATTERN);
  let root: ScopeGraph;
  try {
    root = compiler.compile();
  } catch (err) {
    // A shape the schema already reported made the compiler stumble: report what we have.
    if (problems.length > 0) return { problems: dedupe([...problems, ...compiler.problems]) };
    throw err;
  }
  problems.push(...compiler.problems);
  if (problems.length > 0) return { problems: dedupe(problems) };
  const flow: CompiledFlow = {
    name,
    mode: 'Standard',
    description: typeof document['Description'] === 'string' ? document['Description'] : isJsonObject(document['Description']) && typeof document['Description']['en'] === 'string' ? document['Description']['en'] : undefined,
    root,
    scopes: compiler.scopes,
    source: document,
  };
  const rootRoles = compiler.rootRoles;
  const itemRoles = compiler.itemRoles;
  const template: CompiledTemplate = {
    name,
    format,
    document,
    flow,
    parameters: compiler.parameters,
    tasks: compiler.tasks,
    outputs: isJsonObject(document['Outputs']) ? Object.keys(document['Outputs']) : [],
    roleOf: (step, depth) => (depth === 0 ? rootRoles.get(step) : itemRoles.get(step)),
    parameterChecker: new ParameterChecker(compiler.parameters),
    envBase: base,
  };
  return { problems: [], template };
}

/** Every problem of a template document (schema, semantics, references); empty = valid. */
export function validateTemplate(document: unknown, options: CompileTemplateOptions = {}): Problem[] {
  return analyze(document, options, undefined).problems;
}

/** Compiles a template document. Throws TemplateDefinitionError (code TemplateValidationError). */
export function compileTemplate(document: unknown, options: CompileTemplateOptions = {}): CompiledTemplate {
  const { problems, template } = analyze(document, options, undefined);
  if (!template) throw new TemplateDefinitionError(problems, options.name ? `template '${options.name}'` : 'the template');
  return template;
}

/** Parses (JSON or YAML, ≤ 64 KB), validates and compiles template content. */
export function loadTemplateText(content: string, options: CompileTemplateOptions = {}): CompiledTemplate {
  const parsed = parseTemplateText(content);
  const what = options.name ? `template '${options.name}'` : 'the template';
  if (!parsed.ok) throw new TemplateDefinitionError(parsed.problems, what);
  const { problems, template } = analyze(parsed.document, options, parsed.format);
  if (!template) throw new TemplateDefinitionError(problems, what);
  return template;
}

/** Problems of template content (parse errors included); empty = valid. */
export function validateTemplateText(content: string, options: CompileTemplateOptions = {}): Problem[] {
  const parsed = parseTemplateText(content);
  if (!parsed.ok) return parsed.problems;
  return analyze(parsed.document, options, parsed.format).problems;
}

/**
 * Checks StartExecution parameters against a compiled template: applies Defaults (which may use
 * pseudo parameters), coerces, validates. The result is the execution input for `runExecution`.
 * Throws FlowrunError MissingExecutionParameter / UnknownExecutionParameter / TemplateValidationError.
 */
export function checkParameters(template: CompiledTemplate, parameters: unknown, executionId = ''): JsonObject {
  const env: OosEnv = { ...template.envBase, parameters: {}, global: {}, executionId };
  return template.parameterChecker.check(parameters, env);
}

export { normalizeSelector, TEMPLATE_NAME_PATTERN };
