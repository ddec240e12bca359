/**
 * The OOS API actions (version 2019-06-01): one entry per action with its parameter schema (ajv,
 * compiled once) and its handler, in the style of ./actions.ts. A handler returns the success
 * body without RequestId; it never picks a status (errors carry catalogued codes).
 *
 * Product routing ({@link routeProduct}), documented once here and used by the app:
 * - `Version: 2019-06-01` (query/body parameter or `x-acs-version` header) → OOS;
 * - `Version: 2019-03-15` → FnF (CloudFlow);
 * - no Version (path style `POST /<Action>` only; RPC style requires one): an action name FnF
 *   serves resolves to FnF — so `StartExecution`, `ListExecutions`, `DeleteExecutions` without a
 *   Version are FnF's — and any other name OOS serves (`NotifyExecution`, `CreateTemplate`, …)
 *   resolves to OOS;
 * - any other Version is FnF's APIVersionNotSupported, as before.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type {
  CreateTemplateParams,
  DeleteExecutionsParams,
  DeleteTemplateParams,
  ExecutionIdParams,
  GetTemplateParams,
  ListExecutionLogsParams,
  ListExecutionsParams,
  ListResourceExecutionStatusParams,
  ListTaskExecutionsParams,
  ListTemplatesParams,
  ListTemplateVersionsParams,
  NotifyExecutionParams,
  OosExecutionService,
  StartExecutionParams,
  UpdateTemplateParams,
  ValidateTemplateContentParams,
} from '../executions/oos/index.js';
import { invalidParameter } from '../executions/oos/errors.js';
import { isActionName } from './actions.js';

/** The OOS API version. */
export const OOS_API_VERSION = '2019-06-01';

/** Parameters of each action, after validation. */
export interface OosActionParams {
  CreateTemplate: CreateTemplateParams;
  UpdateTemplate: UpdateTemplateParams;
  DeleteTemplate: DeleteTemplateParams;
  GetTemplate: GetTemplateParams;
  ListTemplates: ListTemplatesParams;
  ListTemplateVersions: ListTemplateVersionsParams;
  ValidateTemplateContent: ValidateTemplateContentParams;
  StartExecution: StartExecutionParams;
  NotifyExecution: NotifyExecutionParams;
  CancelExecution: ExecutionIdParams;
  ListExecutions: ListExecutionsParams;
  ListTaskExecutions: ListTaskExecutionsParams;
  GetExecutionTemplate: ExecutionIdParams;
  ListExecutionRiskyTasks: { TemplateName: string };
  DeleteExecutions: DeleteExecutionsParams;
  ListExecutionLogs: ListExecutionLogsParams;
  ListResourceExecutionStatus: ListResourceExecutionStatusParams;
}

export type OosActionName = keyof OosActionParams;

export interface OosActionContext {
  oos: OosExecutionService;
  /** Who calls (approvals are counted per caller): see {@link callerOf}. */
  caller: string;
  /** Set by handlers for the log line. */
  note: { flow?: string; execution?: string };
}

export type OosSuccessBody = Record<string, unknown>;

interface OosActionSpec<P> {
  schema: object;
  run(params: P, ctx: OosActionContext): Promise<OosSuccessBody>;
}

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const bool = { type: 'boolean' } as const;
/** A JSON value sent as text (RPC) or as the value itself (path style). */
const any = {} as const;

const object = (required: readonly string[], properties: Record<string, object>): object => ({ type: 'object', required, properties });

/** Paging and sorting parameters of the List actions. */
const PAGE = { SortField: str, SortOrder: str, MaxResults: int, NextToken: str } as const;
/** Time-range filters of executions and task executions. */
const DATE_RANGE = { StartDateBefore: str, StartDateAfter: str, EndDateBefore: str, EndDateAfter: str } as const;

const EXECUTION_FILTERS = {
  ExecutionId: str,
  TemplateName: str,
  Status: str,
  Mode: str,
  ExecutedBy: str,
  RamRole: str,
  ParentExecutionId: str,
  Depth: str,
  IncludeChildExecution: bool,
  Category: str,
  ResourceId: str,
  Description: str,
  Tags: any,
  ResourceGroupId: str,
  ...DATE_RANGE,
  ...PAGE,
};

/** One spec per action: adding an action to {@link OosActionParams} fails to compile until it is here. */
const SPECS: { readonly [A in OosActionName]: OosActionSpec<OosActionParams[A]> } = {
  CreateTemplate: {
    schema: object(['TemplateName', 'Content'], { TemplateName: str, Content: str, VersionName: str, Tags: any, ResourceGroupId: str }),
    async run(p, ctx) {
      ctx.note.flow = p.TemplateName;
      return { ...(await ctx.oos.createTemplate(p)) };
    },
  },
  UpdateTemplate: {
    schema: object(['TemplateName', 'Content'], { TemplateName: str, Content: str, VersionName: str, Tags: any, ResourceGroupId: str }),
    async run(p, ctx) {
      ctx.note.flow = p.TemplateName;
      return { ...(await ctx.oos.updateTemplate(p)) };
    },
  },
  DeleteTemplate: {
    schema: object(['TemplateName'], { TemplateName: str, AutoDeleteExecutions: bool }),
    async run(p, ctx) {
      ctx.note.flow = p.TemplateName;
      return { ...(await ctx.oos.deleteTemplate(p)) };
    },
  },
  GetTemplate: {
    schema: object(['TemplateName'], { TemplateName: str, TemplateVersion: str }),
    async run(p, ctx) {
      ctx.note.flow = p.TemplateName;
      return { ...(await ctx.oos.getTemplate(p)) };
    },
  },
  ListTemplates: {
    schema: object([], {
      TemplateName: str,
      TemplateFormat: str,
      ShareType: str,
      CreatedBy: str,
      CreatedDateBefore: str,
      CreatedDateAfter: str,
      HasTrigger: bool,
      Tags: any,
      TemplateType: str,
      ResourceGroupId: str,
      ...PAGE,
    }),
    async run(p, ctx) {
      return { ...(await ctx.oos.listTemplates(p)) };
    },
  },
  ListTemplateVersions: {
    schema: object(['TemplateName'], { TemplateName: str, ShareType: str, MaxResults: int, NextToken: str }),
    async run(p, ctx) {
      ctx.note.flow = p.TemplateName;
      return { ...(await ctx.oos.listTemplateVersions(p)) };
    },
  },
  ValidateTemplateContent: {
    schema: object([], { Content: str, TemplateURL: str }),
    run(p, ctx) {
      return Promise.resolve({ ...ctx.oos.validateTemplateContent(p) });
    },
  },
  StartExecution: {
    schema: object([], {
      TemplateName: str,
      TemplateVersion: str,
      TemplateContent: str,
      TemplateURL: str,
      Parameters: any,
      Mode: str,
      LoopMode: str,
      SafetyCheck: str,
      ParentExecutionId: str,
      Description: str,
      Tags: any,
      ResourceGroupId: str,
      ClientToken: str,
    }),
    async run(p, ctx) {
      if (p.TemplateName !== undefined) ctx.note.flow = p.TemplateName;
      const result = await ctx.oos.startExecution(p);
      ctx.note.execution = result.Execution.ExecutionId;
      return { ...result };
    },
  },
  NotifyExecution: {
    schema: object(['ExecutionId', 'NotifyType'], {
      ExecutionId: str,
      NotifyType: str,
      TaskName: str,
      TaskExecutionId: str,
      TaskExecutionIds: any,
      LoopItem: str,
      Parameters: any,
      ExecutionStatus: str,
      NotifyNote: str,
    }),
    async run(p, ctx) {
      ctx.note.execution = p.ExecutionId;
      return { ...(await ctx.oos.notifyExecution(p, ctx.caller)) };
    },
  },
  CancelExecution: {
    schema: object(['ExecutionId'], { ExecutionId: str }),
    async run(p, ctx) {
      ctx.note.execution = p.ExecutionId;
      return { ...(await ctx.oos.cancelExecution(p)) };
    },
  },
  ListExecutions: {
    schema: object([], EXECUTION_FILTERS),
    async run(p, ctx) {
      return { ...(await ctx.oos.listExecutions(p)) };
    },
  },
  ListTaskExecutions: {
    schema: object([], {
      ExecutionId: str,
      TaskExecutionId: str,
      TaskName: str,
      TaskAction: str,
      Status: str,
      ParentTaskExecutionId: str,
      IncludeChildTaskExecution: bool,
      ...DATE_RANGE,
      ...PAGE,
    }),
    async run(p, ctx) {
      if (p.ExecutionId !== undefined) ctx.note.execution = p.ExecutionId;
      return { ...(await ctx.oos.listTaskExecutions(p)) };
    },
  },
  GetExecutionTemplate: {
    schema: object(['ExecutionId'], { ExecutionId: str }),
    async run(p, ctx) {
      ctx.note.execution = p.ExecutionId;
      return { ...(await ctx.oos.getExecutionTemplate(p)) };
    },
  },
  ListExecutionRiskyTasks: {
    schema: object(['TemplateName'], { TemplateName: str }),
    async run(p, ctx) {
      ctx.note.flow = p.TemplateName;
      return { ...(await ctx.oos.listExecutionRiskyTasks(p)) };
    },
  },
  DeleteExecutions: {
    schema: object(['ExecutionIds'], { ExecutionIds: any, Force: bool }),
    async run(p, ctx) {
      return { ...(await ctx.oos.deleteExecutions(p)) };
    },
  },
  ListExecutionLogs: {
    schema: object(['ExecutionId'], { ExecutionId: str, TaskExecutionId: str, LogType: str, MaxResults: int, NextToken: str }),
    async run(p, ctx) {
      ctx.note.execution = p.ExecutionId;
      return { ...(await ctx.oos.listExecutionLogs(p)) };
    },
  },
  ListResourceExecutionStatus: {
    schema: object(['ExecutionId'], { ExecutionId: str, MaxResults: int, NextToken: str, RegionId: str }),
    async run(p, ctx) {
      ctx.note.execution = p.ExecutionId;
      return { ...(await ctx.oos.listResourceExecutionStatus(p)) };
    },
  },
};

export const OOS_ACTION_NAMES = Object.keys(SPECS) as OosActionName[];

/** The OOS action table (exported for tests and documentation). */
export const oosActions: { readonly [A in OosActionName]: { readonly schema: object } } = SPECS;

export function isOosActionName(name: string): name is OosActionName {
  return Object.hasOwn(SPECS, name);
}

/** Which product serves a request (see the module comment). */
export function routeProduct(version: unknown, style: 'rpc' | 'path', action: string): 'fnf' | 'oos' {
  if (version === OOS_API_VERSION) return 'oos';
  if (version !== undefined && version !== '') return 'fnf';
  if (style === 'path' && !isActionName(action) && isOosActionName(action)) return 'oos';
  return 'fnf';
}

/** Request parameters are strings (RPC) or JSON values (path style): coerce to the schema's types. */
const ajv = new Ajv({ allErrors: true, coerceTypes: true, strict: true });
type Validators = { readonly [A in OosActionName]: ValidateFunction<OosActionParams[A]> };
const VALIDATORS = Object.fromEntries(OOS_ACTION_NAMES.map((a) => [a, ajv.compile(SPECS[a].schema)])) as unknown as Validators;

/**
 * Validates (and coerces) the parameters of `action`: a missing required parameter or a mismatch
 * is InvalidParameter naming it. Empty strings and nulls count as absent; unknown parameters (the
 * RPC common parameters among them) are ignored.
 */
export function validateOosParams<A extends OosActionName>(action: A, raw: Record<string, unknown>): OosActionParams[A] {
  const data: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) if (value !== '' && value !== null && value !== undefined) data[key] = value;
  const validate = VALIDATORS[action] as ValidateFunction<OosActionParams[A]>;
  if (validate(data)) return data;
  const errors: ErrorObject[] = validate.errors ?? [];
  const missing = errors.find((e) => e.keyword === 'required');
  if (missing) throw invalidParameter(`${String((missing.params as { missingProperty: string }).missingProperty)} is required.`);
  const first = errors[0];
  const name = first ? first.instancePath.replace(/^\//, '') : '';
  throw invalidParameter(`${name || 'The parameters'} ${first?.message ?? 'are invalid'}.`);
}

export function runOosAction<A extends OosActionName>(action: A, params: OosActionParams[A], ctx: OosActionContext): Promise<OosSuccessBody> {
  return (SPECS[action] as OosActionSpec<OosActionParams[A]>).run(params, ctx);
}

/**
 * The caller's identity (NotifyExecution approvals count distinct callers): the `Approver`
 * parameter (flowrun's addition), else the RPC `AccessKeyId`, else the `x-acs-accesskey-id`
 * header, else `anonymous`. Signatures are checked (or not) by the app's authenticator.
 */
export function callerOf(params: Record<string, unknown>, headers: IncomingHttpHeaders): string {
  const pick = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : Array.isArray(v) && typeof v[0] === 'string' && v[0] !== '' ? v[0] : undefined);
  return pick(params['Approver']) ?? pick(params['AccessKeyId']) ?? pick(headers['x-acs-accesskey-id']) ?? 'anonymous';
}
