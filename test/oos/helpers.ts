import { ActionRegistry, createTaskEngine, registerBuiltinActions } from '../../src/engine/index.js';
import type { ChildFlowStarter, TaskRequest, TaskRunner } from '../../src/engine/index.js';
import { registerAcsActions } from '../../src/engine/actions/acs.js';
import type { AcsActionsOptions } from '../../src/engine/actions/acs.js';
import { AcsErrorNames } from '../../src/engine/actions/acs-names.js';
import { runExecution } from '../../src/interpreter/run.js';
import type { ExecutionResult } from '../../src/interpreter/run.js';
import { checkParameters, loadTemplateText, validateTemplateText } from '../../src/oos/compile.js';
import type { CompiledTemplate, CompileTemplateOptions } from '../../src/oos/compile.js';
import type { Problem } from '../../src/oos/errors.js';
import { ManualClock } from '../../src/shared/clock.js';
import { FlowrunError } from '../../src/shared/errors.js';
import type { Json, JsonObject } from '../../src/shared/json.js';

export const START = Date.UTC(2026, 0, 1);

export function tpl(yaml: string, options: CompileTemplateOptions = {}): CompiledTemplate {
  return loadTemplateText(yaml, options);
}

/** The problems of a template text (it must have some). */
export function problems(yaml: string, options: CompileTemplateOptions = {}): Problem[] {
  return validateTemplateText(yaml, options);
}

/** `FormatVersion` + the given body, so tests write only what they test. */
export function doc(body: string): string {
  return `FormatVersion: OOS-2019-06-01\n${body}`;
}

export type Handler = (parameters: Json, request: TaskRequest) => Json | Promise<Json>;

/** A task runner answering each action from a table; records every request. */
export function actions(table: Record<string, Handler>): TaskRunner & { requests: TaskRequest[] } {
  const requests: TaskRequest[] = [];
  const run = (async (request: TaskRequest) => {
    requests.push(request);
    const handler = table[request.action];
    if (!handler) throw new FlowrunError('Test.NoHandler', `no handler for ${request.action}`);
    return handler(request.parameters, request);
  }) as TaskRunner & { requests: TaskRequest[] };
  run.requests = requests;
  return run;
}

/** A registry with the built-in actions and the ACS actions, and an engine on `clock`. */
export function acsEngine(options: AcsActionsOptions & { clock?: ManualClock; startChildFlow?: ChildFlowStarter; functionsDir?: string } = {}) {
  const registry = new ActionRegistry();
  registerBuiltinActions(registry, { functionsDir: options.functionsDir ?? 'flows/functions', startChildFlow: options.startChildFlow, maxChildDepth: 5 });
  registerAcsActions(registry, options);
  const engine = createTaskEngine(options.clock ? { registry, clock: options.clock } : { registry });
  return { registry, engine };
}

/** Answers ACS::Approve (the durable runner's NotifyExecution) and passes the rest on. */
export function withApprovals(inner: TaskRunner, decide: (request: TaskRequest) => 'Approve' | 'Reject'): TaskRunner & { approvals: TaskRequest[] } {
  const approvals: TaskRequest[] = [];
  const run = (async (request: TaskRequest) => {
    if (request.action !== 'ACS::Approve') return inner(request);
    approvals.push(request);
    if (decide(request) === 'Reject') throw new FlowrunError(AcsErrorNames.Rejected, 'rejected by approver');
    return { Approved: true };
  }) as TaskRunner & { approvals: TaskRequest[] };
  run.approvals = approvals;
  return run;
}

/**
 * Runs a compiled template on a manual clock: time moves (to the next timer) only while no task is
 * in flight, so sleeps and retry delays take no real time.
 */
export async function run(
  template: CompiledTemplate,
  parameters: unknown,
  tasks: TaskRunner,
  options: { clock?: ManualClock; executionName?: string; timeoutMs?: number } = {},
): Promise<ExecutionResult & { input: JsonObject; clock: ManualClock }> {
  const clock = options.clock ?? new ManualClock(START);
  const input = checkParameters(template, parameters, options.executionName ?? 'exec-test');
  let inFlight = 0;
  const counted: TaskRunner = (req) => {
    inFlight++;
    return tasks(req).finally(() => inFlight--);
  };
  let result: ExecutionResult | undefined;
  const running = runExecution(template.flow, input, {
    tasks: counted,
    clock,
    executionName: options.executionName ?? 'exec-test',
    history: true,
    timeoutMs: options.timeoutMs ?? 10 * 365 * 24 * 3600 * 1000,
  }).then((r) => (result = r));
  for (let i = 0; i < 100_000 && !result; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    const next = clock.nextDeadline();
    if (inFlight === 0 && next !== undefined && !result) await clock.advance(Math.max(0, next - clock.now()));
  }
  const r = await running;
  return { ...r, input, clock };
}

/** Names of the steps entered at the root (path []), in order. */
export function rootSteps(result: ExecutionResult): string[] {
  return result.events.filter((e) => e.type === 'StepEntered' && (e.path ?? []).length === 0).map((e) => e.step ?? '');
}
