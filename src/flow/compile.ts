/**
 * FDL front end: validated definition → CompiledFlow. Every expression is compiled here, once;
 * every problem (schema, semantics, expressions, task parameters) is reported together.
 */
import {
  compileCondition,
  compileConstructor,
  compileExpression,
  compileValueTemplate,
  ConstructorError,
  ExpressionSyntaxError,
  isDynamic,
} from './expr/index.js';
import type { EvalScope, Evaluator } from './expr/index.js';
import { END } from './graph.js';
import type {
  CatchRule,
  CompiledFlow,
  ExecutionMode,
  FlowNode,
  ObjectBuilder,
  RetryPolicy,
  ScopeGraph,
  TaskMode,
  ValueBuilder,
} from './graph.js';
import { validateDefinition } from './validate.js';
import type { Problem } from './validate.js';
import { ErrorNames, FlowrunError } from '../shared/errors.js';
import { isJsonObject } from '../shared/json.js';
import type { Json, JsonObject } from '../shared/json.js';
import { EXPRESS_WAIT_SECONDS, MAX_MAP_CONCURRENCY, DEFAULT_MAP_CONCURRENCY, STANDARD_WAIT_SECONDS } from '../shared/limits.js';

/** Checks a Task's action and Parameters template; returns sentences (the task engine provides it). */
export type TaskChecker = (action: string, parameters: Json) => string[];

export interface CompileOptions {
  /** Execution mode; default: the document's `ExecutionMode`, else Express. */
  mode?: ExecutionMode;
  /** Name to use when the document has none (e.g. the file name). */
  defaultName?: string;
  /** Validates Task actions and their parameters at compile time. */
  checkTask?: TaskChecker;
}

/** A definition that cannot be compiled; `problems` lists every reason with a JSON pointer. */
export class FlowDefinitionError extends FlowrunError {
  readonly problems: Problem[];
  constructor(problems: Problem[], fileName?: string) {
    const where = fileName ? `${fileName}: ` : '';
    const lines = problems.map((p) => `  ${p.pointer || '/'}: ${p.message}`);
    super('InvalidArgument', `${where}the flow definition has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${lines.join('\n')}`);
    this.name = 'FlowDefinitionError';
    this.problems = problems;
  }
}

/** Default Map/Parallel Catch output and Catch default: the error itself. */
const errorAsOutput: ObjectBuilder = (scope): JsonObject => {
  const current = scope.context()['Current'];
  const error = isJsonObject(current) ? current['Error'] : undefined;
  if (!isJsonObject(error)) return {};
  return { Code: error['Code'] ?? null, Detail: error['Detail'] ?? null };
};

class Compiler {
  readonly problems: Problem[] = [];
  readonly scopes: ScopeGraph[] = [];

  constructor(
    private readonly mode: ExecutionMode,
    private readonly checkTask: TaskChecker | undefined,
  ) {}

  problem(pointer: string, message: string): void {
    this.problems.push({ pointer, message });
  }

  expression(source: unknown, pointer: string, allowOutput = false): Evaluator | undefined {
    if (typeof source !== 'string') {
      this.problem(pointer, 'must be an expression string');
      return undefined;
    }
    try {
      return compileExpression(source, { allowOutput });
    } catch (err) {
      this.problem(pointer, err instanceof ExpressionSyntaxError ? err.message : String(err));
      return undefined;
    }
  }

  constructorOf(template: unknown, pointer: string, allowOutput: boolean): ObjectBuilder | undefined {
    if (template === undefined) return undefined;
    if (!isJsonObject(template)) {
      this.problem(pointer, 'must be an object');
      return undefined;
    }
    try {
      return compileConstructor(template, { allowOutput });
    } catch (err) {
      if (err instanceof ConstructorError) {
        for (const p of err.problems) this.problem(pointer + p.pointer, p.message);
      } else {
        this.problem(pointer, err instanceof Error ? err.message : String(err));
      }
      return undefined;
    }
  }

  scope(def: JsonObject, pointer: string): ScopeGraph {
    const id = this.scopes.length;
    const nodes: FlowNode[] = [];
    const scope: ScopeGraph = { id, start: 0, nodes };
    this.scopes.push(scope);
    const states = Array.isArray(def['States']) ? def['States'] : [];
    const index = new Map<string, number>();
    states.forEach((s, i) => {
      if (isJsonObject(s) && typeof s['Name'] === 'string' && !index.has(s['Name'])) index.set(s['Name'], i);
    });
    const target = (name: unknown, at: string): number => {
      const i = typeof name === 'string' ? index.get(name) : undefined;
      if (i === undefined) {
        // The validator reports missing targets; keep compiling.
        if (!this.problems.some((p) => p.pointer === at)) this.problem(at, `no state named ${JSON.stringify(name)} in this scope`);
        return END;
      }
      return i;
    };
    scope.start = target(def['StartAt'], `${pointer}/StartAt`);
    states.forEach((s, i) => {
      const at = `${pointer}/States/${i}`;
      if (isJsonObject(s)) nodes.push(this.node(s, i, at, target));
    });
    return scope;
  }

  retry(rules: unknown): RetryPolicy[] {
    if (!Array.isArray(rules)) return [];
    return rules.filter(isJsonObject).map((r) => {
      const errors = stringArray(r['Errors']);
      const interval = num(r['IntervalSeconds'], 1);
      const maxBackoff = r['MaxBackoffSeconds'];
      return {
        errors,
        matchAll: errors.includes(ErrorNames.All),
        maxAttempts: num(r['MaxAttempts'], 3),
        intervalMs: interval * 1000,
        backoffRate: num(r['BackoffRate'], 1),
        maxDelayMs: typeof maxBackoff === 'number' ? maxBackoff * 1000 : undefined,
      } satisfies RetryPolicy;
    });
  }

  catchRules(rules: unknown, at: string, target: (name: unknown, at: string) => number): CatchRule[] {
    if (!Array.isArray(rules)) return [];
    const out: CatchRule[] = [];
    rules.forEach((r, i) => {
      if (!isJsonObject(r)) return;
      const errors = stringArray(r['Errors']);
      out.push({
        errors,
        matchAll: errors.includes(ErrorNames.All),
        next: target(r['Next'], `${at}/${i}/Next`),
        output: this.constructorOf(r['OutputConstructor'], `${at}/${i}/OutputConstructor`, false) ?? errorAsOutput,
      });
    });
    return out;
  }

  /** Legacy `OnErrors`: rules with `Next` catch, rules with `Retry` retry. */
  onErrors(rules: unknown, at: string, target: (name: unknown, at: string) => number): { retry: RetryPolicy[]; catch: CatchRule[] } {
    const retry: RetryPolicy[] = [];
    const catches: CatchRule[] = [];
    if (!Array.isArray(rules)) return { retry, catch: catches };
    rules.forEach((r, i) => {
      if (!isJsonObject(r)) return;
      const errors = stringArray(r['Errors']);
      const matchAll = errors.includes(ErrorNames.All);
      if (r['Next'] !== undefined) {
        catches.push({
          errors,
          matchAll,
          next: target(r['Next'], `${at}/${i}/Next`),
          output: this.constructorOf(r['OutputConstructor'], `${at}/${i}/OutputConstructor`, false) ?? errorAsOutput,
        });
      } else if (isJsonObject(r['Retry'])) {
        const rr = r['Retry'];
        retry.push({
          errors,
          matchAll,
          maxAttempts: num(rr['MaxAttempts'], 3),
          intervalMs: num(rr['FixedBackoff'], 1) * 1000,
          backoffRate: num(rr['Multiplier'], 1),
          maxDelayMs: undefined,
        });
      }
    });
    return { retry, catch: catches };
  }

  node(s: JsonObject, index: number, at: string, target: (name: unknown, at: string) => number): FlowNode {
    const name = typeof s['Name'] === 'string' ? s['Name'] : `#${index}`;
    const legacy = this.onErrors(s['OnErrors'], `${at}/OnErrors`, target);
    const base = {
      name,
      index,
      input: this.constructorOf(s['InputConstructor'], `${at}/InputConstructor`, false),
      output: this.constructorOf(s['OutputConstructor'], `${at}/OutputConstructor`, true),
      global: this.constructorOf(s['GlobalConstructor'], `${at}/GlobalConstructor`, true),
      next: s['End'] === true || s['Next'] === undefined ? END : target(s['Next'], `${at}/Next`),
      retry: [...this.retry(s['Retry']), ...legacy.retry],
      catch: [...this.catchRules(s['Catch'], `${at}/Catch`, target), ...legacy.catch],
    };
    switch (s['Type']) {
      case 'Pass':
        return { ...base, kind: 'Pass' };
      case 'Succeed':
        return { ...base, kind: 'Succeed', next: END };
      case 'Fail':
        return {
          ...base,
          kind: 'Fail',
          next: END,
          code: typeof s['Code'] === 'string' && s['Code'] !== '' ? s['Code'] : ErrorNames.Failed,
          detail: typeof s['Detail'] === 'string' ? s['Detail'] : '',
        };
      case 'Task':
        return this.task(s, base, at);
      case 'Wait':
        return this.wait(s, base, at);
      case 'Choice': {
        const branches = Array.isArray(s['Branches']) ? s['Branches'] : [];
        return {
          ...base,
          kind: 'Choice',
          next: END,
          branches: branches.filter(isJsonObject).map((b, i) => {
            let condition: (scope: EvalScope) => boolean = () => false;
            if (typeof b['Condition'] === 'string') {
              try {
                condition = compileCondition(b['Condition']);
              } catch (err) {
                this.problem(`${at}/Branches/${i}/Condition`, err instanceof Error ? err.message : String(err));
              }
            } else {
              this.problem(`${at}/Branches/${i}/Condition`, 'must be a condition string');
            }
            return { condition, next: target(b['Next'], `${at}/Branches/${i}/Next`) };
          }),
          default: target(s['Default'], `${at}/Default`),
        };
      }
      case 'Parallel': {
        const branches = Array.isArray(s['Branches']) ? s['Branches'] : [];
        return {
          ...base,
          kind: 'Parallel',
          branches: branches.filter(isJsonObject).map((b, i) => this.scope(b, `${at}/Branches/${i}`)),
        };
      }
      case 'Map': {
        const processor = isJsonObject(s['Processor']) ? s['Processor'] : {};
        const concurrency = s['MaxConcurrency'] ?? s['MaxConcuccency'];
        const limit = typeof concurrency === 'number' && concurrency > 0 ? Math.min(concurrency, MAX_MAP_CONCURRENCY) : DEFAULT_MAP_CONCURRENCY;
        return {
          ...base,
          kind: 'Map',
          items: this.expression(s['ItemsPath'], `${at}/ItemsPath`) ?? (() => null),
          processor: this.scope(processor, `${at}/Processor`),
          maxConcurrency: limit,
        };
      }
      default:
        // The validator reports unknown kinds; compile as Pass so every other problem is still found.
        return { ...base, kind: 'Pass' };
    }
  }

  task(s: JsonObject, base: Omit<FlowNode, 'kind'>, at: string): FlowNode {
    const action = typeof s['Action'] === 'string' ? s['Action'] : '';
    const params = s['Parameters'];
    let parameters: ValueBuilder | undefined;
    if (params !== undefined) {
      try {
        parameters = isDynamic(params) ? compileValueTemplate(params, { allowOutput: false }) : constantValue(params);
      } catch (err) {
        if (err instanceof ConstructorError) {
          for (const p of err.problems) this.problem(`${at}/Parameters${p.pointer}`, p.message);
        } else this.problem(`${at}/Parameters`, err instanceof Error ? err.message : String(err));
      }
    }
    if (this.checkTask && action) {
      for (const message of this.checkTask(action, params ?? {})) this.problem(`${at}/Parameters`, message);
    }
    const timeout = s['Timeout'];
    const seconds = typeof timeout === 'number' ? timeout : typeof timeout === 'string' && timeout.trim() !== '' ? Number(timeout) : undefined;
    if (seconds !== undefined && !(Number.isFinite(seconds) && seconds > 0)) this.problem(`${at}/Timeout`, 'must be a positive number of seconds');
    const mode = (typeof s['TaskMode'] === 'string' ? s['TaskMode'] : 'RequestComplete') as TaskMode;
    return {
      ...base,
      kind: 'Task',
      action,
      mode,
      parameters,
      timeoutMs: seconds !== undefined && Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined,
    };
  }

  wait(s: JsonObject, base: Omit<FlowNode, 'kind'>, at: string): FlowNode {
    const range = this.mode === 'Express' ? EXPRESS_WAIT_SECONDS : STANDARD_WAIT_SECONDS;
    let seconds: number | Evaluator | undefined;
    if (typeof s['Seconds'] === 'number') seconds = s['Seconds'];
    else if (s['Seconds.$'] !== undefined) seconds = this.expression(s['Seconds.$'], `${at}/Seconds.$`);
    let until: string | Evaluator | undefined;
    if (typeof s['UntilDateTime'] === 'string') {
      until = s['UntilDateTime'];
      if (Number.isNaN(Date.parse(until))) this.problem(`${at}/UntilDateTime`, 'must be an RFC 3339 date-time such as 2026-01-01T00:00:00Z');
    } else if (s['UntilDateTime.$'] !== undefined) until = this.expression(s['UntilDateTime.$'], `${at}/UntilDateTime.$`);
    return { ...base, kind: 'Wait', seconds, until, minSeconds: range.min, maxSeconds: range.max };
  }
}

function constantValue(value: Json): ValueBuilder {
  const text = JSON.stringify(value);
  return () => JSON.parse(text) as Json;
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function num(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

/** Validates and compiles an FDL document. Throws FlowDefinitionError listing every problem. */
export function compileFlow(document: unknown, options: CompileOptions = {}, fileName?: string): CompiledFlow {
  const docMode = isJsonObject(document) && (document['ExecutionMode'] === 'Standard' || document['ExecutionMode'] === 'Express') ? document['ExecutionMode'] : undefined;
  const mode: ExecutionMode = options.mode ?? docMode ?? 'Express';
  const problems = validateDefinition(document, { mode });
  if (problems.length > 0 || !isJsonObject(document)) throw new FlowDefinitionError(problems, fileName);
  const compiler = new Compiler(mode, options.checkTask);
  const root = compiler.scope(document, '');
  if (compiler.problems.length > 0) throw new FlowDefinitionError(compiler.problems, fileName);
  const name = typeof document['Name'] === 'string' ? document['Name'] : (options.defaultName ?? 'flow');
  return {
    name,
    mode,
    description: typeof document['Description'] === 'string' ? document['Description'] : undefined,
    root,
    scopes: compiler.scopes,
    source: document,
  };
}

