/**
 * Standard flows (FnF `StartExecution` and friends) on top of the durable runner: pure service
 * functions, no HTTP. Methods take FnF API parameters (PascalCase; `Input`/`Output` as JSON text)
 * and return FnF API shapes (ISO-8601 times), like the express FlowService in `src/fnf/`; they
 * throw FlowrunErrors whose `code` is an FnF API error code and whose `details` carry
 * `{args, reason, message}` for the API's message templates.
 *
 * Flows are read from the execution store's definitions (kind 'flow'): the text is the
 * definition, `metadata.ExecutionMode` its mode. An execution runs the version that was current
 * when it started, also after an update of the flow and after a restart.
 */
import { API_EVENT_TYPE } from '../interpreter/api-events.js';
import type { CompileOptions } from '../flow/compile.js';
import type { CompiledFlow, ExecutionMode } from '../flow/graph.js';
import { loadFlowText } from '../flow/load.js';
import type { HistoryEventType } from '../interpreter/types.js';
import type { Clock } from '../shared/clock.js';
import { FlowrunError } from '../shared/errors.js';
import type { ErrorInfo } from '../shared/errors.js';
import { newUuid } from '../shared/ids.js';
import { isJsonObject, jsonByteLength, jsonTypeName } from '../shared/json.js';
import type { Json, JsonObject } from '../shared/json.js';
import { MAX_STATE_IO_BYTES, NAME_PATTERN } from '../shared/limits.js';
import { apiFailure } from '../fnf/errors.js';
import { SignalTypes } from './durable-runner.js';
import type { DurableRunner } from './durable-runner.js';
import { isFinishedStatus } from './store.js';
import type { ExecutionCursor, ExecutionRecord, ExecutionStore, HistoryRecord } from './store.js';

// ---------------------------------------------------------------------------------------------
// constants and errors
// ---------------------------------------------------------------------------------------------

/** Paging limits (cloudflow.md §4.2). */
export const LIST_EXECUTIONS_LIMIT = { min: 1, max: 100, default: 60 } as const;
export const EXECUTION_HISTORY_LIMIT = { min: 1, max: 999, default: 60 } as const;
/** DescribeExecution `WaitTimeSeconds` upper bound. */
export const MAX_DESCRIBE_WAIT_SECONDS = 60;
/** StopExecution waits this long (clock ms) for the execution to reach Stopped before answering. */
export const DEFAULT_STOP_WAIT_MS = 5_000;
/** How often a long poll re-reads an execution driven by another instance. */
export const DEFAULT_LONG_POLL_INTERVAL_MS = 500;
/** StopExecution / ReportTaskFailed `Error` and `Cause` lengths. */
export const MAX_ERROR_LENGTH = 128;
export const MAX_CAUSE_LENGTH = 4096;
/** Largest StartExecution `Input` (UTF-8 bytes): the 64 KiB state input limit. */
export const MAX_EXECUTION_INPUT_BYTES = MAX_STATE_IO_BYTES;
/** Error code of StopExecution without `Error`. */
export const DEFAULT_STOP_ERROR = 'FnF.Cancelled';

/** Every code this service raises; each must be in the API's error catalog. */
export const StandardFlowErrorCodes = {
  InvalidArgument: 'InvalidArgument',
  EntityTooLarge: 'EntityTooLarge',
  ActionNotSupported: 'ActionNotSupported',
  FlowNotExists: 'FlowNotExists',
  ExecutionNotExists: 'ExecutionNotExists',
  ExecutionAlreadyExists: 'ExecutionAlreadyExists',
} as const;

export type StandardFlowErrorCode = (typeof StandardFlowErrorCodes)[keyof typeof StandardFlowErrorCodes];

/** An API error: `args` fill the catalog template's `%s`, `reason` follows it, `message` replaces it. */
export function standardFlowError(code: StandardFlowErrorCode, parts: { args?: string[]; reason?: string; message?: string } = {}): FlowrunError {
  const details: JsonObject = {};
  if (parts.args) details['args'] = [...parts.args];
  if (parts.reason !== undefined) details['reason'] = parts.reason;
  if (parts.message !== undefined) details['message'] = parts.message;
  const text = parts.message ?? [parts.args?.join(', '), parts.reason].filter((s) => s !== undefined && s !== '').join(': ');
  return new FlowrunError(code, text === '' ? code : `${code}: ${text}`, { details });
}

const invalid = (reason: string): FlowrunError => standardFlowError('InvalidArgument', { reason });

// ---------------------------------------------------------------------------------------------
// API shapes
// ---------------------------------------------------------------------------------------------

export type StandardExecutionStatus = 'Running' | 'Succeeded' | 'Failed' | 'TimedOut' | 'Stopped';
export const EXECUTION_STATUSES: readonly StandardExecutionStatus[] = ['Running', 'Succeeded', 'Failed', 'TimedOut', 'Stopped'];

/** StartExecution / StopExecution / DescribeExecution / ListExecutions item. */
export interface StandardExecutionView {
  Name: string;
  FlowName: string;
  FlowDefinition?: string;
  /** JSON text. */
  Input?: string;
  /** JSON text, once succeeded. */
  Output?: string;
  Status: string;
  ErrorCode?: string;
  ErrorMessage?: string;
  StartedTime: string;
  StoppedTime?: string;
}

/** GetExecutionHistory item. */
export interface StandardHistoryEventView {
  EventId: number;
  /** EventId of the TaskScheduled event a Task result answers (0 otherwise). */
  ScheduleEventId: number;
  StepName: string;
  /** One of {@link API_EVENT_TYPES}. */
  Type: string;
  Time: string;
  /** JSON text of an object. */
  EventDetail: string;
}

export interface StartExecutionParams {
  FlowName: string;
  /** Default: a new UUID. */
  ExecutionName?: string;
  /** JSON object text; default `{}`. */
  Input?: string;
  /** Accepted, not used: the current version runs. */
  Qualifier?: string;
}

export interface StopExecutionParams {
  FlowName: string;
  ExecutionName: string;
  /** Error code recorded (1–128 chars; default FnF.Cancelled). */
  Error?: string;
  /** Detail recorded (up to 4,096 chars). */
  Cause?: string;
}

export interface DescribeExecutionParams {
  FlowName: string;
  ExecutionName: string;
  /** Long poll: wait up to this many seconds (0–60) for a running execution to end. */
  WaitTimeSeconds?: number;
}

export interface ListExecutionsParams {
  FlowName: string;
  Limit?: number;
  NextToken?: string;
  Status?: string;
  ExecutionNamePrefix?: string;
  /** RFC 3339 times, inclusive. */
  StartedTimeBegin?: string;
  StartedTimeEnd?: string;
  /** Leave out FlowDefinition, Input and Output. */
  MetadataOnly?: boolean;
}

export interface GetExecutionHistoryParams {
  FlowName: string;
  ExecutionName: string;
  Limit?: number;
  NextToken?: string;
}

export interface ReportTaskSucceededParams {
  TaskToken: string;
  /** JSON object text. */
  Output: string;
}

export interface ReportTaskFailedParams {
  TaskToken: string;
  /** 1–128 chars: the error name Retry/Catch match. */
  Error: string;
  Cause?: string;
}

export interface DeleteExecutionsParams {
  FlowName: string;
  ExecutionNames: string[];
}

export interface DeleteExecutionsResult {
  Deleted: string[];
  /** Executions left alone, with why (not found, still running). */
  NotDeleted: { Name: string; Reason: string }[];
}

export { API_EVENT_TYPE, API_EVENT_TYPES } from '../interpreter/api-events.js';
export type { ApiEventType } from '../interpreter/api-events.js';

// ---------------------------------------------------------------------------------------------
// where flows come from
// ---------------------------------------------------------------------------------------------

export interface StandardFlowDefinition {
  /** The account holding the definition ('' shared; absent: ''). */
  account?: string;
  name: string;
  version: number;
  /** Definition text (YAML or JSON). */
  definition: string;
  /** From `metadata.ExecutionMode`; undefined: the document's own `ExecutionMode`, else Express. */
  mode: ExecutionMode | undefined;
}

/** Flow definitions by name (current) and by version (to resume an execution). */
export interface StandardFlowSource {
  current(name: string): Promise<StandardFlowDefinition | undefined>;
  /** `account`: the execution's (default: the source's own). */
  version(name: string, version: number, account?: string): Promise<StandardFlowDefinition | undefined>;
}

/**
 * Flows kept in the execution store's definitions (kind 'flow'). With an `account` other than the
 * shared one (''), a name that account does not hold is read from the shared flows (the flows
 * folder's files, readable by every account). `version` takes the account of the execution.
 */
export function storedFlowSource(store: ExecutionStore, account?: string): StandardFlowSource {
  const view = (d: { account: string; name: string; version: number; content: string; metadata: JsonObject }): StandardFlowDefinition => {
    const mode = d.metadata['ExecutionMode'];
    return { account: d.account, name: d.name, version: d.version, definition: d.content, mode: mode === 'Express' || mode === 'Standard' ? mode : undefined };
  };
  const read = async (name: string, version: number | undefined, owner: string | undefined): Promise<StandardFlowDefinition | undefined> => {
    const d = (await store.getDefinition('flow', name, version, owner)) ?? (owner ? await store.getDefinition('flow', name, version, '') : undefined);
    return d ? view(d) : undefined;
  };
  return {
    current: (name) => read(name, undefined, account),
    version: (name, version, owner) => read(name, version, owner ?? account),
  };
}

/** Compiles flow versions once (definitions of a version never change). */
export class FlowCompiler {
  private readonly cache = new Map<string, CompiledFlow>();

  constructor(
    private readonly source: StandardFlowSource,
    private readonly options: CompileOptions = {},
    private readonly maxEntries = 1000,
  ) {}

  compile(d: StandardFlowDefinition): CompiledFlow {
    const key = `${d.account ?? ''}\u0000${d.name}\u0000${d.version}`;
    let flow = this.cache.get(key);
    if (!flow) {
      flow = loadFlowText(d.definition, `${d.name}.yaml`, { ...this.options, defaultName: d.name, ...(d.mode ? { mode: d.mode } : {}) });
      if (this.cache.size >= this.maxEntries) this.cache.clear();
      this.cache.set(key, flow);
    }
    return flow;
  }

  /** For {@link DurableRunnerOptions.resolveFlow}: the version an execution runs. */
  readonly resolve = async (execution: ExecutionRecord): Promise<CompiledFlow> => {
    if (execution.kind !== 'flow') throw new Error(`no resolver for ${execution.kind} executions`);
    const d = await this.source.version(execution.definitionName, execution.definitionVersion, execution.account);
    if (!d) throw new Error(`flow '${execution.definitionName}' version ${execution.definitionVersion} no longer exists`);
    return this.compile(d);
  };
}

// ---------------------------------------------------------------------------------------------
// the service
// ---------------------------------------------------------------------------------------------

export interface StandardFlowServiceOptions {
  store: ExecutionStore;
  runner: DurableRunner;
  clock: Clock;
  /** Default: {@link storedFlowSource} over `store`. */
  flows?: StandardFlowSource;
  /** Compiles definitions (share it with the runner's resolveFlow). Default: a new one over `flows`. */
  compiler?: FlowCompiler;
  account?: string;
  stopWaitMs?: number;
  longPollIntervalMs?: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export class StandardFlowService {
  private readonly store: ExecutionStore;
  private readonly runner: DurableRunner;
  private readonly clock: Clock;
  private readonly flows: StandardFlowSource;
  private readonly compiler: FlowCompiler;
  private readonly account: string | undefined;
  private readonly stopWaitMs: number;
  private readonly pollMs: number;

  constructor(options: StandardFlowServiceOptions) {
    this.store = options.store;
    this.runner = options.runner;
    this.clock = options.clock;
    this.flows = options.flows ?? storedFlowSource(options.store, options.account);
    this.compiler = options.compiler ?? new FlowCompiler(this.flows);
    this.account = options.account;
    this.stopWaitMs = options.stopWaitMs ?? DEFAULT_STOP_WAIT_MS;
    this.pollMs = options.longPollIntervalMs ?? DEFAULT_LONG_POLL_INTERVAL_MS;
  }

  /**
   * StartExecution. The name is unique per flow: a name whose execution still runs answers that
   * execution; a name whose execution has finished is ExecutionAlreadyExists.
   */
  async startExecution(p: StartExecutionParams): Promise<StandardExecutionView> {
    const given = p.ExecutionName === undefined || p.ExecutionName === '' ? undefined : p.ExecutionName;
    if (given !== undefined) checkName(given, 'ExecutionName');
    // A generated name is a UUID (it may start with a digit, which given names may not).
    const name = given ?? newUuid();
    const input = parseObject(p.Input, 'Input', MAX_EXECUTION_INPUT_BYTES);
    const definition = await this.requireFlow(p.FlowName);
    const existing = await this.store.findExecution('flow', p.FlowName, name, this.account);
    if (existing) return this.answerExisting(existing);
    const flow = this.compiler.compile(definition);
    if (flow.mode !== 'Standard') {
      throw standardFlowError('ActionNotSupported', { message: 'Express execution is not supported by StartExecution; use StartSyncExecution' });
    }
    const result = await this.runner.startExecution({
      flow,
      kind: 'flow',
      ...(this.account !== undefined ? { account: this.account } : {}),
      definitionName: p.FlowName,
      definitionVersion: definition.version,
      name,
      input,
      mode: 'Standard',
    });
    if (!result.created) return this.answerExisting(result.execution);
    return this.view(result.execution);
  }

  /** StopExecution: the execution ends Stopped with `Error`/`Cause`; its running tasks are aborted. */
  async stopExecution(p: StopExecutionParams): Promise<StandardExecutionView> {
    if (p.Error !== undefined && (p.Error.length < 1 || p.Error.length > MAX_ERROR_LENGTH)) throw invalid(`Error must be 1 to ${MAX_ERROR_LENGTH} characters.`);
    if (p.Cause !== undefined && p.Cause.length > MAX_CAUSE_LENGTH) throw invalid(`Cause must be at most ${MAX_CAUSE_LENGTH} characters.`);
    const execution = await this.requireExecution(p.FlowName, p.ExecutionName);
    if (isFinishedStatus(execution.status)) return this.view(execution);
    const error: ErrorInfo = { Code: p.Error ?? DEFAULT_STOP_ERROR, Detail: p.Cause ?? 'the execution was stopped' };
    await this.runner.signal(execution.id, SignalTypes.Stop, { error: { Code: error.Code, Detail: error.Detail } });
    return this.view(await this.waitForEnd(execution, this.stopWaitMs));
  }

  /** DescribeExecution, with a long poll of up to 60 s (on the clock) for a running execution. */
  async describeExecution(p: DescribeExecutionParams, signal?: AbortSignal): Promise<StandardExecutionView> {
    const wait = p.WaitTimeSeconds ?? 0;
    if (!Number.isInteger(wait) || wait < 0 || wait > MAX_DESCRIBE_WAIT_SECONDS) {
      throw invalid(`WaitTimeSeconds must be an integer from 0 to ${MAX_DESCRIBE_WAIT_SECONDS}.`);
    }
    let execution = await this.requireExecution(p.FlowName, p.ExecutionName);
    if (!isFinishedStatus(execution.status) && wait > 0) execution = await this.waitForEnd(execution, wait * 1000, signal);
    return this.view(execution);
  }

  /** ListExecutions: newest first. */
  async listExecutions(p: ListExecutionsParams): Promise<{ Executions: StandardExecutionView[]; NextToken?: string }> {
    const limit = checkLimit(p.Limit, LIST_EXECUTIONS_LIMIT);
    if (p.Status !== undefined && !EXECUTION_STATUSES.includes(p.Status as StandardExecutionStatus)) {
      throw invalid(`Status must be one of ${EXECUTION_STATUSES.join(', ')}.`);
    }
    const startedFrom = parseTime(p.StartedTimeBegin, 'StartedTimeBegin');
    const startedTo = parseTime(p.StartedTimeEnd, 'StartedTimeEnd');
    const after = p.NextToken === undefined ? undefined : decodeToken(p.NextToken, 'executions', p.FlowName, (t) => executionCursor(t));
    await this.requireFlow(p.FlowName);
    const page = await this.store.listExecutions(
      {
        kind: 'flow',
        ...(this.account !== undefined ? { account: this.account } : {}),
        definitionName: p.FlowName,
        ...(p.Status !== undefined ? { status: p.Status } : {}),
        ...(p.ExecutionNamePrefix ? { namePrefix: p.ExecutionNamePrefix } : {}),
        ...(startedFrom !== undefined ? { startedFrom } : {}),
        ...(startedTo !== undefined ? { startedTo } : {}),
      },
      { limit, ...(after ? { after } : {}) },
    );
    const out: { Executions: StandardExecutionView[]; NextToken?: string } = { Executions: [] };
    for (const e of page.items) out.Executions.push(await this.view(e, p.MetadataOnly === true));
    if (page.next) out.NextToken = encodeToken('executions', p.FlowName, { s: page.next.startedAt, i: page.next.id });
    return out;
  }

  /** GetExecutionHistory: events in order, with the API's event types. */
  async getExecutionHistory(p: GetExecutionHistoryParams): Promise<{ Events: StandardHistoryEventView[]; NextToken?: string }> {
    const limit = checkLimit(p.Limit, EXECUTION_HISTORY_LIMIT);
    const scope = `${p.FlowName}\u0000${p.ExecutionName}`;
    const afterEventId =
      p.NextToken === undefined
        ? 0
        : decodeToken(p.NextToken, 'history', scope, (t) => (Number.isSafeInteger(t['e']) && (t['e'] as number) > 0 ? (t['e'] as number) : undefined));
    const execution = await this.requireExecution(p.FlowName, p.ExecutionName);
    const events = await this.store.listEvents(execution.id, { afterEventId, limit: limit + 1 });
    const page = events.slice(0, limit);
    const out: { Events: StandardHistoryEventView[]; NextToken?: string } = { Events: page.map(eventView) };
    const last = page[page.length - 1];
    if (events.length > limit && last) out.NextToken = encodeToken('history', scope, { e: last.eventId });
    return out;
  }

  /** ReportTaskSucceeded. `EventId` is the id of the queued report (flowrun's choice). */
  async reportTaskSucceeded(p: ReportTaskSucceededParams): Promise<{ EventId: number }> {
    const output = parseObject(p.Output, 'Output', MAX_STATE_IO_BYTES, true);
    const task = await this.requireWaitingTask(p.TaskToken);
    const id = await this.runner.signal(task.executionId, SignalTypes.ReportTask, { taskId: task.taskId, succeeded: true, output });
    return { EventId: id };
  }

  /** ReportTaskFailed: the Task state fails with `Error` (Retry/Catch match it) and `Cause`. */
  async reportTaskFailed(p: ReportTaskFailedParams): Promise<{ EventId: number }> {
    if (typeof p.Error !== 'string' || p.Error.length < 1 || p.Error.length > MAX_ERROR_LENGTH) throw invalid(`Error must be 1 to ${MAX_ERROR_LENGTH} characters.`);
    if (p.Cause !== undefined && p.Cause.length > MAX_CAUSE_LENGTH) throw invalid(`Cause must be at most ${MAX_CAUSE_LENGTH} characters.`);
    const task = await this.requireWaitingTask(p.TaskToken);
    const id = await this.runner.signal(task.executionId, SignalTypes.ReportTask, {
      taskId: task.taskId,
      succeeded: false,
      error: { Code: p.Error, Detail: p.Cause ?? '' },
    });
    return { EventId: id };
  }

  /** Deletes finished executions of a flow; running ones are left alone (stop them first). */
  async deleteExecutions(p: DeleteExecutionsParams): Promise<DeleteExecutionsResult> {
    if (!Array.isArray(p.ExecutionNames) || p.ExecutionNames.length === 0) throw invalid('ExecutionNames must list at least one execution.');
    const out: DeleteExecutionsResult = { Deleted: [], NotDeleted: [] };
    for (const name of p.ExecutionNames) {
      const e = await this.store.findExecution('flow', p.FlowName, name, this.account);
      if (!e) out.NotDeleted.push({ Name: name, Reason: 'ExecutionNotExists' });
      else if (!isFinishedStatus(e.status)) out.NotDeleted.push({ Name: name, Reason: 'the execution is still running; stop it first' });
      else if (await this.store.deleteExecution(e.id)) out.Deleted.push(name);
      else out.NotDeleted.push({ Name: name, Reason: 'ExecutionNotExists' });
    }
    return out;
  }

  /** Purges finished executions older than `retentionMs` (default: the runner's retention). */
  purgeFinishedExecutions(retentionMs?: number): Promise<number> {
    return this.runner.purge(retentionMs);
  }

  // -------------------------------------------------------------------------------- internals

  private async requireFlow(name: string): Promise<StandardFlowDefinition> {
    if (typeof name !== 'string' || name === '') throw invalid('FlowName is required.');
    const d = await this.flows.current(name);
    if (!d) throw standardFlowError('FlowNotExists', { args: [name] });
    return d;
  }

  private async requireExecution(flowName: string, name: string): Promise<ExecutionRecord> {
    if (typeof name !== 'string' || name === '') throw invalid('ExecutionName is required.');
    await this.requireFlow(flowName);
    const e = await this.store.findExecution('flow', flowName, name, this.account);
    if (!e) throw standardFlowError('ExecutionNotExists', { args: [name] });
    return e;
  }

  private async requireWaitingTask(token: string): Promise<{ executionId: string; taskId: number }> {
    if (typeof token !== 'string' || token === '') throw invalid('TaskToken is required.');
    const task = await this.store.getTaskByToken(token);
    if (!task) throw invalid(`TaskToken '${token.slice(0, 64)}' does not exist.`);
    if (task.status !== 'Waiting') throw invalid(`the task of TaskToken '${token.slice(0, 64)}' has already completed (${task.status}).`);
    const execution = await this.store.getExecution(task.executionId);
    if (!execution || isFinishedStatus(execution.status)) throw invalid(`the execution of TaskToken '${token.slice(0, 64)}' has already ended.`);
    if (this.account !== undefined && execution.account !== this.account) throw apiFailure('AccessDenied', { reason: 'The task belongs to another account.' });
    return { executionId: task.executionId, taskId: task.taskId };
  }

  private answerExisting(e: ExecutionRecord): Promise<StandardExecutionView> {
    if (isFinishedStatus(e.status)) throw standardFlowError('ExecutionAlreadyExists', { args: [e.name, e.definitionName] });
    return this.view(e);
  }

  /**
   * Waits (on the clock) until the execution has finished or `ms` have passed, and re-reads it.
   * An execution driven here is seen finishing at once; one driven by another instance is
   * re-read every long-poll interval.
   */
  private async waitForEnd(execution: ExecutionRecord, ms: number, signal?: AbortSignal): Promise<ExecutionRecord> {
    const until = this.clock.now() + ms;
    const wake = new AbortController();
    const off = this.runner.onFinished((f) => {
      if (f.id === execution.id) wake.abort();
    });
    const stop = signal ? AbortSignal.any([signal, wake.signal]) : wake.signal;
    let current = execution;
    try {
      for (;;) {
        const fresh = await this.store.getExecution(execution.id);
        if (!fresh) return current;
        current = fresh;
        const left = until - this.clock.now();
        if (isFinishedStatus(current.status) || left <= 0 || stop.aborted) return current;
        try {
          await this.clock.sleep(Math.min(left, this.pollMs), stop);
        } catch {
          // woken: finished here, or the caller went away; read once more
          if (signal?.aborted) return current;
        }
      }
    } finally {
      off();
    }
  }

  private async view(e: ExecutionRecord, metadataOnly = false): Promise<StandardExecutionView> {
    const v: StandardExecutionView = { Name: e.name, FlowName: e.definitionName, Status: e.status, StartedTime: iso(e.startedAt) };
    if (!metadataOnly) {
      const d = await this.flows.version(e.definitionName, e.definitionVersion, e.account);
      if (d) v.FlowDefinition = d.definition;
      v.Input = JSON.stringify(e.input);
      if (e.output !== undefined && e.status === 'Succeeded') v.Output = JSON.stringify(e.output);
    }
    if (e.error) {
      v.ErrorCode = e.error.Code;
      v.ErrorMessage = e.error.Detail;
    }
    if (e.stoppedAt !== undefined) v.StoppedTime = iso(e.stoppedAt);
    return v;
  }
}

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------

function eventView(e: HistoryRecord): StandardHistoryEventView {
  const type = API_EVENT_TYPE[e.type as HistoryEventType] ?? e.type;
  const detail: JsonObject = { ...(e.detail ?? {}) };
  if (type !== e.type) detail['Event'] = e.type;
  if (e.path && e.path.length > 0) detail['Path'] = [...e.path];
  return { EventId: e.eventId, ScheduleEventId: e.scheduleEventId ?? 0, StepName: e.step ?? '', Type: type, Time: iso(e.time), EventDetail: JSON.stringify(detail) };
}

function checkName(value: string, field: string): void {
  if (typeof value !== 'string' || !NAME_PATTERN.test(value)) {
    const shown = String(value);
    throw invalid(`${field} '${shown.length > 140 ? `${shown.slice(0, 140)}…` : shown}' is invalid: use 1 to 128 letters, digits, '_' or '-', starting with a letter or '_'.`);
  }
}

function checkLimit(value: number | undefined, range: { min: number; max: number; default: number }): number {
  if (value === undefined) return range.default;
  if (!Number.isInteger(value) || value < range.min || value > range.max) throw invalid(`Limit must be an integer from ${range.min} to ${range.max}.`);
  return value;
}

function parseTime(value: string | undefined, field: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(ms)) throw invalid(`${field} must be an RFC 3339 time such as 2026-01-01T00:00:00Z.`);
  return ms;
}

/** Parses a JSON-object text parameter (absent or empty: `{}` unless required). */
function parseObject(text: string | undefined, field: string, maxBytes: number, required = false): JsonObject {
  if (text === undefined || text === '') {
    if (required) throw invalid(`${field} is required.`);
    return {};
  }
  if (typeof text !== 'string') throw invalid(`${field} must be the text of a JSON object.`);
  if (Buffer.byteLength(text, 'utf8') > maxBytes) throw standardFlowError('EntityTooLarge', { args: [String(maxBytes)] });
  let value: Json;
  try {
    value = JSON.parse(text) as Json;
  } catch {
    throw invalid(`${field} is not valid JSON.`);
  }
  if (!isJsonObject(value)) throw invalid(`${field} must be a JSON object, not ${jsonTypeName(value)}.`);
  if (jsonByteLength(value) > maxBytes) throw standardFlowError('EntityTooLarge', { args: [String(maxBytes)] });
  return value;
}

type TokenKind = 'executions' | 'history';

/** Opaque paging tokens: base64url JSON, valid only for the operation and flow that issued them. */
function encodeToken(kind: TokenKind, scope: string, position: JsonObject): string {
  return Buffer.from(JSON.stringify({ k: `std-${kind}`, f: scope, ...position }), 'utf8').toString('base64url');
}

function decodeToken<T>(token: string, kind: TokenKind, scope: string, accept: (position: JsonObject) => T | undefined): T {
  const bad = (): FlowrunError => invalid(`NextToken '${token.length > 64 ? `${token.slice(0, 64)}…` : token}' is not a valid paging token.`);
  if (typeof token !== 'string' || token.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(token)) throw bad();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!isJsonObject(value as Json) || (value as JsonObject)['k'] !== `std-${kind}` || (value as JsonObject)['f'] !== scope) throw bad();
  const position = accept(value as JsonObject);
  if (position === undefined) throw bad();
  return position;
}

function executionCursor(t: JsonObject): ExecutionCursor | undefined {
  const s = t['s'];
  const i = t['i'];
  return typeof s === 'number' && Number.isSafeInteger(s) && typeof i === 'string' ? { startedAt: s, id: i } : undefined;
}
