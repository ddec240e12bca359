/**
 * OOS executions (API 2019-06-01) on the durable runner: templates, StartExecution and the
 * lifecycle (NotifyExecution, CancelExecution), and the read APIs. Pure service methods, no HTTP:
 * they take OOS API parameters (PascalCase; `Parameters`/`Tags` as JSON text or values) and return
 * OOS API shapes (times `YYYY-MM-DDTHH:MM:SSZ`); they throw FlowrunErrors whose code is an OOS API
 * error code (./errors.ts). The sibling of ../standard-flows.ts.
 *
 * Ids: an execution's store id, name and OOS ExecutionId are the same `exec-<20 hex>`; the
 * interpreter sees it as the execution name, so `{{ ACS::ExecutionId }}` is it too.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { checkParameters, MAX_TEMPLATE_DEPTH } from '../../oos/index.js';
import type { ChildTemplateRequest, ChildTemplateResult, CompiledTemplate } from '../../oos/index.js';
import type { CompiledFlow } from '../../flow/graph.js';
import type { Clock } from '../../shared/clock.js';
import { FlowrunError } from '../../shared/errors.js';
import { isJsonObject, jsonTypeName } from '../../shared/json.js';
import type { Json, JsonObject } from '../../shared/json.js';
import { QUEUED_STATUS, SignalTypes } from '../durable-runner.js';
import type { DurableRunner } from '../durable-runner.js';
import { isFinishedStatus } from '../store.js';
import type { DefinitionRecord, ExecutionRecord, ExecutionStore, HistoryRecord, ResourceStatusRecord, TaskRecord } from '../store.js';
import { invalidParameter, noPermission, oosApiError, OosExecutionErrorCodes, OosLifecycleErrorNames } from './errors.js';
import { awaitsApproval, holdReason, isConfirmable, nodeName, NOTIFY_SIGNAL, NOTIFY_TYPES, pausedLoops } from './hooks.js';
import { withLoopMode } from './observe.js';
import type { NotifyPayload, NotifyType } from './hooks.js';
import { EXECUTION_MODES, LOOP_MODES, metaOf, SAFETY_CHECKS, tagsWithMeta, userTagsOf } from './meta.js';
import type { ExecutionMeta, ExecutionModeName, SafetyCheck } from './meta.js';
import { decodeToken, encodeToken, maxResults, PAGE_10_100, PAGE_20_100, pageOf } from './paging.js';
import { deriveTaskExecutions, taskExecutionView } from './task-executions.js';
import type { Derived, TaskExecution, TaskExecutionView } from './task-executions.js';
import { descriptionOf, iso, metadataOf, parseTemplateVersion, sha256, templateVersionName } from './templates.js';
import type { TemplateRepository, TemplateView } from './templates.js';

// ---------------------------------------------------------------------------------------------
// constants

/** Execution statuses (seed 001). */
export const OOS_EXECUTION_STATUSES = ['Started', 'Queued', 'Running', 'Waiting', 'Success', 'Failed', 'Cancelled'] as const;
/** Task execution statuses (ListTaskExecutions). */
export const OOS_TASK_STATUSES = ['Started', 'Running', 'Waiting', 'Success', 'Failed', 'Cancelled', 'Pending', 'Skipped'] as const;
/** Statuses counted against the running-executions quota. */
export const ACTIVE_STATUSES = ['Started', 'Queued', 'Running', 'Waiting'] as const;
/** Default quota of executions running at once (QuotaExceed past it). */
export const DEFAULT_MAX_RUNNING_EXECUTIONS = 100;
/** Most ids one DeleteExecutions call takes. */
export const MAX_DELETE_EXECUTION_IDS = 100;
/** Tags per template or execution. */
export const MAX_TAGS = 20;
/** CancelExecution waits this long (clock ms) for the execution to be Cancelled before answering. */
export const DEFAULT_CANCEL_WAIT_MS = 5_000;
/** How often a wait re-reads an execution driven by another instance. */
export const DEFAULT_WAIT_POLL_MS = 500;
/** Default RamRole shown on executions (OOS's documented default). */
export const DEFAULT_RAM_ROLE = 'OOSServiceRole';
const EVENTS_PAGE = 1000;

export const newExecutionId = (): string => `exec-${randomBytes(10).toString('hex')}`;

// ---------------------------------------------------------------------------------------------
// API shapes

export interface ExecutionView {
  ExecutionId: string;
  TemplateName: string;
  TemplateId: string;
  TemplateVersion: string;
  Mode: string;
  LoopMode: string;
  SafetyCheck: string;
  Status: string;
  StatusMessage: string;
  StatusReason: string;
  WaitingStatus: string;
  /** JSON text (StartExecution); an object in ListExecutions. */
  Parameters: string | JsonObject;
  /** JSON text. */
  Outputs: string;
  Counters: JsonObject;
  CurrentTasks: { TaskAction: string; TaskExecutionId: string; TaskName: string }[];
  IsParent: boolean;
  ParentExecutionId: string;
  RamRole: string;
  ExecutedBy: string;
  CreateDate: string;
  StartDate: string;
  UpdateDate: string;
  EndDate: string;
  Description: string;
  Tags: JsonObject;
  ResourceGroupId: string;
  Category: string;
}

type Param = string | undefined;
type ObjectParam = string | JsonObject | undefined;

export interface CreateTemplateParams {
  TemplateName: string;
  Content: string;
  VersionName?: Param;
  Tags?: ObjectParam;
  ResourceGroupId?: Param;
}
export type UpdateTemplateParams = CreateTemplateParams;
export interface DeleteTemplateParams {
  TemplateName: string;
  AutoDeleteExecutions?: boolean;
}
export interface GetTemplateParams {
  TemplateName: string;
  TemplateVersion?: Param;
}
export interface ListTemplatesParams {
  TemplateName?: Param;
  TemplateFormat?: Param;
  ShareType?: Param;
  CreatedBy?: Param;
  CreatedDateBefore?: Param;
  CreatedDateAfter?: Param;
  HasTrigger?: boolean;
  Tags?: ObjectParam;
  TemplateType?: Param;
  ResourceGroupId?: Param;
  SortField?: Param;
  SortOrder?: Param;
  MaxResults?: number;
  NextToken?: Param;
}
export interface ListTemplateVersionsParams {
  TemplateName: string;
  MaxResults?: number;
  NextToken?: Param;
}
export interface ValidateTemplateContentParams {
  Content?: Param;
  TemplateURL?: Param;
}
export interface StartExecutionParams {
  TemplateName?: Param;
  TemplateVersion?: Param;
  TemplateContent?: Param;
  TemplateURL?: Param;
  Parameters?: ObjectParam;
  Mode?: Param;
  LoopMode?: Param;
  SafetyCheck?: Param;
  ParentExecutionId?: Param;
  Description?: Param;
  Tags?: ObjectParam;
  ResourceGroupId?: Param;
  ClientToken?: Param;
}
export interface NotifyExecutionParams {
  ExecutionId: string;
  NotifyType: string;
  TaskName?: Param;
  TaskExecutionId?: Param;
  TaskExecutionIds?: string | string[] | undefined;
  LoopItem?: Param;
  Parameters?: ObjectParam;
  ExecutionStatus?: Param;
  NotifyNote?: Param;
}
export interface ExecutionIdParams {
  ExecutionId: string;
}
export interface ListExecutionsParams {
  ExecutionId?: Param;
  TemplateName?: Param;
  Status?: Param;
  Mode?: Param;
  ExecutedBy?: Param;
  RamRole?: Param;
  ParentExecutionId?: Param;
  Depth?: Param;
  IncludeChildExecution?: boolean;
  Category?: Param;
  ResourceId?: Param;
  Description?: Param;
  Tags?: ObjectParam;
  ResourceGroupId?: Param;
  StartDateBefore?: Param;
  StartDateAfter?: Param;
  EndDateBefore?: Param;
  EndDateAfter?: Param;
  SortField?: Param;
  SortOrder?: Param;
  MaxResults?: number;
  NextToken?: Param;
}
export interface ListTaskExecutionsParams {
  ExecutionId?: Param;
  TaskExecutionId?: Param;
  TaskName?: Param;
  TaskAction?: Param;
  Status?: Param;
  ParentTaskExecutionId?: Param;
  IncludeChildTaskExecution?: boolean;
  StartDateBefore?: Param;
  StartDateAfter?: Param;
  EndDateBefore?: Param;
  EndDateAfter?: Param;
  SortField?: Param;
  SortOrder?: Param;
  MaxResults?: number;
  NextToken?: Param;
}
export interface ListExecutionLogsParams {
  ExecutionId: string;
  TaskExecutionId?: Param;
  LogType?: Param;
  MaxResults?: number;
  NextToken?: Param;
}
export interface ListResourceExecutionStatusParams {
  ExecutionId: string;
  MaxResults?: number;
  NextToken?: Param;
}
export interface DeleteExecutionsParams {
  ExecutionIds: string | string[];
  Force?: boolean;
}

export interface RiskyTask {
  Service: string;
  API: string;
  Task: string[];
  Template: string[];
}

// ---------------------------------------------------------------------------------------------
// the service

export interface OosExecutionServiceOptions {
  store: ExecutionStore;
  runner: DurableRunner;
  clock: Clock;
  templates: TemplateRepository;
  logger: Logger;
  highRiskPattern: RegExp;
  /** QuotaExceed past this many running executions (top-level starts; children are not refused). */
  maxRunningExecutions: number;
  /**
   * Top-level executions running at once (per account); a StartExecution past it is `Queued` and
   * starts when one ends. Infinity (the default): never queued.
   */
  maxConcurrentExecutions?: number;
  account?: string;
  /** ExecutedBy of executions. */
  executedBy: string;
  cancelWaitMs?: number;
  waitPollMs?: number;
}

interface Context {
  record: ExecutionRecord;
  meta: ExecutionMeta;
  template: CompiledTemplate | undefined;
  content: string;
  definition: DefinitionRecord | undefined;
}

/** Open task with what hooks keep on it (hold, approvals), read from the store. */
interface StoredOpenTask {
  record: TaskRecord;
  id: number;
  stateName: string;
  action: string;
  mode: string;
  path: number[];
  parameters: Json;
  hold: JsonObject | undefined;
  progress: JsonObject | undefined;
}

export class OosExecutionService {
  readonly templates: TemplateRepository;
  private readonly store: ExecutionStore;
  private readonly runner: DurableRunner;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly options: OosExecutionServiceOptions;
  /** Compiled templates of the executions driven here (hooks read them; shared by every account's service). */
  private readonly live: Map<string, CompiledTemplate>;
  private readonly background: Set<Promise<unknown>>;
  /** {@link startQueued} runs, one after another (per account). */
  private queueChain: Promise<void> = Promise.resolve();
  private readonly closers: (() => Promise<void>)[] = [];
  /** The services of other accounts ({@link forAccount}), on the root service. */
  private readonly tenants: Map<string, OosExecutionService>;
  private readonly root: OosExecutionService | undefined;

  constructor(options: OosExecutionServiceOptions, root?: OosExecutionService) {
    this.options = options;
    this.root = root;
    this.live = root ? root.live : new Map();
    this.background = root ? root.background : new Set();
    this.tenants = root ? root.tenants : new Map();
    this.store = options.store;
    this.runner = options.runner;
    this.clock = options.clock;
    this.templates = options.templates;
    this.log = options.logger.child({ component: 'oos-executions' });
  }

  /** This account's id ('' shared/anonymous). */
  get account(): string {
    return this.options.account ?? '';
  }

  /**
   * The service of `account` (tenant isolation with signed requests): its templates and executions
   * only, plus the shared templates of the account '' (readable and runnable by every account). It
   * shares this service's runner hooks, task engine and live state; made once per account.
   */
  forAccount(account: string): OosExecutionService {
    if (account === this.account) return this;
    const root = this.root ?? this;
    if (account === root.account) return root;
    let service = this.tenants.get(account);
    if (!service) {
      service = new OosExecutionService({ ...root.options, account, templates: root.templates.forAccount(account) }, root);
      this.tenants.set(account, service);
    }
    return service;
  }

  // -------------------------------------------------------------------------------- templates

  async createTemplate(p: CreateTemplateParams): Promise<{ Template: TemplateView }> {
    const record = await this.templates.create(p.TemplateName, p.Content, this.templateExtras(p));
    return { Template: this.templates.view(record) };
  }

  async updateTemplate(p: UpdateTemplateParams): Promise<{ Template: TemplateView }> {
    const record = await this.templates.update(p.TemplateName, p.Content, this.templateExtras(p));
    return { Template: this.templates.view(record) };
  }

  async deleteTemplate(p: DeleteTemplateParams): Promise<Record<string, never>> {
    await this.templates.requireOwn(p.TemplateName);
    if (p.AutoDeleteExecutions === true) {
      const executions = (await this.allExecutions()).filter((e) => e.definitionName === p.TemplateName);
      await this.deleteRecords(executions, true);
    }
    await this.store.deleteDefinition('template', p.TemplateName, this.options.account);
    return {};
  }

  async getTemplate(p: GetTemplateParams): Promise<{ Content: string; Template: TemplateView }> {
    const version = p.TemplateVersion ? parseTemplateVersion(p.TemplateVersion) : undefined;
    const record = await this.templates.require(p.TemplateName, version);
    return { Content: record.content, Template: this.templates.view(record) };
  }

  async listTemplates(p: ListTemplatesParams): Promise<{ Templates: (TemplateView & { TotalExecutionCount: number; Popularity: number; Category: string; IsFavorite: boolean; Publisher: string })[]; MaxResults: number; NextToken?: string }> {
    const limit = maxResults(p.MaxResults, PAGE_10_100);
    const sortField = oneOf(p.SortField, ['TotalExecutionCount', 'Popularity', 'TemplateName', 'CreatedDate', 'UpdatedDate'], 'SortField', 'TotalExecutionCount');
    const order = oneOf(p.SortOrder, ['Ascending', 'Descending'], 'SortOrder', 'Descending');
    const tags = p.Tags === undefined ? undefined : objectParam(p.Tags, 'Tags');
    const before = timeParam(p.CreatedDateBefore, 'CreatedDateBefore');
    const after = timeParam(p.CreatedDateAfter, 'CreatedDateAfter');
    const records: DefinitionRecord[] = [];
    // this account's templates, then the shared ones ('') it does not hide
    for (const account of this.account === '' ? [this.options.account] : [this.account, '']) {
      for (let afterName: string | undefined; ; ) {
        const batch = await this.store.listDefinitions('template', { limit: 500, ...(afterName !== undefined ? { after: afterName } : {}), ...(account !== undefined ? { account } : {}) });
        records.push(...batch.filter((b) => b.account === this.account || !records.some((r) => r.name === b.name)));
        if (batch.length < 500) break;
        afterName = batch[batch.length - 1]?.name;
      }
    }
    const counts = new Map<string, number>();
    for (const e of await this.allExecutions()) counts.set(e.definitionName, (counts.get(e.definitionName) ?? 0) + 1);
    const rows = records
      .map((r) => ({ ...this.templates.view(r), TotalExecutionCount: counts.get(r.name) ?? 0, Popularity: -1, Category: 'Other', IsFavorite: false, Publisher: '' }))
      .filter((t) => {
        if (p.TemplateName && !t.TemplateName.toLowerCase().includes(p.TemplateName.toLowerCase())) return false;
        if (p.TemplateFormat && t.TemplateFormat !== p.TemplateFormat.toUpperCase()) return false;
        if (p.ShareType && p.ShareType !== 'Private') return false;
        if (p.CreatedBy && p.CreatedBy !== t.CreatedBy) return false;
        if (p.HasTrigger !== undefined && t.HasTrigger !== p.HasTrigger) return false;
        if (p.TemplateType && p.TemplateType !== t.TemplateType) return false;
        if (p.ResourceGroupId && p.ResourceGroupId !== t.ResourceGroupId) return false;
        if (before !== undefined && Date.parse(t.CreatedDate) >= before) return false;
        if (after !== undefined && Date.parse(t.CreatedDate) <= after) return false;
        if (tags && !Object.entries(tags).every(([k, v]) => t.Tags[k] === v)) return false;
        return true;
      });
    const key = (t: (typeof rows)[number]): string | number =>
      sortField === 'TemplateName' ? t.TemplateName : sortField === 'CreatedDate' ? t.CreatedDate : sortField === 'UpdatedDate' ? t.UpdatedDate : sortField === 'Popularity' ? t.Popularity : t.TotalExecutionCount;
    rows.sort((a, b) => compare(key(a), key(b), order) || (a.TemplateName < b.TemplateName ? -1 : 1));
    const { page, next } = pageOf(rows, limit, p.NextToken, 'oos-templates', JSON.stringify([p.TemplateName, p.TemplateFormat, sortField, order]));
    return { Templates: page, MaxResults: limit, ...(next ? { NextToken: next } : {}) };
  }

  async listTemplateVersions(p: ListTemplateVersionsParams): Promise<{ TemplateVersions: JsonObject[]; MaxResults: number; NextToken?: string }> {
    const limit = maxResults(p.MaxResults, PAGE_10_100);
    const latest = await this.templates.require(p.TemplateName);
    const versions = (await this.store.listDefinitionVersions('template', p.TemplateName, latest.account)).reverse();
    const rows = versions.map((r) => {
      const v = this.templates.view(r);
      return { Description: v.Description, TemplateFormat: v.TemplateFormat, TemplateVersion: v.TemplateVersion, UpdatedBy: v.UpdatedBy, UpdatedDate: v.UpdatedDate, VersionName: v.VersionName };
    });
    const { page, next } = pageOf(rows, limit, p.NextToken, 'oos-versions', p.TemplateName);
    return { TemplateVersions: page, MaxResults: limit, ...(next ? { NextToken: next } : {}) };
  }

  validateTemplateContent(p: ValidateTemplateContentParams): JsonObject {
    if (p.TemplateURL) throw invalidParameter('TemplateURL is not supported by flowrun (no OSS access); pass the template as Content.');
    if (!p.Content) throw invalidParameter('Content is required.');
    const { template } = this.templates.compile(undefined, p.Content);
    const doc = template.document;
    const tasks = Array.isArray(doc['Tasks']) ? doc['Tasks'].filter(isJsonObject) : [];
    return {
      Parameters: JSON.stringify(doc['Parameters'] ?? {}),
      RamRole: typeof doc['RamRole'] === 'string' ? doc['RamRole'] : '',
      Outputs: JSON.stringify(doc['Outputs'] ?? {}),
      Tasks: tasks.map((t) => ({
        Name: typeof t['Name'] === 'string' ? t['Name'] : '',
        Type: typeof t['Action'] === 'string' ? t['Action'] : '',
        Description: typeof t['Description'] === 'string' ? t['Description'] : t['Description'] === undefined ? '' : JSON.stringify(t['Description']),
        Properties: JSON.stringify(t['Properties'] ?? {}),
        Outputs: JSON.stringify(t['Outputs'] ?? {}),
      })),
    };
  }

  private templateExtras(p: CreateTemplateParams): { VersionName?: string; Tags?: JsonObject; ResourceGroupId?: string } {
    const out: { VersionName?: string; Tags?: JsonObject; ResourceGroupId?: string } = {};
    if (p.VersionName) out.VersionName = p.VersionName;
    if (p.Tags !== undefined) out.Tags = tagsParam(p.Tags);
    if (p.ResourceGroupId) out.ResourceGroupId = p.ResourceGroupId;
    return out;
  }

  // -------------------------------------------------------------------------------- executions

  /**
   * StartExecution: checks everything, persists the execution with its first step and answers at
   * once with `Status: Started`; the runner moves it on. A ClientToken already used answers the
   * execution it started.
   */
  async startExecution(p: StartExecutionParams): Promise<{ Execution: ExecutionView }> {
    if (p.ClientToken) {
      const existing = await this.store.findExecutionByClientToken(clientTokenKey(p.ClientToken));
      if (existing && existing.account !== this.account) throw noPermission(`the execution of ClientToken ${p.ClientToken.slice(0, 64)}`);
      if (existing) return { Execution: await this.view(existing, { parametersAsText: true }) };
    }
    const mode = oneOf(p.Mode, EXECUTION_MODES, 'Mode', 'Automatic') as ExecutionModeName;
    const safety = oneOf(p.SafetyCheck, SAFETY_CHECKS, 'SafetyCheck', 'ConfirmEveryHighRiskAction') as SafetyCheck;
    const loopMode = oneOf(p.LoopMode, LOOP_MODES, 'LoopMode', 'Automatic');
    const tags = p.Tags === undefined ? {} : tagsParam(p.Tags);
    let depth = 0;
    let chain: string[] = [];
    let parentId: string | undefined;
    if (p.ParentExecutionId) {
      const parent = await this.requireExecution(p.ParentExecutionId);
      const pm = metaOf(parent.tags);
      depth = pm.Depth + 1;
      chain = pm.Chain.length > 0 ? [...pm.Chain] : [parent.definitionName];
      parentId = parent.id;
      if (depth > MAX_TEMPLATE_DEPTH) throw invalidParameter(`ParentExecutionId: executions nest at most ${MAX_TEMPLATE_DEPTH} levels deep (the parent is at level ${pm.Depth}).`);
      if (p.TemplateName && chain.includes(p.TemplateName)) throw invalidParameter(`ParentExecutionId: template ${p.TemplateName} is already on the chain ${chain.join(' → ')} (cycles are refused).`);
    }
    await this.checkQuota();
    return {
      Execution: await this.start({
        ...(p.TemplateName ? { templateName: p.TemplateName } : {}),
        ...(p.TemplateVersion ? { templateVersion: p.TemplateVersion } : {}),
        ...(p.TemplateContent ? { content: p.TemplateContent } : {}),
        ...(p.TemplateURL ? { url: p.TemplateURL } : {}),
        parameters: p.Parameters,
        mode,
        safety,
        loopMode,
        description: p.Description ?? '',
        tags,
        resourceGroupId: p.ResourceGroupId ?? '',
        depth,
        chain,
        ...(parentId ? { parentId } : {}),
        ...(p.ClientToken ? { clientToken: clientTokenKey(p.ClientToken) } : {}),
      }),
    };
  }

  private async start(s: {
    templateName?: string;
    templateVersion?: string;
    content?: string;
    url?: string;
    parameters: Json | undefined;
    mode: ExecutionModeName;
    safety: SafetyCheck;
    loopMode: string;
    description: string;
    tags: JsonObject;
    resourceGroupId: string;
    depth: number;
    chain: string[];
    parentId?: string;
    parentTaskName?: string;
    clientToken?: string;
  }): Promise<ExecutionView> {
    if (s.url) throw invalidParameter('TemplateURL is not supported by flowrun (no OSS access); pass TemplateName or TemplateContent.');
    if ((s.templateName === undefined) === (s.content === undefined)) throw invalidParameter('Give exactly one of TemplateName and TemplateContent.');
    let name = '';
    let version = 0;
    let template: CompiledTemplate;
    let flow: CompiledFlow;
    let templateId: string;
    if (s.templateName !== undefined) {
      const resolved = await this.templates.resolve(s.templateName, s.templateVersion ? parseTemplateVersion(s.templateVersion) : undefined);
      name = resolved.name;
      version = resolved.version;
      template = resolved.template;
      flow = resolved.flow;
      templateId = resolved.record ? metadataOf(resolved.record).TemplateId : '';
    } else {
      const content = s.content ?? '';
      const compiled = this.templates.compile(undefined, content);
      template = compiled.template;
      flow = compiled.flow;
      templateId = `t-${sha256(content).slice(0, 20)}`;
    }
    const id = newExecutionId();
    let input: JsonObject;
    try {
      input = checkParameters(template, typeof s.parameters === 'string' ? s.parameters : (s.parameters ?? {}), id);
    } catch (err) {
      throw parameterError(err);
    }
    const meta: ExecutionMeta = {
      Mode: s.mode,
      SafetyCheck: s.safety,
      LoopMode: s.loopMode,
      Description: s.description,
      TemplateId: templateId,
      TemplateVersion: version > 0 ? templateVersionName(version) : '',
      Depth: s.depth,
      Chain: [...s.chain, name === '' ? template.name : name],
      RamRole: typeof template.document['RamRole'] === 'string' && !template.document['RamRole'].includes('{{') ? template.document['RamRole'] : DEFAULT_RAM_ROLE,
      ResourceGroupId: s.resourceGroupId,
      ExecutedBy: this.options.executedBy,
    };
    if (s.content !== undefined) meta.Content = s.content;
    if (s.parentTaskName !== undefined) meta.ParentTaskName = s.parentTaskName;
    this.live.set(id, template);
    // past the number of executions running at once, a top-level execution waits in the queue
    const queued = s.parentId === undefined && (await this.mustQueue());
    let result;
    try {
      result = await this.runner.startExecution({
        ...(queued ? { queued: true } : {}),
        id,
        flow: withLoopMode(template, flow, s.loopMode),
        kind: 'template',
        ...(this.options.account !== undefined ? { account: this.options.account } : {}),
        definitionName: name,
        definitionVersion: version,
        name: id,
        input,
        ...(s.parentId !== undefined ? { parentId: s.parentId } : {}),
        mode: s.mode,
        tags: tagsWithMeta(s.tags, meta),
        ...(s.clientToken !== undefined ? { clientToken: s.clientToken } : {}),
      });
    } catch (err) {
      this.live.delete(id);
      throw err;
    }
    if (!result.created || queued) this.live.delete(id);
    // a slot may have come free between the check and the insert: the queue moves on by itself
    if (result.created && queued) this.track(this.startQueued());
    const record = result.execution;
    this.log.info({ executionId: record.id, template: name || '(content)', mode: s.mode }, 'execution started');
    // StartExecution answers as the execution was created (seed 001): the runner moves it on.
    // A new execution's view needs no store read (no task has a row yet, no child exists).
    if (!result.created) return this.view(record, { parametersAsText: true });
    return {
      ...baseView(record, meta, { parametersAsText: true }),
      Status: 'Started',
      StatusMessage: '',
      StatusReason: '',
      WaitingStatus: '',
      Outputs: '{}',
      Counters: {},
      CurrentTasks: [],
      IsParent: false,
      EndDate: '',
    };
  }

  /** NotifyExecution: checked against the execution's state, then handed to its runner. */
  async notifyExecution(p: NotifyExecutionParams, caller: string): Promise<Record<string, never>> {
    const execution = await this.requireExecution(p.ExecutionId);
    const type = p.NotifyType as NotifyType;
    if (!(NOTIFY_TYPES as readonly string[]).includes(p.NotifyType)) throw invalidParameter(`NotifyType must be one of ${NOTIFY_TYPES.join(', ')}, got '${p.NotifyType}'.`);
    const refuse = (reason: string): FlowrunError => oosApiError(OosExecutionErrorCodes.ExecutionNotifyFailed, { args: [type, execution.id], reason });
    if (isFinishedStatus(execution.status)) throw refuse(`the execution has finished (${execution.status}).`);
    const meta = metaOf(execution.tags);
    const open = (await this.store.listTasks(execution.id, { openOnly: true })).map(storedOpenTask);
    let targets = open;
    const teIds = teIdList(p);
    if (teIds.length > 0) {
      const derived = await this.derive(await this.context(execution));
      targets = [];
      for (const teId of teIds) {
        const te = derived.tasks.find((t) => t.id === teId);
        if (!te) throw oosApiError(OosExecutionErrorCodes.TaskExecutionNotFound, { args: [teId] });
        targets.push(...open.filter((t) => t.stateName === te.name && samePath(t.path, te.path)));
      }
    }
    if (p.TaskName && type !== 'ExecuteTask') targets = targets.filter((t) => t.stateName === p.TaskName);
    if (p.LoopItem) {
      const rows = await this.store.listResourceStatuses(execution.id, { limit: 100_000 });
      const indexes = new Set(rows.filter((r) => r.resourceId === p.LoopItem || JSON.stringify(r.outputs['LoopItem']) === p.LoopItem).map((r) => r.outputs['Index']));
      targets = targets.filter((t) => t.path.length > 0 && indexes.has(t.path[0] as number));
    }
    const payload: NotifyPayload = {
      NotifyType: type,
      TaskIds: teIds.length > 0 || p.TaskName || p.LoopItem ? targets.map((t) => t.id) : [],
      TaskName: p.TaskName ?? '',
      Approver: caller,
      NotifyNote: p.NotifyNote ?? '',
      Parameters: {},
      ExecutionStatus: '',
    };
    const modeNeeded = (modes: ExecutionModeName[], what: string): void => {
      if (!modes.includes(meta.Mode)) throw refuse(`${what} is only valid in ${modes.join(' or ')} mode; the execution runs in ${meta.Mode} mode.`);
    };
    const scoped = teIds.length > 0 || !!p.TaskName || !!p.LoopItem;
    // loops waiting before a batch (no open task: the Map frame waits)
    const template = this.templateOf(execution.id) ?? (await this.context(execution)).template;
    const paused = pausedLoops(execution.state, (frame) => nodeName(template, frame)).filter((l) => !p.TaskName || l.taskName === p.TaskName);
    const pausedTargeted = paused.length > 0 && teIds.length === 0 && !p.LoopItem;
    if ((type === 'Approve' || type === 'Reject') && pausedTargeted) payload.TaskIds = [];
    if ((type === 'RetryTask' || type === 'SkipTask' || type === 'Approve' || type === 'Reject' || type === 'CancelTask') && scoped && targets.length === 0 && !((type === 'Approve' || type === 'Reject') && pausedTargeted)) {
      throw refuse(`no open task matches ${[p.TaskName ? `TaskName ${p.TaskName}` : '', teIds.length > 0 ? `TaskExecutionId ${teIds.join(', ')}` : '', p.LoopItem ? `LoopItem ${p.LoopItem}` : ''].filter((x) => x).join(' and ')}.`);
    }
    switch (type) {
      case 'Approve':
      case 'Reject':
        if (!targets.some((t) => awaitsApproval(t) || isConfirmable(t)) && !pausedTargeted) {
          throw refuse(`the execution is not waiting for an approval, a high-risk confirmation or the next batch (status ${execution.status}).`);
        }
        break;
      case 'ExecuteTask': {
        modeNeeded(['Debug'], 'ExecuteTask');
        if (!p.TaskName) throw invalidParameter('TaskName is required with NotifyType ExecuteTask.');
        const next = open.filter((t) => holdReason(t) === 'Debug');
        if (next.length === 0) throw refuse(`no task waits to be executed (status ${execution.status}${open.some((t) => !t.hold) ? ', a task is running' : ''}).`);
        if (!next.some((t) => t.stateName === p.TaskName)) {
          throw refuse(`the next task is ${[...new Set(next.map((t) => t.stateName))].join(', ')}; flowrun runs tasks in template order, so TaskName must name it (got ${p.TaskName}).`);
        }
        payload.TaskIds = next.filter((t) => t.stateName === p.TaskName).map((t) => t.id);
        payload.Parameters = p.Parameters === undefined ? {} : objectParam(p.Parameters, 'Parameters');
        break;
      }
      case 'CancelTask':
        modeNeeded(['Debug'], 'CancelTask');
        if (!targets.some((t) => !t.hold && t.mode === 'RequestComplete')) throw refuse('no task is running.');
        break;
      case 'CompleteExecution':
        modeNeeded(['Debug'], 'CompleteExecution');
        payload.ExecutionStatus = oneOf(p.ExecutionStatus, ['Success', 'Failed', 'Cancelled'], 'ExecutionStatus', 'Success');
        break;
      case 'RetryTask':
      case 'SkipTask':
        modeNeeded(['FailurePause', 'Debug'], type);
        if (!targets.some((t) => holdReason(t) === 'Failure')) throw refuse(`no failed task is paused (status ${execution.status}).`);
        break;
    }
    await this.runner.signal(execution.id, NOTIFY_SIGNAL, payload);
    return {};
  }

  /** CancelExecution: the execution and its running children end Cancelled; running tasks are aborted. */
  async cancelExecution(p: ExecutionIdParams): Promise<Record<string, never>> {
    const execution = await this.requireExecution(p.ExecutionId);
    if (isFinishedStatus(execution.status)) {
      throw oosApiError(OosExecutionErrorCodes.ExecutionCancelFailed, { args: [`(${execution.id} has already finished: ${execution.status})`] });
    }
    await this.cancelTree(execution.id, 'the execution was cancelled by CancelExecution');
    await this.waitForEnd(execution.id, this.options.cancelWaitMs ?? DEFAULT_CANCEL_WAIT_MS);
    return {};
  }

  async listExecutions(p: ListExecutionsParams): Promise<{ Executions: ExecutionView[]; MaxResults: number; NextToken?: string; TotalCount: number }> {
    const limit = maxResults(p.MaxResults, PAGE_10_100);
    const status = p.Status ? oneOf(p.Status, [...OOS_EXECUTION_STATUSES], 'Status', '') : undefined;
    const mode = p.Mode ? oneOf(p.Mode, EXECUTION_MODES, 'Mode', '') : undefined;
    const depth = p.Depth ? oneOf(p.Depth, ['RootDepth', 'FirstChildDepth'], 'Depth', '') : undefined;
    const sortField = oneOf(p.SortField, ['StartDate', 'EndDate', 'Status'], 'SortField', 'StartDate');
    const order = oneOf(p.SortOrder, ['Ascending', 'Descending'], 'SortOrder', 'Descending');
    const tags = p.Tags === undefined ? undefined : tagsParam(p.Tags);
    const times = {
      startBefore: timeParam(p.StartDateBefore, 'StartDateBefore'),
      startAfter: timeParam(p.StartDateAfter, 'StartDateAfter'),
      endBefore: timeParam(p.EndDateBefore, 'EndDateBefore'),
      endAfter: timeParam(p.EndDateAfter, 'EndDateAfter'),
    };
    const scope = sha256(JSON.stringify({ ...p, MaxResults: undefined, NextToken: undefined })).slice(0, 16);
    let records = await this.allExecutions(status);
    let resourceIds: Set<string> | undefined;
    if (p.ResourceId) {
      resourceIds = new Set();
      for (const e of records) {
        const rows = await this.store.listResourceStatuses(e.id, { limit: 100_000 });
        if (rows.some((r) => r.resourceId === p.ResourceId)) resourceIds.add(e.id);
      }
    }
    records = records.filter((e) => {
      const m = metaOf(e.tags);
      if (p.ExecutionId && e.id !== p.ExecutionId) return false;
      if (p.TemplateName && !e.definitionName.toLowerCase().includes(p.TemplateName.toLowerCase())) return false;
      if (mode && m.Mode !== mode) return false;
      if (p.ExecutedBy && m.ExecutedBy !== p.ExecutedBy) return false;
      if (p.RamRole && m.RamRole !== p.RamRole) return false;
      if (p.ParentExecutionId && e.parentId !== p.ParentExecutionId) return false;
      if (depth === 'RootDepth' && e.parentId !== undefined) return false;
      if (depth === 'FirstChildDepth' && m.Depth !== 1) return false;
      // children are listed when asked for (IncludeChildExecution, a parent, an id or a depth)
      if (!depth && !p.ParentExecutionId && !p.ExecutionId && p.IncludeChildExecution !== true && e.parentId !== undefined) return false;
      if (p.Category && p.Category !== 'Other') return false;
      if (p.Description && !m.Description.includes(p.Description)) return false;
      if (p.ResourceGroupId && m.ResourceGroupId !== p.ResourceGroupId) return false;
      if (tags && !Object.entries(tags).every(([k, v]) => e.tags[k] === v)) return false;
      if (times.startBefore !== undefined && e.startedAt >= times.startBefore) return false;
      if (times.startAfter !== undefined && e.startedAt <= times.startAfter) return false;
      if (times.endBefore !== undefined && (e.stoppedAt === undefined || e.stoppedAt >= times.endBefore)) return false;
      if (times.endAfter !== undefined && (e.stoppedAt === undefined || e.stoppedAt <= times.endAfter)) return false;
      if (resourceIds && !resourceIds.has(e.id)) return false;
      return true;
    });
    const key = (e: ExecutionRecord): string | number => (sortField === 'EndDate' ? (e.stoppedAt ?? Number.MAX_SAFE_INTEGER) : sortField === 'Status' ? e.status : e.startedAt);
    records.sort((a, b) => compare(key(a), key(b), order) || compare(a.startedAt, b.startedAt, order) || compare(a.id, b.id, order));
    const { page, next } = pageOf(records, limit, p.NextToken, 'oos-executions', scope);
    const views: ExecutionView[] = [];
    for (const e of page) views.push(await this.view(e, { parametersAsText: false }));
    return { Executions: views, MaxResults: limit, ...(next ? { NextToken: next } : {}), TotalCount: records.length };
  }

  async listTaskExecutions(p: ListTaskExecutionsParams): Promise<{ TaskExecutions: TaskExecutionView[]; MaxResults: number; NextToken?: string }> {
    const limit = maxResults(p.MaxResults, PAGE_20_100);
    const executionId = p.ExecutionId ?? (p.TaskExecutionId ? p.TaskExecutionId.split('.')[0] : undefined) ?? (p.ParentTaskExecutionId ? p.ParentTaskExecutionId.split('.')[0] : undefined);
    if (!executionId) throw invalidParameter('ExecutionId is required (or a TaskExecutionId).');
    const status = p.Status ? oneOf(p.Status, [...OOS_TASK_STATUSES], 'Status', '') : undefined;
    const order = oneOf(p.SortOrder, ['Ascending', 'Descending'], 'SortOrder', 'Descending');
    const sortField = oneOf(p.SortField, ['StartDate', 'EndDate', 'Status'], 'SortField', 'StartDate');
    const ctx = await this.context(await this.requireExecution(executionId));
    const derived = await this.derive(ctx);
    const times = {
      startBefore: timeParam(p.StartDateBefore, 'StartDateBefore'),
      startAfter: timeParam(p.StartDateAfter, 'StartDateAfter'),
      endBefore: timeParam(p.EndDateBefore, 'EndDateBefore'),
      endAfter: timeParam(p.EndDateAfter, 'EndDateAfter'),
    };
    if (p.TaskExecutionId && !derived.tasks.some((t) => t.id === p.TaskExecutionId)) throw oosApiError(OosExecutionErrorCodes.TaskExecutionNotFound, { args: [p.TaskExecutionId] });
    const order0 = new Map(derived.tasks.map((t, i) => [t.id, i]));
    const rows = derived.tasks.filter((t) => {
      if (p.TaskExecutionId && t.id !== p.TaskExecutionId) return false;
      if (p.ParentTaskExecutionId) {
        if (t.parentId !== p.ParentTaskExecutionId) return false;
      } else if (t.parentId !== undefined && p.IncludeChildTaskExecution !== true && !p.TaskExecutionId) return false;
      if (p.TaskName && t.name !== p.TaskName) return false;
      if (p.TaskAction && t.action.toLowerCase() !== p.TaskAction.toLowerCase()) return false;
      if (status && t.status !== status) return false;
      if (times.startBefore !== undefined && t.start >= times.startBefore) return false;
      if (times.startAfter !== undefined && t.start <= times.startAfter) return false;
      if (times.endBefore !== undefined && (t.end === undefined || t.end >= times.endBefore)) return false;
      if (times.endAfter !== undefined && (t.end === undefined || t.end <= times.endAfter)) return false;
      return true;
    });
    const key = (t: TaskExecution): string | number => (sortField === 'EndDate' ? (t.end ?? Number.MAX_SAFE_INTEGER) : sortField === 'Status' ? t.status : t.start);
    rows.sort((a, b) => compare(key(a), key(b), order) || compare(order0.get(a.id) ?? 0, order0.get(b.id) ?? 0, order));
    const { page, next } = pageOf(rows, limit, p.NextToken, 'oos-tasks', sha256(JSON.stringify({ ...p, MaxResults: undefined, NextToken: undefined })).slice(0, 16));
    return { TaskExecutions: page.map((t) => taskExecutionView(t, ctx.record.id, ctx.meta.TemplateId)), MaxResults: limit, ...(next ? { NextToken: next } : {}) };
  }

  async getExecutionTemplate(p: ExecutionIdParams): Promise<{ Content: string; Template: JsonObject }> {
    const ctx = await this.context(await this.requireExecution(p.ExecutionId));
    const template: JsonObject = ctx.definition
      ? { ...this.templates.view(ctx.definition) }
      : {
          CreatedBy: ctx.meta.ExecutedBy,
          CreatedDate: iso(ctx.record.startedAt),
          Description: ctx.template ? descriptionOf(ctx.template.document) : '',
          Hash: sha256(ctx.content),
          ShareType: 'Private',
          Tags: {},
          TemplateFormat: ctx.content.trimStart().startsWith('{') ? 'JSON' : 'YAML',
          TemplateId: ctx.meta.TemplateId,
          TemplateName: ctx.record.definitionName,
          TemplateVersion: ctx.meta.TemplateVersion,
          UpdatedBy: ctx.meta.ExecutedBy,
          UpdatedDate: iso(ctx.record.startedAt),
        };
    return { Content: ctx.content, Template: template };
  }

  /** ListExecutionRiskyTasks: the high-risk API calls a template (and the templates it embeds) makes. */
  async listExecutionRiskyTasks(p: { TemplateName: string }): Promise<{ RiskyTasks: RiskyTask[] }> {
    const out: RiskyTask[] = [];
    const walk = async (name: string, taskPath: string[], templatePath: string[]): Promise<void> => {
      const { template } = await this.templates.resolve(name);
      for (const t of template.tasks) {
        if (t.risk.highRisk) out.push({ Service: t.risk.service ?? (t.kind === 'product' ? (t.action.split('::')[1] ?? '') : ''), API: t.kind === 'product' ? (t.action.split('::')[2] ?? t.action) : (t.risk.api ?? ''), Task: [...taskPath, t.name], Template: [...templatePath, name] });
        if (t.kind !== 'template' || templatePath.length + 1 >= MAX_TEMPLATE_DEPTH + 1) continue;
        const def = (Array.isArray(template.document['Tasks']) ? template.document['Tasks'] : []).find((d) => isJsonObject(d) && d['Name'] === t.name);
        const props = def !== undefined && isJsonObject(def) && isJsonObject(def['Properties'] ?? null) ? (def['Properties'] as JsonObject) : {};
        const child = props['TemplateName'];
        if (typeof child !== 'string' || child.includes('{{') || templatePath.includes(child) || child === name) continue;
        if (!(await this.templates.find(child))) continue;
        await walk(child, [...taskPath, t.name], [...templatePath, name]);
      }
    };
    await walk(p.TemplateName, [], []);
    return { RiskyTasks: out };
  }

  /** DeleteExecutions: finished ones (and, with Force, running ones, cancelled first); children go with their parent. */
  async deleteExecutions(p: DeleteExecutionsParams): Promise<Record<string, never>> {
    const ids = idList(p.ExecutionIds, 'ExecutionIds', MAX_DELETE_EXECUTION_IDS);
    const records: ExecutionRecord[] = [];
    for (const id of ids) records.push(await this.requireExecution(id));
    const running = records.filter((r) => !isFinishedStatus(r.status));
    if (running.length > 0 && p.Force !== true) {
      throw invalidParameter(`executions ${running.map((r) => r.id).join(', ')} are still ${running.map((r) => r.status).join('/')}; cancel them first or pass Force=true.`);
    }
    await this.deleteRecords(records, p.Force === true);
    return {};
  }

  async listExecutionLogs(p: ListExecutionLogsParams): Promise<{ ExecutionLogs: JsonObject[]; IsTruncated: boolean; MaxResults: number; NextToken?: string }> {
    const limit = maxResults(p.MaxResults, PAGE_10_100);
    const ctx = await this.context(await this.requireExecution(p.ExecutionId));
    const derived = await this.derive(ctx);
    if (p.TaskExecutionId && !derived.tasks.some((t) => t.id === p.TaskExecutionId)) throw oosApiError(OosExecutionErrorCodes.TaskExecutionNotFound, { args: [p.TaskExecutionId] });
    const logs = derived.logs.filter((l) => (!p.TaskExecutionId || l.TaskExecutionId === p.TaskExecutionId) && (!p.LogType || l.LogType === p.LogType));
    const { page, next } = pageOf(logs, limit, p.NextToken, 'oos-logs', `${ctx.record.id}\u0000${p.TaskExecutionId ?? ''}\u0000${p.LogType ?? ''}`);
    return { ExecutionLogs: page.map((l) => ({ ...l })), IsTruncated: next !== undefined, MaxResults: limit, ...(next ? { NextToken: next } : {}) };
  }

  /**
   * ListResourceExecutionStatus: one row per resource a loop task of the execution (or of its
   * child executions) ran on, in (execution, task, resource id) order; the token is a cursor into
   * that order, so each row is returned exactly once.
   */
  async listResourceExecutionStatus(p: ListResourceExecutionStatusParams): Promise<{ ResourceExecutionStatus: JsonObject[]; MaxResults: number; NextToken?: string }> {
    const limit = maxResults(p.MaxResults, PAGE_10_100);
    const execution = await this.store.getExecution(p.ExecutionId);
    if (!execution || execution.kind !== 'template') throw oosApiError(OosExecutionErrorCodes.ExecutionNotFoundResource, { message: `The specified execution does not exist: ${p.ExecutionId}.` });
    if (this.options.account !== undefined && execution.account !== this.options.account) throw noPermission(`execution ${p.ExecutionId}`);
    const ids = [execution.id, ...(await this.descendants(execution.id)).map((e) => e.id).sort()];
    let at = 0;
    let after: { taskName: string; resourceId: string } | undefined;
    if (p.NextToken) {
      const t = decodeToken(p.NextToken, 'oos-resources', execution.id);
      const x = typeof t['x'] === 'string' ? ids.indexOf(t['x']) : -1;
      if (x < 0 || typeof t['t'] !== 'string' || typeof t['r'] !== 'string') throw invalidParameter('NextToken is not a valid paging token for this request.');
      at = x;
      after = { taskName: t['t'], resourceId: t['r'] };
    }
    const rows: { executionId: string; row: ResourceStatusRecord }[] = [];
    for (; at < ids.length && rows.length <= limit; at++, after = undefined) {
      const id = ids[at] as string;
      const batch = await this.store.listResourceStatuses(id, { limit: limit + 1 - rows.length, ...(after ? { after } : {}) });
      for (const row of batch) rows.push({ executionId: id, row });
    }
    const page = rows.slice(0, limit);
    const out: { ResourceExecutionStatus: JsonObject[]; MaxResults: number; NextToken?: string } = {
      ResourceExecutionStatus: page.map(({ executionId, row }) => {
        const outputs = row.outputs['Error'] !== undefined ? { Error: row.outputs['Error'] } : (row.outputs['Outputs'] ?? {});
        const started = typeof row.outputs['StartedAt'] === 'number' ? row.outputs['StartedAt'] : row.updatedAt;
        return { ResourceId: row.resourceId, Status: row.status, Outputs: JSON.stringify(outputs), ExecutionTime: iso(started), ExecutionId: executionId };
      }),
      MaxResults: limit,
    };
    const last = page[page.length - 1];
    if (rows.length > limit && last) out.NextToken = encodeToken('oos-resources', execution.id, { x: last.executionId, t: last.row.taskName, r: last.row.resourceId });
    return out;
  }

  // -------------------------------------------------------------------------------- children

  /** Runs an ACS::Template child execution to its end (the engine's ChildTemplateStarter). */
  readonly startChild = async (req: ChildTemplateRequest): Promise<ChildTemplateResult> => {
    const parent = await this.store.getExecution(req.parentExecutionName);
    if (!parent) return { status: 'Failed', error: { Code: 'OOS.ChildExecutionFailed', Detail: `the parent execution ${req.parentExecutionName} is gone` } };
    // a child runs in its parent's account (its templates, its executions)
    const owner = this.forAccount(parent.account);
    const pm = metaOf(parent.tags);
    // Idempotent across restarts (the parent's task runs again): an active or successful child of
    // the same task and parameters is waited for again; a failed one is replaced by a new one.
    const base = `oos-child:${parent.id}:${req.taskName}:${sha256(JSON.stringify(req.parameters)).slice(0, 16)}`;
    let n = 0;
    let existing: ExecutionRecord | undefined;
    for (; ; n++) {
      const e = await this.store.findExecutionByClientToken(`${base}:${n}`);
      if (!e) break;
      existing = e;
    }
    let childId: string;
    if (existing && (!isFinishedStatus(existing.status) || existing.status === 'Success')) {
      childId = existing.id;
    } else {
      try {
        const view = await owner.start({
          templateName: req.templateName,
          ...(req.templateVersion ? { templateVersion: req.templateVersion } : {}),
          parameters: req.parameters,
          mode: 'Automatic',
          safety: pm.SafetyCheck,
          loopMode: 'Automatic',
          description: `child of ${parent.id} (task ${req.taskName})`,
          tags: {},
          resourceGroupId: pm.ResourceGroupId,
          depth: req.depth,
          chain: [...req.chain.slice(0, -1)],
          parentId: parent.id,
          parentTaskName: req.taskName,
          clientToken: `${base}:${n}`,
        });
        childId = view.ExecutionId;
      } catch (err) {
        const code = err instanceof FlowrunError ? err.code : 'OOS.ChildExecutionFailed';
        return { status: 'Failed', error: { Code: code, Detail: err instanceof Error ? err.message : String(err) } };
      }
    }
    const done = await this.waitForEnd(childId, Number.POSITIVE_INFINITY, req.signal);
    if (!done) return { status: 'Failed', error: { Code: 'OOS.ChildExecutionFailed', Detail: `child execution ${childId} is gone` }, executionId: childId };
    if (!isFinishedStatus(done.status)) throw new FlowrunError(OosLifecycleErrorNames.Cancelled, `stopped waiting for child execution ${childId}`);
    const result: ChildTemplateResult = { status: done.status, executionId: childId };
    if (done.output !== undefined && isJsonObject(done.output)) result.outputs = done.output;
    if (done.error) result.error = done.error;
    return result;
  };

  /**
   * After an execution finished here: a parent that did not succeed cancels its running children;
   * a slot is free for the queue (when executions are queued at all).
   */
  onFinished(executionId: string, status: string): void {
    this.live.delete(executionId);
    if (this.queueing) {
      this.track(
        (async () => {
          const record = await this.store.getExecution(executionId);
          if (record && record.parentId === undefined) await this.forAccount(record.account).startQueued();
        })(),
      );
    }
    if (status === 'Success') return;
    this.track(this.cancelChildren(executionId, `the parent execution ${executionId} ended ${status}`));
  }

  // ------------------------------------------------------------------------------------ queue

  private get queueing(): boolean {
    return Number.isFinite(this.options.maxConcurrentExecutions ?? Number.POSITIVE_INFINITY);
  }

  /** Whether a new top-level execution must wait: the queue is not empty, or every slot is taken. */
  private async mustQueue(): Promise<boolean> {
    const limit = this.options.maxConcurrentExecutions ?? Number.POSITIVE_INFINITY;
    if (!Number.isFinite(limit)) return false;
    // first come, first served (only top-level executions are ever queued)
    if ((await this.store.listExecutions({ kind: 'template', status: QUEUED_STATUS, account: this.account }, { limit: 1 })).items.length > 0) return true;
    return (await this.runningTopLevel(limit)) >= limit;
  }

  /** Top-level executions of this account that hold a slot (Running, Waiting), counted up to `upTo`. */
  private async runningTopLevel(upTo: number): Promise<number> {
    let n = 0;
    for (const status of ['Running', 'Waiting']) {
      let after: { startedAt: number; id: string } | undefined;
      for (;;) {
        const page = await this.store.listExecutions({ kind: 'template', status, account: this.account }, { limit: 100, ...(after ? { after } : {}) });
        n += page.items.filter((e) => e.parentId === undefined).length;
        if (n >= upTo || !page.next) break;
        after = page.next;
      }
      if (n >= upTo) return n;
    }
    return n;
  }

  /** Queued executions of this account, oldest first. */
  private async queuedTopLevel(): Promise<ExecutionRecord[]> {
    return (await this.allExecutions(QUEUED_STATUS)).reverse();
  }


  /**
   * Starts queued executions of this account, oldest first, while slots are free. Runs one at a
   * time per account (the calls are chained), so two endings never start the same slot twice here;
   * another instance starting one first is harmless (the store hands each out once).
   */
  startQueued(): Promise<void> {
    const run = async (): Promise<void> => {
      const limit = this.options.maxConcurrentExecutions ?? Number.POSITIVE_INFINITY;
      if (!Number.isFinite(limit)) return;
      let running = await this.runningTopLevel(limit);
      if (running >= limit) return;
      for (const q of await this.queuedTopLevel()) {
        if (running >= limit) break;
        if (await this.runner.startQueued(q.id)) running++;
        else this.live.delete(q.id); // started or ended elsewhere, or it could not start
      }
    };
    const next = this.queueChain.then(run, run);
    this.queueChain = next.catch((err: unknown) => this.log.error({ err }, 'starting queued executions failed'));
    return next;
  }

  /** The queues of every account (at start: what a previous process left queued). Never rejects: a failure is logged. */
  async startAllQueued(): Promise<void> {
    if (!this.queueing) return;
    try {
      const accounts = new Set((await this.allExecutions(QUEUED_STATUS)).map((e) => e.account));
      for (const account of accounts) await this.forAccount(account).startQueued();
    } catch (err) {
      this.log.error({ err }, 'starting queued executions failed');
    }
  }


  // -------------------------------------------------------------------------------- internals

  /** The compiled template of an execution driven here. */
  templateOf(executionId: string): CompiledTemplate | undefined {
    return this.live.get(executionId);
  }

  /** For the runner's resume: the flow an execution runs. */
  async resolveFlow(record: ExecutionRecord): Promise<CompiledFlow> {
    if (record.account !== this.account) return this.forAccount(record.account).resolveFlow(record);
    const meta = metaOf(record.tags);
    if (meta.Content !== undefined) {
      const compiled = this.templates.compile(undefined, meta.Content);
      this.live.set(record.id, compiled.template);
      return withLoopMode(compiled.template, compiled.flow, meta.LoopMode);
    }
    const resolved = await this.templates.resolve(record.definitionName, record.definitionVersion);
    this.live.set(record.id, resolved.template);
    return withLoopMode(resolved.template, resolved.flow, meta.LoopMode);
  }

  /** Runs `fn` on {@link close} (last added, first run). */
  addCloser(fn: () => Promise<void>): void {
    this.closers.push(fn);
  }

  /**
   * Stops the service's own parts (its task engine, its hooks on the runner) after the background
   * work it started. Close the runner first: executions stay where they are and resume later.
   */
  async close(): Promise<void> {
    await Promise.allSettled([...this.background]);
    for (const fn of this.closers.splice(0).reverse()) await fn();
  }

  private track(promise: Promise<unknown>): void {
    const tracked = promise.catch((err: unknown) => this.log.error({ err }, 'background work failed'));
    this.background.add(tracked);
    void tracked.finally(() => this.background.delete(tracked));
  }

  private async requireExecution(id: string): Promise<ExecutionRecord> {
    if (typeof id !== 'string' || id === '') throw invalidParameter('ExecutionId is required.');
    const e = await this.store.getExecution(id);
    if (!e || e.kind !== 'template') throw oosApiError(OosExecutionErrorCodes.ExecutionNotFound, { args: [id] });
    if (this.options.account !== undefined && e.account !== this.options.account) throw noPermission(`execution ${id}`);
    return e;
  }

  private async checkQuota(): Promise<void> {
    const max = this.options.maxRunningExecutions;
    let running = 0;
    for (const status of ACTIVE_STATUSES) {
      const page = await this.store.listExecutions({ kind: 'template', status, ...(this.options.account !== undefined ? { account: this.options.account } : {}) }, { limit: max + 1 });
      running += page.items.length;
      if (running >= max) throw oosApiError(OosExecutionErrorCodes.QuotaExceed, { args: ['RunningExecutions', String(max)] });
    }
  }

  /** Every template execution (newest first), optionally of one status. */
  private async allExecutions(status?: string): Promise<ExecutionRecord[]> {
    const out: ExecutionRecord[] = [];
    let after: { startedAt: number; id: string } | undefined;
    for (;;) {
      const page = await this.store.listExecutions(
        { kind: 'template', ...(status ? { status } : {}), ...(this.options.account !== undefined ? { account: this.options.account } : {}) },
        { limit: 500, ...(after ? { after } : {}) },
      );
      out.push(...page.items);
      if (!page.next) return out;
      after = page.next;
    }
  }

  private async children(id: string): Promise<ExecutionRecord[]> {
    const page = await this.store.listExecutions({ kind: 'template', parentId: id, ...(this.options.account !== undefined ? { account: this.options.account } : {}) }, { limit: 10_000 });
    return page.items;
  }

  private async descendants(id: string): Promise<ExecutionRecord[]> {
    const out: ExecutionRecord[] = [];
    let level = [id];
    for (let depth = 0; depth <= MAX_TEMPLATE_DEPTH + 1 && level.length > 0; depth++) {
      const next: string[] = [];
      for (const p of level) {
        for (const c of await this.children(p)) {
          if (out.some((o) => o.id === c.id)) continue;
          out.push(c);
          next.push(c.id);
        }
      }
      level = next;
    }
    return out;
  }

  private async cancelTree(id: string, reason: string): Promise<void> {
    const error = { Code: OosLifecycleErrorNames.Cancelled, Detail: reason };
    // a queued execution has not started: it ends here (no runner drives it to take a signal)
    if (await this.runner.endQueued(id, 'Cancelled', error)) return;
    await this.runner.signal(id, SignalTypes.Stop, { error });
    await this.cancelChildren(id, reason);
  }

  private async cancelChildren(id: string, reason: string): Promise<void> {
    for (const child of await this.descendants(id)) {
      if (!isFinishedStatus(child.status)) await this.runner.signal(child.id, SignalTypes.Stop, { error: { Code: OosLifecycleErrorNames.Cancelled, Detail: reason } });
    }
  }

  private async deleteRecords(records: readonly ExecutionRecord[], force: boolean): Promise<void> {
    const all = new Map<string, ExecutionRecord>();
    for (const r of records) {
      all.set(r.id, r);
      for (const d of await this.descendants(r.id)) all.set(d.id, d);
    }
    for (const r of all.values()) {
      if (!isFinishedStatus(r.status)) {
        if (!force) continue;
        await this.cancelTree(r.id, 'the execution was deleted');
        await this.waitForEnd(r.id, this.options.cancelWaitMs ?? DEFAULT_CANCEL_WAIT_MS);
      }
      await this.store.deleteExecution(r.id);
    }
  }

  /**
   * Waits (on the clock) until the execution has finished or `ms` have passed; resolves it as it
   * is then (undefined when it is gone). Driven here: woken when it finishes; elsewhere: re-read
   * every poll interval.
   */
  private async waitForEnd(id: string, ms: number, signal?: AbortSignal): Promise<ExecutionRecord | undefined> {
    const until = this.clock.now() + ms;
    const wake = new AbortController();
    const off = this.runner.onFinished((f) => {
      if (f.id === id) wake.abort();
    });
    const stop = signal ? AbortSignal.any([signal, wake.signal]) : wake.signal;
    try {
      for (;;) {
        const fresh = await this.store.getExecution(id);
        if (!fresh) return undefined;
        const left = until - this.clock.now();
        if (isFinishedStatus(fresh.status) || left <= 0 || signal?.aborted) return fresh;
        if (wake.signal.aborted) continue;
        try {
          await this.clock.sleep(Math.min(left, this.options.waitPollMs ?? DEFAULT_WAIT_POLL_MS), stop);
        } catch {
          // woken: read once more
        }
      }
    } finally {
      off();
    }
  }

  private async context(record: ExecutionRecord): Promise<Context> {
    const meta = metaOf(record.tags);
    let content = meta.Content ?? '';
    let definition: DefinitionRecord | undefined;
    if (meta.Content === undefined) {
      definition = await this.templates.find(record.definitionName, record.definitionVersion);
      content = definition?.content ?? '';
    }
    let template: CompiledTemplate | undefined;
    try {
      template = content === '' ? undefined : this.templates.compile(meta.Content === undefined ? record.definitionName : undefined, content).template;
    } catch {
      template = undefined;
    }
    return { record, meta, template, content, definition };
  }

  private async derive(ctx: Context): Promise<Derived> {
    const id = ctx.record.id;
    const events: HistoryRecord[] = [];
    for (let afterEventId = 0; ; ) {
      const batch = await this.store.listEvents(id, { afterEventId, limit: EVENTS_PAGE });
      events.push(...batch);
      const last = batch[batch.length - 1];
      if (batch.length < EVENTS_PAGE || !last) break;
      afterEventId = last.eventId;
    }
    const [open, rows, children] = await Promise.all([
      this.store.listTasks(id, { openOnly: true }),
      this.store.listResourceStatuses(id, { limit: 100_000 }),
      this.children(id),
    ]);
    const kids = children
      .sort((a, b) => a.startedAt - b.startedAt)
      .map((c) => {
        const m = metaOf(c.tags);
        return m.ParentTaskName !== undefined ? { id: c.id, parentTaskName: m.ParentTaskName } : { id: c.id };
      });
    return deriveTaskExecutions(ctx.record, ctx.template, events, open, rows, kids);
  }

  /** The API's Execution object. */
  private async view(record: ExecutionRecord, options: { parametersAsText: boolean }): Promise<ExecutionView> {
    const ctx = await this.context(record);
    const derived = await this.derive(ctx);
    const roots = derived.tasks.filter((t) => t.parentId === undefined);
    const counters: JsonObject = {};
    for (const t of roots) counters[t.status] = ((counters[t.status] as number | undefined) ?? 0) + 1;
    counters['Total'] = roots.length;
    const current = roots.filter((t) => t.status === 'Running' || t.status === 'Waiting');
    const waiting = current.find((t) => t.status === 'Waiting');
    const isParent = (await this.store.listExecutions({ kind: 'template', parentId: record.id }, { limit: 1 })).items.length > 0;
    return {
      ...baseView(record, ctx.meta, options),
      Status: record.status,
      StatusMessage: record.error ? `${record.error.Code}: ${record.error.Detail}` : waiting ? `${waiting.name}: ${waiting.message}` : '',
      StatusReason: record.error ? record.error.Detail : '',
      WaitingStatus: waiting ? waiting.message : '',
      Outputs: JSON.stringify(record.status === 'Success' && record.output !== undefined ? record.output : {}),
      Counters: counters,
      CurrentTasks: current.map((t) => ({ TaskAction: t.action, TaskExecutionId: t.id, TaskName: t.name })),
      IsParent: isParent,
      EndDate: record.stoppedAt !== undefined ? iso(record.stoppedAt) : '',
    };
  }
}

type StatusFields = 'Status' | 'StatusMessage' | 'StatusReason' | 'WaitingStatus' | 'Outputs' | 'Counters' | 'CurrentTasks' | 'IsParent' | 'EndDate';

/** The fields of an execution's view that its record and meta give (not its status and tasks). */
function baseView(record: ExecutionRecord, meta: ExecutionMeta, options: { parametersAsText: boolean }): Omit<ExecutionView, StatusFields> {
  const params: JsonObject = isJsonObject(record.input) ? record.input : {};
  return {
    ExecutionId: record.id,
    TemplateName: record.definitionName,
    TemplateId: meta.TemplateId,
    TemplateVersion: meta.TemplateVersion,
    Mode: meta.Mode,
    LoopMode: meta.LoopMode,
    SafetyCheck: meta.SafetyCheck,
    Parameters: options.parametersAsText ? JSON.stringify(params) : params,
    ParentExecutionId: record.parentId ?? '',
    RamRole: meta.RamRole,
    ExecutedBy: meta.ExecutedBy,
    CreateDate: iso(record.startedAt),
    StartDate: iso(record.startedAt),
    UpdateDate: iso(record.updatedAt),
    Description: meta.Description,
    Tags: userTagsOf(record.tags),
    ResourceGroupId: meta.ResourceGroupId,
    Category: 'Other',
  };
}

// ---------------------------------------------------------------------------------------------
// helpers

const clientTokenKey = (token: string): string => `oos:${token}`;

function storedOpenTask(t: TaskRecord): StoredOpenTask {
  const kept = t.output !== undefined && isJsonObject(t.output) ? t.output : {};
  const hold = kept['Hold'] !== undefined && isJsonObject(kept['Hold']) && t.status === 'Waiting' ? kept['Hold'] : undefined;
  const progress = kept['Progress'] !== undefined && isJsonObject(kept['Progress']) ? kept['Progress'] : undefined;
  return { record: t, id: t.taskId, stateName: t.stateName, action: t.action, mode: t.mode, path: t.path, parameters: t.parameters, hold, progress };
}

const samePath = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

function teIdList(p: NotifyExecutionParams): string[] {
  const out: string[] = [];
  if (p.TaskExecutionId) out.push(p.TaskExecutionId);
  if (p.TaskExecutionIds !== undefined) out.push(...idList(p.TaskExecutionIds, 'TaskExecutionIds', 1000));
  return out;
}

function idList(raw: string | string[], field: string, max: number): string[] {
  let value: unknown = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw.split(',').map((s) => s.trim());
    }
  }
  if (!Array.isArray(value) || value.length === 0 || value.length > max || !value.every((v) => typeof v === 'string' && v !== '')) {
    throw invalidParameter(`${field} must be a JSON array of 1 to ${max} ids.`);
  }
  return value as string[];
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], field: string, fallback: string): string {
  if (value === undefined || value === '') return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw invalidParameter(`${field} must be one of ${allowed.join(', ')}, got '${value}'.`);
  return value;
}

function objectParam(value: string | JsonObject, field: string): JsonObject {
  let v: unknown = value;
  if (typeof value === 'string') {
    try {
      v = value.trim() === '' ? {} : JSON.parse(value);
    } catch {
      throw invalidParameter(`${field} is not valid JSON.`);
    }
  }
  if (!isJsonObject(v)) throw invalidParameter(`${field} must be a JSON object, not ${jsonTypeName(v)}.`);
  return v;
}

/** Tags: a JSON map `{"k": "v"}` (or a list of `{Key, Value}`), at most 20, keys not `acs:`/`aliyun`. */
function tagsParam(value: string | JsonObject): JsonObject {
  let v: unknown = value;
  if (typeof value === 'string') {
    try {
      v = value.trim() === '' ? {} : JSON.parse(value);
    } catch {
      throw invalidParameter('Tags is not valid JSON.');
    }
  }
  if (Array.isArray(v)) {
    const map: JsonObject = {};
    for (const t of v) if (isJsonObject(t) && typeof t['Key'] === 'string') map[t['Key']] = typeof t['Value'] === 'string' ? t['Value'] : String(t['Value'] ?? '');
    v = map;
  }
  if (!isJsonObject(v)) throw invalidParameter('Tags must be a JSON object of tag keys and values.');
  const entries = Object.entries(v);
  if (entries.length > MAX_TAGS) throw invalidParameter(`at most ${MAX_TAGS} tags, got ${entries.length}.`);
  for (const [k, val] of entries) {
    if (k === '' || /^(acs:|aliyun)/i.test(k)) throw invalidParameter(`tag key '${k}' is not allowed (empty, or starting with acs: or aliyun).`);
    if (typeof val !== 'string') throw invalidParameter(`tag '${k}' must have a string value.`);
  }
  return v;
}

function timeParam(value: string | undefined, field: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(ms)) throw invalidParameter(`${field} must be a UTC time such as 2026-01-01T00:00:00Z.`);
  return ms;
}

function compare(a: string | number, b: string | number, order: string): number {
  const c = a < b ? -1 : a > b ? 1 : 0;
  return order === 'Ascending' ? c : -c;
}

/** checkParameters' errors as API errors (the checker's message names every problem). */
function parameterError(err: unknown): unknown {
  if (!(err instanceof FlowrunError)) return err;
  if (err.code === OosExecutionErrorCodes.MissingExecutionParameter || err.code === OosExecutionErrorCodes.UnknownExecutionParameter || err.code === OosExecutionErrorCodes.TemplateValidationError) {
    return oosApiError(err.code, { message: err.message });
  }
  return err;
}
