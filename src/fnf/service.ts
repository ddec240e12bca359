/**
 * The FnF flow service, independent of HTTP: flows (create, update, delete, describe, list, load
 * from a folder), synchronous express executions with admission control, and a bounded window of
 * recent executions with their history. Methods take and return FnF API shapes (PascalCase
 * fields, ISO-8601 times) and throw FlowrunErrors whose codes are FnF API error codes.
 */
import type { DescribeExecutionParams, GetExecutionHistoryParams, ListExecutionsParams } from '../executions/standard-flows.js';
import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { FLOW_FILE_PATTERN } from '../flow/catalog.js';
import { compileFlow, FlowDefinitionError } from '../flow/compile.js';
import type { CompiledFlow } from '../flow/graph.js';
import { loadFlowText } from '../flow/load.js';
import { parseDefinitionText, withPositions } from '../flow/parse.js';
import type { Problem } from '../flow/validate.js';
import type { Runtime } from '../runtime.js';
import PQueue from 'p-queue';
import { isAborted, LazyAbortController } from '../shared/abort.js';
import type { Clock } from '../shared/clock.js';
import { ErrorNames, FlowrunError } from '../shared/errors.js';
import { HistoryLog } from '../interpreter/history-log.js';
import { newUuid, newUuidPair } from '../shared/ids.js';
import { isJsonObject, jsonTypeName } from '../shared/json.js';
import type { JsonObject } from '../shared/json.js';
import { EXPRESS_EXECUTION_TIMEOUT_MS, MAX_STATE_IO_BYTES, NAME_PATTERN } from '../shared/limits.js';
import { FnfErrorCodes, fnfError, invalidArgument } from './errors.js';
import { toEventViews } from './history.js';
import { decodeToken, encodeToken } from './paging.js';
import { InMemoryFlowStore } from './store.js';
import type { FlowStore } from './store.js';
import { FLOW_TYPE } from './types.js';
import type {
  ExecutionMode,
  ExecutionRecord,
  ExecutionStatusName,
  ExecutionView,
  FlowRecord,
  FlowView,
  HistoryEventView,
  SyncExecutionView,
} from './types.js';
import { ExecutionWindow } from './window.js';

/** Executions running at once; more wait in the queue. */
export const DEFAULT_MAX_CONCURRENT_EXECUTIONS = 1000;
/** Executions waiting for a slot; past this (and a full set of running ones) → ResourceThrottled. */
export const DEFAULT_MAX_QUEUED_EXECUTIONS = 1000;
/** Recent executions kept for DescribeExecution / ListExecutions / GetExecutionHistory (0 = none). */
export const DEFAULT_EXECUTION_WINDOW = 1000;
/** Largest StartSyncExecution `Input` (UTF-8 bytes): the 64 KiB state input limit. */
export const MAX_EXECUTION_INPUT_BYTES = MAX_STATE_IO_BYTES;
/** Execution time limit of express flows (5 minutes). */
export const DEFAULT_EXECUTION_TIMEOUT_MS = EXPRESS_EXECUTION_TIMEOUT_MS;
/** Paging limits per list operation (cloudflow.md §4.2). */
export const LIST_FLOWS_LIMIT = { min: 1, max: 999, default: 60 } as const;
export const LIST_EXECUTIONS_LIMIT = { min: 1, max: 100, default: 60 } as const;
export const EXECUTION_HISTORY_LIMIT = { min: 1, max: 999, default: 60 } as const;
/** DescribeExecution `WaitTimeSeconds` upper bound. */
export const MAX_DESCRIBE_WAIT_SECONDS = 60;
/** Execution mode of a flow created without `ExecutionMode` (the cloud's default). */
export const DEFAULT_CREATED_FLOW_MODE: ExecutionMode = 'Standard';
/** Message of StartSyncExecution on a Standard flow (seed 004). */
export const STANDARD_NOT_SUPPORTED_MESSAGE = 'Standard execution is not supported';

export interface FlowServiceOptions {
  runtime: Runtime;
  /** Default: a new {@link InMemoryFlowStore}. */
  store?: FlowStore;
  maxConcurrentExecutions?: number;
  maxQueuedExecutions?: number;
  executionTimeoutMs?: number;
  /** Size of the recent-executions window; 0 keeps none. */
  executionWindow?: number;
  /** Keep history events of the executions in the window (default true). */
  keepHistory?: boolean;
  maxInputBytes?: number;
  logger?: Logger;
}

export interface CreateFlowParams {
  Name: string;
  Definition: string;
  Description?: string;
  Type?: string;
  RoleArn?: string;
  ExecutionMode?: string;
}

export interface UpdateFlowParams {
  Name: string;
  Definition?: string;
  Description?: string;
  Type?: string;
  RoleArn?: string;
  ExecutionMode?: string;
}

export interface ListFlowsParams {
  Limit?: number;
  NextToken?: string;
}

export interface StartSyncExecutionParams {
  FlowName: string;
  ExecutionName?: string;
  /** JSON object text; default `{}`. */
  Input?: string;
  /** Version or alias: accepted, not used (flowrun keeps one version per flow). */
  Qualifier?: string;
}

// The execution read APIs take the same parameters for express and Standard flows.
export type { DescribeExecutionParams, GetExecutionHistoryParams, ListExecutionsParams } from '../executions/standard-flows.js';

/** What loading one flow file gave. */
export type FlowFileResult =
  | { ok: true; file: string; flow: FlowView; replaced: boolean }
  | { ok: false; file: string; problems: Problem[] };

export interface ServiceStats {
  running: number;
  queued: number;
}

const EXECUTION_STATUSES: readonly ExecutionStatusName[] = ['Running', 'Succeeded', 'Failed', 'TimedOut', 'Stopped'];
/**
 * Epoch ms → ISO-8601, as `new Date(ms).toISOString()`. Remembers the text of the last second
 * converted ("2026-01-01T00:00:00."): within it, only the milliseconds are written.
 */
let isoSecond = Number.NaN;
let isoPrefix = '';
const MS_TEXT = Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(3, '0')}Z`);
const iso = (ms: number): string => {
  const t = Math.trunc(ms); // as Date does
  const second = Math.floor(t / 1000);
  if (second !== isoSecond) {
    const text = new Date(t).toISOString(); // throws RangeError for an invalid time, as before
    isoPrefix = text.slice(0, -4);
    isoSecond = second;
  }
  return isoPrefix + (MS_TEXT[t - second * 1000] as string);
};

/**
 * The same string, flattened: V8 keeps the result of a template literal as a tree of its pieces.
 * An execution name given by the caller (`<ExecutionName>:<uuid>`) is kept as long as its
 * execution and in the window after it: flattening it once frees the pieces. Reading a character
 * flattens a string in place (V8 11; converting it to a number does not, nor does hashing it).
 * Names flowrun makes itself are flat already (`newUuidPair`).
 */
function flatString(s: string): string {
  s.charCodeAt(0);
  return s;
}

function checkName(value: string, field: string): void {
  if (!NAME_PATTERN.test(value)) {
    throw invalidArgument(
      `${field} '${value.length > 140 ? `${value.slice(0, 140)}…` : value}' is invalid: use 1 to 128 letters, digits, '_' or '-', starting with a letter or '_'.`,
    );
  }
}

function checkLimit(value: number | undefined, range: { min: number; max: number; default: number }): number {
  if (value === undefined) return range.default;
  if (!Number.isInteger(value) || value < range.min || value > range.max) {
    throw invalidArgument(`Limit must be an integer from ${range.min} to ${range.max}.`);
  }
  return value;
}

function checkMode(value: string | undefined): ExecutionMode | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'Express' || value === 'Standard') return value;
  throw invalidArgument(`ExecutionMode must be Express or Standard, not '${value}'.`);
}

function checkType(value: string | undefined): void {
  if (value !== undefined && value !== FLOW_TYPE) throw invalidArgument(`Type must be ${FLOW_TYPE}, not '${value}'.`);
}

function parseTime(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(ms)) throw invalidArgument(`${field} must be an RFC 3339 time such as 2026-01-01T00:00:00Z.`);
  return ms;
}

function problemsText(problems: readonly Problem[]): string {
  return problems
    .map((p) => {
      const at = p.line !== undefined ? ` (line ${p.line}${p.column !== undefined ? `, column ${p.column}` : ''})` : '';
      return `${p.pointer || '/'}${at}: ${p.message}`;
    })
    .join('; ');
}

function definitionError(problems: Problem[], text: string): FlowrunError {
  const n = problems.length;
  return invalidArgument(`The flow definition has ${n} problem${n === 1 ? '' : 's'}: ${problemsText(withPositions(problems, text))}`);
}

function flowView(r: FlowRecord): FlowView {
  return {
    Name: r.Name,
    Id: r.Id,
    Definition: r.Definition,
    Description: r.Description,
    Type: r.Type,
    RoleArn: r.RoleArn,
    ExecutionMode: r.ExecutionMode,
    CreatedTime: iso(r.CreatedTime),
    LastModifiedTime: iso(r.LastModifiedTime),
  };
}

function executionView(r: ExecutionRecord, metadataOnly = false): ExecutionView {
  const v: ExecutionView = { Name: r.name, FlowName: r.flowName, Status: r.status, StartedTime: iso(r.startedAt) };
  if (!metadataOnly) {
    v.FlowDefinition = r.definition;
    v.Input = r.input;
    if (r.output !== undefined) v.Output = r.output;
  }
  if (r.error) {
    v.ErrorCode = r.error.Code;
    v.ErrorMessage = r.error.Detail;
  }
  if (r.stoppedAt !== undefined) v.StoppedTime = iso(r.stoppedAt);
  return v;
}

interface CompiledEntry {
  definition: string;
  mode: ExecutionMode;
  flow: CompiledFlow;
}

export class FlowService {
  readonly store: FlowStore;
  readonly window: ExecutionWindow;
  readonly maxConcurrentExecutions: number;
  readonly maxQueuedExecutions: number;
  readonly executionTimeoutMs: number;
  readonly maxInputBytes: number;
  private readonly runtime: Runtime;
  private readonly clock: Clock;
  private readonly keepHistory: boolean;
  private readonly logger: Logger | undefined;
  /** Running executions (at most `maxConcurrentExecutions`) and the ones waiting for a slot. */
  private readonly queue: PQueue;
  /** Executions admitted (running or waiting). */
  private admitted = 0;
  private readonly inFlight = new Set<AbortController>();
  private idleWaiters: (() => void)[] = [];
  private closing = false;
  private readonly compiled = new Map<string, CompiledEntry>();
  /** Flow name loaded from each file of the flows folder (absolute path). */
  private readonly fileFlows = new Map<string, string>();

  constructor(options: FlowServiceOptions) {
    this.runtime = options.runtime;
    this.clock = options.runtime.clock;
    this.store = options.store ?? new InMemoryFlowStore();
    this.maxConcurrentExecutions = positive(options.maxConcurrentExecutions ?? DEFAULT_MAX_CONCURRENT_EXECUTIONS, 'maxConcurrentExecutions');
    this.maxQueuedExecutions = nonNegative(options.maxQueuedExecutions ?? DEFAULT_MAX_QUEUED_EXECUTIONS, 'maxQueuedExecutions');
    this.queue = new PQueue({ concurrency: this.maxConcurrentExecutions });
    this.executionTimeoutMs = positive(options.executionTimeoutMs ?? DEFAULT_EXECUTION_TIMEOUT_MS, 'executionTimeoutMs');
    this.maxInputBytes = positive(options.maxInputBytes ?? MAX_EXECUTION_INPUT_BYTES, 'maxInputBytes');
    this.window = new ExecutionWindow(nonNegative(options.executionWindow ?? DEFAULT_EXECUTION_WINDOW, 'executionWindow'));
    this.keepHistory = options.keepHistory ?? true;
    this.logger = options.logger;
  }

  // ----------------------------------------------------------------------------------------- flows

  async createFlow(p: CreateFlowParams): Promise<FlowView> {
    checkName(p.Name, 'Name');
    checkType(p.Type);
    if (await this.store.get(p.Name)) throw fnfError(FnfErrorCodes.FlowAlreadyExists, { args: [p.Name] });
    const flow = this.compile(p.Name, p.Definition, checkMode(p.ExecutionMode), DEFAULT_CREATED_FLOW_MODE);
    const mode = flow.mode;
    const now = this.clock.now();
    const record: FlowRecord = {
      Name: p.Name,
      Id: newUuid(),
      Definition: p.Definition,
      Description: p.Description ?? '',
      Type: FLOW_TYPE,
      RoleArn: p.RoleArn ?? '',
      ExecutionMode: mode,
      CreatedTime: now,
      LastModifiedTime: now,
    };
    if (!(await this.store.create(record))) throw fnfError(FnfErrorCodes.FlowAlreadyExists, { args: [p.Name] });
    this.remember(record, flow);
    return flowView(record);
  }

  async updateFlow(p: UpdateFlowParams): Promise<FlowView> {
    checkType(p.Type);
    const mode = checkMode(p.ExecutionMode);
    const old = await this.requireFlow(p.Name);
    const definition = p.Definition ?? old.Definition;
    const nextMode = mode ?? old.ExecutionMode;
    const flow = definition !== old.Definition || nextMode !== old.ExecutionMode ? this.compile(old.Name, definition, nextMode, nextMode) : undefined;
    const record: FlowRecord = {
      ...old,
      Definition: definition,
      Description: p.Description ?? old.Description,
      RoleArn: p.RoleArn ?? old.RoleArn,
      ExecutionMode: nextMode,
      LastModifiedTime: Math.max(this.clock.now(), old.LastModifiedTime),
    };
    await this.store.put(record);
    if (flow) this.remember(record, flow);
    return flowView(record);
  }

  async deleteFlow(name: string): Promise<void> {
    if (!(await this.store.delete(name))) throw fnfError(FnfErrorCodes.FlowNotExists, { args: [name] });
    this.forget(name);
  }

  async describeFlow(name: string): Promise<FlowView> {
    return flowView(await this.requireFlow(name));
  }

  async listFlows(p: ListFlowsParams = {}): Promise<{ Flows: FlowView[]; NextToken?: string }> {
    const limit = checkLimit(p.Limit, LIST_FLOWS_LIMIT);
    const after =
      p.NextToken === undefined ? undefined : decodeToken('flows', p.NextToken, (t) => (typeof t['a'] === 'string' ? t['a'] : undefined));
    const records = await this.store.list({ limit: limit + 1, ...(after !== undefined ? { after } : {}) });
    const page = records.slice(0, limit);
    const out: { Flows: FlowView[]; NextToken?: string } = { Flows: page.map(flowView) };
    const last = page[page.length - 1];
    if (records.length > limit && last) out.NextToken = encodeToken('flows', { a: last.Name });
    return out;
  }

  /**
   * Loads every flow file directly inside `dir` (YAML or JSON). Flows keep the file's
   * `ExecutionMode`, Express when it has none. Returns one result per file.
   */
  async loadDirectory(dir: string): Promise<FlowFileResult[]> {
    let names: string[];
    try {
      names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() && FLOW_FILE_PATTERN.test(e.name)).map((e) => e.name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const results: FlowFileResult[] = [];
    for (const name of names.sort()) results.push(await this.loadFile(join(dir, name)));
    return results;
  }

  /**
   * (Re)loads one flow file. When the new text is invalid the flow already loaded stays as it
   * was. A flow keeps its Id and CreatedTime across reloads.
   */
  async loadFile(path: string): Promise<FlowFileResult> {
    const file = resolve(path);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      return { ok: false, file, problems: [{ pointer: '', message: `cannot read the file: ${(err as Error).message}` }] };
    }
    let flow: CompiledFlow;
    try {
      flow = loadFlowText(text, file, { ...this.runtime.compileOptions, defaultName: basename(file, extname(file)) });
    } catch (err) {
      if (err instanceof FlowDefinitionError) return { ok: false, file, problems: err.problems };
      throw err;
    }
    if (!NAME_PATTERN.test(flow.name)) {
      return { ok: false, file, problems: [{ pointer: '/Name', message: `'${flow.name}' is not a valid flow name` }] };
    }
    const previousName = this.fileFlows.get(file);
    if (previousName !== undefined && previousName !== flow.name) await this.removeFileFlow(file);
    const old = await this.store.get(flow.name);
    const now = this.clock.now();
    const record: FlowRecord = {
      Name: flow.name,
      Id: old?.Id ?? newUuid(),
      Definition: text,
      Description: flow.description ?? '',
      Type: FLOW_TYPE,
      RoleArn: old?.RoleArn ?? '',
      ExecutionMode: flow.mode,
      CreatedTime: old?.CreatedTime ?? now,
      LastModifiedTime: old ? Math.max(now, old.LastModifiedTime) : now,
      SourceFile: file,
    };
    await this.store.put(record);
    this.remember(record, flow);
    this.fileFlows.set(file, flow.name);
    return { ok: true, file, flow: flowView(record), replaced: old !== undefined };
  }

  /** Forgets the flow loaded from `path` (its file was removed); resolves to its name, if any. */
  async removeFileFlow(path: string): Promise<string | undefined> {
    const file = resolve(path);
    const name = this.fileFlows.get(file);
    if (name === undefined) return undefined;
    this.fileFlows.delete(file);
    const record = await this.store.get(name);
    if (record?.SourceFile !== file) return undefined;
    await this.store.delete(name);
    this.forget(name);
    return name;
  }

  private async requireFlow(name: string): Promise<FlowRecord> {
    const record = await this.store.get(name);
    if (!record) throw fnfError(FnfErrorCodes.FlowNotExists, { args: [name] });
    return record;
  }

  /**
   * Parses, validates and compiles a definition given through the API. Its mode: `mode`, else
   * the document's own `ExecutionMode`, else `fallback`. A `Name` in the document must equal the
   * flow's name. Throws InvalidArgument listing every problem (with line and column when known).
   */
  private compile(name: string, definition: string, mode: ExecutionMode | undefined, fallback: ExecutionMode): CompiledFlow {
    const parsed = parseDefinitionText(definition);
    if (!parsed.ok) throw definitionError(parsed.problems, definition);
    const doc = parsed.document;
    const docMode = isJsonObject(doc) && (doc['ExecutionMode'] === 'Express' || doc['ExecutionMode'] === 'Standard') ? doc['ExecutionMode'] : undefined;
    let flow: CompiledFlow;
    try {
      flow = compileFlow(doc, { ...this.runtime.compileOptions, mode: mode ?? docMode ?? fallback, defaultName: name });
    } catch (err) {
      if (err instanceof FlowDefinitionError) throw definitionError(err.problems, definition);
      throw err;
    }
    if (flow.name !== name) {
      throw definitionError([{ pointer: '/Name', message: `the definition's Name '${flow.name}' must equal the flow name '${name}'` }], definition);
    }
    return flow;
  }

  private remember(record: FlowRecord, flow: CompiledFlow): void {
    this.compiled.set(record.Name, { definition: record.Definition, mode: record.ExecutionMode, flow });
    // child flows (FnF:StartSyncExecution tasks) look flows up in the runtime's catalog
    this.runtime.flows.set(flow);
  }

  private forget(name: string): void {
    this.compiled.delete(name);
    this.runtime.flows.delete(name);
    this.window.forgetFlow(name);
  }

  /** The compiled form of a stored flow (compiled again when the store holds a newer text). */
  private compiledFor(record: FlowRecord): CompiledFlow {
    const entry = this.compiled.get(record.Name);
    if (entry && entry.definition === record.Definition && entry.mode === record.ExecutionMode) return entry.flow;
    const flow = this.compile(record.Name, record.Definition, record.ExecutionMode, record.ExecutionMode);
    this.remember(record, flow);
    return flow;
  }

  // ------------------------------------------------------------------------------------ executions

  /**
   * Runs an express flow to its end and answers like StartSyncExecution. Aborting `cancel` (the
   * client went away) stops the execution. Throws ResourceThrottled at once when every execution
   * slot and every queue place is taken.
   *
   * `cancel` may be the caller's AbortController rather than its signal: the service then uses it
   * as the execution's own controller (and may abort it itself, e.g. at shutdown) instead of
   * making a second one linked to the signal. Nothing reads its signal unless the execution has to
   * wait (for a slot, or for a task or a timer), so a {@link LazyAbortController} never creates
   * one for an execution that ends in its first step.
   */
  async startSyncExecution(p: StartSyncExecutionParams, cancel?: AbortSignal | AbortController): Promise<SyncExecutionView> {
    if (this.closing) throw fnfError(FnfErrorCodes.ResourceThrottled, { reason: 'The server is shutting down.' });
    checkName(p.FlowName, 'FlowName');
    if (p.ExecutionName !== undefined) checkName(p.ExecutionName, 'ExecutionName');
    const inputText = p.Input ?? '{}';
    const input = this.parseInput(inputText);
    const record = await this.requireFlow(p.FlowName);
    if (record.ExecutionMode !== 'Express') throw fnfError(FnfErrorCodes.ActionNotSupported, { message: STANDARD_NOT_SUPPORTED_MESSAGE });
    const flow = this.compiledFor(record);
    if (this.admitted >= this.maxConcurrentExecutions + this.maxQueuedExecutions) {
      throw fnfError(FnfErrorCodes.ResourceThrottled, {
        reason: `${this.maxConcurrentExecutions} executions are running and ${this.maxQueuedExecutions} are waiting.`,
      });
    }
    const name = p.ExecutionName === undefined ? newUuidPair() : flatString(`${p.ExecutionName}:${newUuid()}`);
    // One controller per execution, aborted by abortAll or by the caller: the caller's own, or one
    // linked to the caller's signal with a listener (cheaper than AbortSignal.any; the reason is
    // the same — the first abort's).
    const given = cancel instanceof AbortController;
    const controller = given ? cancel : new LazyAbortController();
    const signal = given ? undefined : cancel;
    const link = signal ? (): void => controller.abort(signal.reason) : undefined;
    if (signal?.aborted) controller.abort(signal.reason);
    else if (link) signal?.addEventListener('abort', link, { once: true });
    this.admitted++;
    this.inFlight.add(controller);
    try {
      // An execution aborted before it holds a slot never starts; once started, an abort stops it
      // (it ends Stopped and answers).
      if (isAborted(controller)) throw this.notStarted();
      let started = false;
      const job = (): Promise<SyncExecutionView> => {
        if (isAborted(controller)) return Promise.reject(this.notStarted());
        started = true;
        return this.execute(flow, record, name, input, inputText, controller);
      };
      // A free slot: the job starts at once, nothing to listen to. Otherwise it waits with a signal
      // of its own, aborted (with the execution's) only while it waits: p-queue would also reject a
      // running job on abort, but a running execution must end (Stopped) and answer.
      if (this.queue.pending < this.maxConcurrentExecutions && this.queue.size === 0) return await this.queue.add(job);
      const waiting = new AbortController();
      const stopWaiting = (): void => {
        if (!started) waiting.abort(controller.signal.reason);
      };
      controller.signal.addEventListener('abort', stopWaiting, { once: true });
      try {
        return await this.queue.add(job, { signal: waiting.signal });
      } catch (err) {
        if (started) throw err;
        throw this.notStarted();
      } finally {
        controller.signal.removeEventListener('abort', stopWaiting);
      }
    } finally {
      if (link) signal?.removeEventListener('abort', link);
      this.inFlight.delete(controller);
      this.admitted--;
      if (this.admitted === 0) this.notifyIdle();
    }
  }

  private notStarted(): FlowrunError {
    return fnfError(FnfErrorCodes.ResourceThrottled, {
      reason: this.closing ? 'The server is shutting down.' : 'The execution was cancelled before it started.',
    });
  }

  private parseInput(text: string): JsonObject {
    // UTF-8 is at most 3 bytes per UTF-16 unit: only measure when it may matter.
    if (text.length * 3 > this.maxInputBytes) {
      const bytes = Buffer.byteLength(text, 'utf8');
      if (bytes > this.maxInputBytes) {
        throw fnfError(FnfErrorCodes.EntityTooLarge, { args: [String(this.maxInputBytes)], reason: `Input has ${bytes} bytes.` });
      }
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw invalidArgument(`Input is not valid JSON: ${(err as Error).message}`);
    }
    if (!isJsonObject(value)) {
      const type = jsonTypeName(value);
      throw invalidArgument(`Input must be a JSON object, not ${type === 'null' ? 'null' : `a JSON ${type}`}.`);
    }
    return value;
  }

  private async execute(
    flow: CompiledFlow,
    record: FlowRecord,
    name: string,
    input: JsonObject,
    inputText: string,
    controller: AbortController,
  ): Promise<SyncExecutionView> {
    const keep = this.window.capacity > 0;
    const history = keep && this.keepHistory;
    // Every field the record will get, from the start (in one literal, no spread): adding one
    // later changes its shape while it lives in the window.
    const entry = keep
      ? this.window.add({
          seq: 0,
          name,
          flowName: record.Name,
          definition: record.Definition,
          input: inputText,
          status: 'Running',
          startedAt: this.clock.now(),
          stoppedAt: undefined,
          output: undefined,
          error: undefined,
          history: history ? new HistoryLog() : undefined,
          waiters: undefined,
        })
      : undefined;
    try {
      const result = await this.runtime.run(flow, input, {
        controller,
        executionName: name,
        timeoutMs: this.executionTimeoutMs,
        log: entry?.history,
      });
      const view: SyncExecutionView = {
        FlowName: record.Name,
        Name: name,
        Status: result.status,
        StartedTime: iso(result.startedAt),
        StoppedTime: iso(result.stoppedAt),
      };
      if (result.status === 'Succeeded') view.Output = JSON.stringify(result.output ?? {});
      if (result.error) {
        view.ErrorCode = result.error.Code;
        view.ErrorMessage = result.error.Detail;
      }
      if (entry) {
        entry.status = result.status;
        entry.startedAt = result.startedAt;
        entry.stoppedAt = result.stoppedAt;
        if (view.Output !== undefined) entry.output = view.Output;
        if (result.error) entry.error = result.error;
      }
      return view;
    } catch (err) {
      if (entry) {
        entry.status = 'Failed';
        entry.stoppedAt = this.clock.now();
        entry.error = { Code: 'InternalServerError', Detail: err instanceof Error ? err.message : String(err) };
      }
      throw err;
    } finally {
      if (entry?.waiters) {
        for (const w of entry.waiters) w();
        entry.waiters = undefined;
      }
    }
  }

  async describeExecution(p: DescribeExecutionParams, signal?: AbortSignal): Promise<ExecutionView> {
    const wait = p.WaitTimeSeconds ?? 0;
    if (!Number.isInteger(wait) || wait < 0 || wait > MAX_DESCRIBE_WAIT_SECONDS) {
      throw invalidArgument(`WaitTimeSeconds must be an integer from 0 to ${MAX_DESCRIBE_WAIT_SECONDS}.`);
    }
    const entry = await this.requireExecution(p.FlowName, p.ExecutionName);
    if (entry.status === 'Running' && wait > 0) await this.waitForEnd(entry, wait * 1000, signal);
    return executionView(entry);
  }

  async listExecutions(p: ListExecutionsParams): Promise<{ Executions: ExecutionView[]; NextToken?: string }> {
    const limit = checkLimit(p.Limit, LIST_EXECUTIONS_LIMIT);
    if (p.Status !== undefined && !EXECUTION_STATUSES.includes(p.Status as ExecutionStatusName)) {
      throw invalidArgument(`Status must be one of ${EXECUTION_STATUSES.join(', ')}.`);
    }
    const startedFrom = parseTime(p.StartedTimeBegin, 'StartedTimeBegin');
    const startedTo = parseTime(p.StartedTimeEnd, 'StartedTimeEnd');
    const beforeSeq =
      p.NextToken === undefined
        ? undefined
        : decodeToken('executions', p.NextToken, (t) => (t['f'] === p.FlowName && Number.isSafeInteger(t['s']) ? (t['s'] as number) : undefined));
    await this.requireFlow(p.FlowName);
    const { items, more } = this.window.list({
      flowName: p.FlowName,
      limit,
      ...(beforeSeq !== undefined ? { beforeSeq } : {}),
      ...(p.Status !== undefined ? { status: p.Status as ExecutionStatusName } : {}),
      ...(p.ExecutionNamePrefix !== undefined ? { namePrefix: p.ExecutionNamePrefix } : {}),
      ...(startedFrom !== undefined ? { startedFrom } : {}),
      ...(startedTo !== undefined ? { startedTo } : {}),
    });
    const out: { Executions: ExecutionView[]; NextToken?: string } = { Executions: items.map((r) => executionView(r, p.MetadataOnly === true)) };
    const last = items[items.length - 1];
    if (more && last) out.NextToken = encodeToken('executions', { f: p.FlowName, s: last.seq });
    return out;
  }

  async getExecutionHistory(p: GetExecutionHistoryParams): Promise<{ Events: HistoryEventView[]; NextToken?: string }> {
    const limit = checkLimit(p.Limit, EXECUTION_HISTORY_LIMIT);
    const from =
      p.NextToken === undefined
        ? 0
        : decodeToken('history', p.NextToken, (t) =>
            t['n'] === p.ExecutionName && Number.isSafeInteger(t['i']) && (t['i'] as number) > 0 ? (t['i'] as number) : undefined,
          );
    const entry = await this.requireExecution(p.FlowName, p.ExecutionName);
    // the events before `from` too: a Task* event links to its TaskScheduled
    const events = entry.history?.events(0, from + limit) ?? [];
    const out: { Events: HistoryEventView[]; NextToken?: string } = { Events: toEventViews(events, from, from + limit) };
    if (from + limit < (entry.history?.length ?? 0)) out.NextToken = encodeToken('history', { n: p.ExecutionName, i: from + limit });
    return out;
  }

  private async requireExecution(flowName: string, name: string): Promise<ExecutionRecord> {
    await this.requireFlow(flowName);
    const entry = this.window.get(flowName, name);
    if (!entry) throw fnfError(FnfErrorCodes.ExecutionNotExists, { args: [name] });
    return entry;
  }

  private async waitForEnd(entry: ExecutionRecord, ms: number, signal?: AbortSignal): Promise<void> {
    const timer = new AbortController();
    const stop = signal ? AbortSignal.any([signal, timer.signal]) : timer.signal;
    let waiter: (() => void) | undefined;
    const ended = new Promise<void>((resolve) => {
      waiter = resolve;
      (entry.waiters ??= []).push(resolve);
    });
    try {
      await Promise.race([ended, this.clock.sleep(ms, stop).catch(() => undefined)]);
    } finally {
      timer.abort();
      if (entry.waiters && waiter) entry.waiters = entry.waiters.filter((w) => w !== waiter);
    }
  }

  // ----------------------------------------------------------------------------------- lifecycle

  stats(): ServiceStats {
    return { running: this.queue.pending, queued: this.queue.size };
  }

  /** Executions admitted and not finished (running or waiting). */
  get inFlightCount(): number {
    return this.admitted;
  }

  /** Resolves when no execution is running or waiting. */
  idle(): Promise<void> {
    if (this.admitted === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Stops every running and waiting execution (they end Stopped, or are refused if still waiting). */
  abortAll(reason = 'the server is shutting down'): void {
    const error = new FlowrunError(ErrorNames.Cancelled, reason);
    for (const c of [...this.inFlight]) c.abort(error);
  }

  /**
   * Refuses new executions, lets those in flight finish for up to `graceMs` (on the runtime's
   * clock), then stops the rest and waits for them to end. The store is closed last.
   */
  async close(graceMs = 0): Promise<void> {
    this.closing = true;
    if (this.admitted > 0 && graceMs > 0) {
      const timer = new AbortController();
      await Promise.race([this.idle(), this.clock.sleep(graceMs, timer.signal).catch(() => undefined)]);
      timer.abort();
    }
    if (this.admitted > 0) {
      this.logger?.warn({ executions: this.admitted }, 'stopping executions still running at shutdown');
      this.abortAll();
      await this.idle();
    }
    await this.store.close();
  }
}

function positive(value: number, name: string): number {
  if (!(Number.isInteger(value) && value >= 1)) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

function nonNegative(value: number, name: string): number {
  if (!(Number.isInteger(value) && value >= 0)) throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  return value;
}
