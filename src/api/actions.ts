/**
 * The FnF API actions: one entry per action with its parameter schema (ajv, compiled once) and
 * its handler. A handler returns the success body without RequestId; it never picks a status.
 */
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type {
  CreateFlowParams,
  DescribeExecutionParams,
  FlowService,
  GetExecutionHistoryParams,
  ListExecutionsParams,
  ListFlowsParams,
  StartSyncExecutionParams,
  UpdateFlowParams,
} from '../fnf/service.js';
import { apiError } from './errors.js';
import type {
  DeleteExecutionsParams,
  ReportTaskFailedParams,
  ReportTaskSucceededParams,
  StandardFlowService,
  StartExecutionParams,
  StopExecutionParams,
} from '../executions/standard-flows.js';

/** The one API version served. */
export const API_VERSION = '2019-03-15';

export interface NameParams {
  Name: string;
}

/** Parameters of each action, after validation. */
export interface ActionParams {
  StartSyncExecution: StartSyncExecutionParams;
  CreateFlow: CreateFlowParams;
  UpdateFlow: UpdateFlowParams;
  DeleteFlow: NameParams;
  DescribeFlow: NameParams;
  ListFlows: ListFlowsParams;
  DescribeExecution: DescribeExecutionParams;
  ListExecutions: ListExecutionsParams;
  GetExecutionHistory: GetExecutionHistoryParams;
  StartExecution: StartExecutionParams;
  StopExecution: StopExecutionParams;
  ReportTaskSucceeded: ReportTaskSucceededParams;
  ReportTaskFailed: ReportTaskFailedParams;
  DeleteExecutions: Omit<DeleteExecutionsParams, 'ExecutionNames'> & { ExecutionNames: unknown };
}

export type ActionName = keyof ActionParams;

/** What a handler may use and report (for the request's log line). */
export interface ActionContext {
  service: FlowService;
  /** Durable executions of Standard flows (absent: those actions answer ActionNotSupported). */
  standard?: StandardFlowService | undefined;
  /**
   * Owned by this request, aborted when the client goes away before the response is sent: an
   * action may hand it to the service as the execution's own controller (one AbortController per
   * request instead of two), which may then also abort it (e.g. at shutdown). Whether the client
   * went away is not read from it. Its signal is created on first use (see ../shared/abort.ts):
   * read `controller.signal` only when something must listen.
   */
  controller: AbortController;
  /** Set by handlers for the log line. */
  note: { flow?: string; execution?: string };
}

export type SuccessBody = Record<string, unknown>;

interface ActionSpec<P> {
  schema: object;
  run(params: P, ctx: ActionContext): Promise<SuccessBody>;
}

const str = { type: 'string' } as const;

function standardService(ctx: ActionContext): StandardFlowService {
  if (!ctx.standard) throw apiError('ActionNotSupported', { reason: 'Standard executions need the durable store, which this server runs without.' });
  return ctx.standard;
}

/** Most names one DeleteExecutions call takes. */
export const MAX_DELETE_EXECUTIONS = 100;

function executionNames(raw: unknown): string[] {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw.split(',');
    }
  }
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_DELETE_EXECUTIONS || !value.every((v) => typeof v === 'string' && v !== '')) {
    throw apiError('InvalidArgument', { reason: `ExecutionNames must be a JSON array of 1 to ${MAX_DELETE_EXECUTIONS} execution names.` });
  }
  return value as string[];
}

/** Executions of a Standard flow live in the durable store; express ones in the recent window. */
async function isStandardFlow(ctx: ActionContext, flowName: string): Promise<boolean> {
  if (!ctx.standard) return false;
  return (await ctx.service.describeFlow(flowName)).ExecutionMode === 'Standard';
}
const int = { type: 'integer' } as const;

const object = (required: readonly string[], properties: Record<string, object>): object => ({
  type: 'object',
  required,
  properties,
});

/** One spec per action: adding an action to {@link ActionParams} fails to compile until it is here. */
const SPECS: { readonly [A in ActionName]: ActionSpec<ActionParams[A]> } = {
  StartSyncExecution: {
    schema: object(['FlowName'], { FlowName: str, ExecutionName: str, Input: str, Qualifier: str }),
    async run(p, ctx) {
      ctx.note.flow = p.FlowName;
      if (p.ExecutionName !== undefined) ctx.note.execution = p.ExecutionName;
      const result = await ctx.service.startSyncExecution(p, ctx.controller);
      ctx.note.execution = result.Name;
      return result as unknown as SuccessBody; // a fresh object: no copy needed
    },
  },
  CreateFlow: {
    schema: object(['Name', 'Definition', 'Description', 'Type'], {
      Name: str,
      Definition: str,
      Description: str,
      Type: str,
      RoleArn: str,
      ExecutionMode: str,
      ExternalStorageLocation: str,
    }),
    async run(p, ctx) {
      ctx.note.flow = p.Name;
      return { ...(await ctx.service.createFlow(p)) };
    },
  },
  UpdateFlow: {
    schema: object(['Name'], { Name: str, Definition: str, Description: str, Type: str, RoleArn: str, ExecutionMode: str }),
    async run(p, ctx) {
      ctx.note.flow = p.Name;
      return { ...(await ctx.service.updateFlow(p)) };
    },
  },
  DeleteFlow: {
    schema: object(['Name'], { Name: str }),
    async run(p, ctx) {
      ctx.note.flow = p.Name;
      await ctx.service.deleteFlow(p.Name);
      return {};
    },
  },
  DescribeFlow: {
    schema: object(['Name'], { Name: str }),
    async run(p, ctx) {
      ctx.note.flow = p.Name;
      return { ...(await ctx.service.describeFlow(p.Name)) };
    },
  },
  ListFlows: {
    schema: object([], { Limit: int, NextToken: str, ResourceGroupId: str }),
    async run(p, ctx) {
      return { ...(await ctx.service.listFlows(p)) };
    },
  },
  DescribeExecution: {
    schema: object(['FlowName', 'ExecutionName'], { FlowName: str, ExecutionName: str, WaitTimeSeconds: int }),
    async run(p, ctx) {
      ctx.note.flow = p.FlowName;
      ctx.note.execution = p.ExecutionName;
      if (await isStandardFlow(ctx, p.FlowName)) return { ...(await standardService(ctx).describeExecution(p, ctx.controller.signal)) };
      return { ...(await ctx.service.describeExecution(p, ctx.controller.signal)) };
    },
  },
  ListExecutions: {
    schema: object(['FlowName'], {
      FlowName: str,
      Limit: int,
      NextToken: str,
      Status: str,
      ExecutionNamePrefix: str,
      StartedTimeBegin: str,
      StartedTimeEnd: str,
      Qualifier: str,
      MapRunName: str,
      MetadataOnly: { type: 'boolean' },
    }),
    async run(p, ctx) {
      ctx.note.flow = p.FlowName;
      if (await isStandardFlow(ctx, p.FlowName)) return { ...(await standardService(ctx).listExecutions(p)) };
      return { ...(await ctx.service.listExecutions(p)) };
    },
  },
  GetExecutionHistory: {
    schema: object(['FlowName', 'ExecutionName'], { FlowName: str, ExecutionName: str, Limit: int, NextToken: str }),
    async run(p, ctx) {
      ctx.note.flow = p.FlowName;
      ctx.note.execution = p.ExecutionName;
      if (await isStandardFlow(ctx, p.FlowName)) return { ...(await standardService(ctx).getExecutionHistory(p)) };
      return { ...(await ctx.service.getExecutionHistory(p)) };
    },
  },
  StartExecution: {
    schema: object(['FlowName'], { FlowName: str, ExecutionName: str, Input: str, Qualifier: str, CallbackFnFTaskToken: str }),
    async run(p, ctx) {
      ctx.note.flow = p.FlowName;
      if (p.ExecutionName !== undefined) ctx.note.execution = p.ExecutionName;
      const flow = await ctx.service.describeFlow(p.FlowName);
      if (flow.ExecutionMode !== 'Standard') throw apiError('ActionNotSupported', { reason: 'Express flows run with StartSyncExecution.' });
      const result = await standardService(ctx).startExecution(p);
      ctx.note.execution = result.Name;
      return { ...result };
    },
  },
  StopExecution: {
    schema: object(['FlowName', 'ExecutionName'], { FlowName: str, ExecutionName: str, Error: str, Cause: str }),
    async run(p, ctx) {
      ctx.note.flow = p.FlowName;
      ctx.note.execution = p.ExecutionName;
      await ctx.service.store.get(p.FlowName); // AccessDenied: another account's flow
      return { ...(await standardService(ctx).stopExecution(p)) };
    },
  },
  ReportTaskSucceeded: {
    schema: object(['TaskToken', 'Output'], { TaskToken: str, Output: str }),
    async run(p, ctx) {
      return { ...(await standardService(ctx).reportTaskSucceeded(p)) };
    },
  },
  ReportTaskFailed: {
    schema: object(['TaskToken', 'Error'], { TaskToken: str, Error: str, Cause: str }),
    async run(p, ctx) {
      return { ...(await standardService(ctx).reportTaskFailed(p)) };
    },
  },
  DeleteExecutions: {
    // RPC callers send the names as a JSON array text; path style may send the array itself.
    schema: object(['FlowName', 'ExecutionNames'], { FlowName: str, ExecutionNames: {} }),
    async run(p, ctx) {
      ctx.note.flow = p.FlowName;
      await ctx.service.store.get(p.FlowName); // AccessDenied: another account's flow
      return { ...(await standardService(ctx).deleteExecutions({ FlowName: p.FlowName, ExecutionNames: executionNames(p.ExecutionNames) })) };
    },
  },
};

export const ACTION_NAMES = Object.keys(SPECS) as ActionName[];

export function isActionName(name: string): name is ActionName {
  return Object.hasOwn(SPECS, name);
}

/** Request parameters are strings (RPC) or JSON values (path style): coerce to the schema's types. */
const ajv = new Ajv({ allErrors: true, coerceTypes: true, strict: true });

type Validators = { readonly [A in ActionName]: ValidateFunction<ActionParams[A]> };
const VALIDATORS = Object.fromEntries(ACTION_NAMES.map((a) => [a, ajv.compile(SPECS[a].schema)])) as unknown as Validators;

/**
 * Validates (and coerces) the parameters of `action`. A missing required parameter is
 * MissingRequiredParams naming it; any other mismatch is InvalidArgument naming the parameter.
 * Empty strings and nulls count as absent. Parameters the action does not know (the RPC common
 * parameters, among others) are kept and ignored.
 */
export function validateParams<A extends ActionName>(action: A, raw: Record<string, unknown>): ActionParams[A] {
  const data: Record<string, unknown> = {};
  for (const key of Object.keys(raw)) {
    const value = raw[key];
    if (value !== '' && value !== null && value !== undefined) data[key] = value;
  }
  const validate = VALIDATORS[action] as ValidateFunction<ActionParams[A]>;
  if (validate(data)) return data;
  const errors: ErrorObject[] = validate.errors ?? [];
  const missing = errors.find((e) => e.keyword === 'required');
  if (missing) throw apiError('MissingRequiredParams', { args: [String((missing.params as { missingProperty: string }).missingProperty)] });
  const first = errors[0];
  const name = first ? first.instancePath.replace(/^\//, '') : '';
  throw apiError('InvalidArgument', { reason: `${name || 'The parameters'} ${first?.message ?? 'are invalid'}.` });
}

export function runAction<A extends ActionName>(action: A, params: ActionParams[A], ctx: ActionContext): Promise<SuccessBody> {
  return (SPECS[action] as ActionSpec<ActionParams[A]>).run(params, ctx);
}
