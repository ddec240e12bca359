import { ErrorNames, FlowrunError } from '../../shared/errors.js';
import { isJsonObject } from '../../shared/json.js';
import type { Json, JsonObject } from '../../shared/json.js';
import { NAME_PATTERN } from '../../shared/limits.js';
import { EngineErrorNames, invalidParameters } from '../errors.js';
import type { ActionDefinition, ActionRunContext, ChildFlowRequest, ChildFlowStarter } from '../types.js';

export const START_SYNC_EXECUTION_ACTION = 'FnF:StartSyncExecution';
/** Status a child execution reports when it succeeded. */
export const CHILD_SUCCEEDED_STATUS = 'Succeeded';

export const startSyncExecutionParametersSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['flowName'],
  properties: {
    flowName: { type: 'string', pattern: NAME_PATTERN.source },
    input: { type: 'object' },
    executionName: { type: 'string', pattern: NAME_PATTERN.source },
  },
} as const;

export interface StartSyncExecutionOptions {
  /** Absent: the action fails with `FnF.TaskFailed` (child executions not available). */
  startChildFlow: ChildFlowStarter | undefined;
  /** Deepest allowed child (a top-level execution has depth 0). */
  maxChildDepth: number;
}

/**
 * `FnF:StartSyncExecution`: runs another flow to completion as a child execution, through the
 * injected {@link ChildFlowStarter} (the engine never imports the interpreter).
 *
 * Parameters `{ flowName, input? (object, default {}), executionName? }`. Output
 * `{ Status, Output }`. A child that does not succeed rejects with the child's error code and detail
 * (`FnF.TaskFailed` when it reports none). Refused, non-retryable: a child deeper than
 * `maxChildDepth` (`FnF.NestingTooDeep`) and a flow already on the chain (`FnF.RecursiveExecution`).
 */
export function createStartSyncExecutionAction(options: StartSyncExecutionOptions): ActionDefinition {
  return {
    name: START_SYNC_EXECUTION_ACTION,
    description: 'Runs another flow synchronously as a child execution and returns {Status, Output}.',
    parametersSchema: startSyncExecutionParametersSchema,
    highRisk: false,
    run: (parameters, ctx) => startChild(options, parameters, ctx),
  };
}

/** The chain of the calling execution: `ctx.flowChain`, ending with the caller's own flow. */
function callerChain(ctx: ActionRunContext): string[] {
  const chain = [...(ctx.flowChain ?? [])];
  if (chain[chain.length - 1] !== ctx.flowName) chain.push(ctx.flowName);
  return chain;
}

async function startChild(options: StartSyncExecutionOptions, parameters: Json, ctx: ActionRunContext): Promise<Json> {
  const bad = (message: string): FlowrunError => invalidParameters(START_SYNC_EXECUTION_ACTION, message);
  if (!isJsonObject(parameters)) throw bad('parameters must be an object');
  const { flowName, input, executionName } = parameters;
  if (typeof flowName !== 'string' || flowName === '') throw bad('flowName must be a non-empty string');
  if (input !== undefined && input !== null && !isJsonObject(input)) throw bad('input must be an object');
  if (executionName !== undefined && executionName !== null && typeof executionName !== 'string') throw bad('executionName must be a string');

  const depth = ctx.depth + 1;
  if (depth > options.maxChildDepth) {
    throw new FlowrunError(
      EngineErrorNames.FnfNestingTooDeep,
      `cannot start flow '${flowName}': child executions may nest at most ${options.maxChildDepth} deep (this one would be at depth ${depth})`,
    );
  }
  const chain = callerChain(ctx);
  if (chain.includes(flowName)) {
    throw new FlowrunError(
      EngineErrorNames.FnfRecursiveExecution,
      `cannot start flow '${flowName}': it is already running on this chain (${[...chain, flowName].join(' → ')})`,
    );
  }
  if (!options.startChildFlow) {
    throw new FlowrunError(ErrorNames.TaskFailed, `${START_SYNC_EXECUTION_ACTION}: child executions are not available (no startChildFlow configured)`);
  }
  const request: ChildFlowRequest = {
    flowName,
    input: (input ?? {}) as JsonObject,
    signal: ctx.signal,
    depth,
    flowChain: [...chain, flowName],
  };
  if (typeof executionName === 'string') request.executionName = executionName;
  const result = await options.startChildFlow(request);
  if (result.status !== CHILD_SUCCEEDED_STATUS) {
    if (result.error) throw new FlowrunError(result.error.Code, result.error.Detail);
    throw new FlowrunError(ErrorNames.TaskFailed, `child execution of flow '${flowName}' ended with status ${result.status}`);
  }
  return { Status: result.status, Output: result.output ?? {} };
}
