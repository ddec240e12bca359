/**
 * The OOS lifecycle inside the durable runner (its hooks for kind 'template'):
 *
 * - holds: a task that must not run yet is kept open and held — before each task in Debug mode
 *   (`Reason: Debug`, released by ExecuteTask), before a high-risk API with
 *   ConfirmEveryHighRiskAction (`Reason: Risk`, released by Approve, ended by Reject), and after a
 *   failure in FailurePause/Debug mode (`Reason: Failure`, RetryTask runs it again, SkipTask lets
 *   the flow go on). ACS::Approve/Pause tasks are callback tasks: they wait for Approve/Reject.
 * - statuses: Running, Waiting (a held or callback task is open), Success, Failed, Cancelled.
 * - loop iterations become resource-status rows (ListResourceExecutionStatus) in the step's commit.
 * - NotifyExecution arrives as a `Notify` signal; {@link decideNotify} says what it does. The API
 *   validates notifications before posting them (clear 400s); this re-checks against the state the
 *   runner holds when it applies them, and ignores (logs) what no longer applies.
 */
import type { Logger } from 'pino';
import type { TaskRunner } from '../../engine/types.js';
import { isHighRiskApi } from '../../oos/index.js';
import { batchCount } from '../../interpreter/step.js';
import type { CompiledTemplate } from '../../oos/index.js';
import type { CompiledFlow } from '../../flow/graph.js';
import type { ExecutionState, Frame } from '../../interpreter/types.js';
import { isJsonObject } from '../../shared/json.js';
import type { Json, JsonObject } from '../../shared/json.js';
import type { ControlDecision, ControlEvent, DrivenExecution, ExecutionHooks, NewTaskView, OpenTaskView } from '../durable-runner.js';
import type { ExecutionRecord, NewResourceStatus, SignalRecord } from '../store.js';
import { OosLifecycleErrorNames } from './errors.js';
import { metaOf } from './meta.js';
import type { LoopObservation, LoopObserver } from './observe.js';

/** Signal type of NotifyExecution. */
export const NOTIFY_SIGNAL = 'Notify';

export const NOTIFY_TYPES = ['Approve', 'Reject', 'ExecuteTask', 'CancelTask', 'CompleteExecution', 'RetryTask', 'SkipTask'] as const;
export type NotifyType = (typeof NOTIFY_TYPES)[number];

/** Why a task is held. */
export type HoldReason = 'Debug' | 'Risk' | 'Failure';


/** Type of the history event recording a notification (ListExecutionLogs shows it). */
export const NOTIFIED_EVENT = 'Notified';

/** What NotifyExecution posts (validated by the service, re-checked here). */
export interface NotifyPayload extends JsonObject {
  NotifyType: NotifyType;
  /** Engine task ids the notification targets (absent: every open task). */
  TaskIds: number[];
  TaskName: string;
  Approver: string;
  NotifyNote: string;
  /** ExecuteTask: overrides of the task's Properties (merged over them). */
  Parameters: JsonObject;
  /** CompleteExecution: Success | Failed | Cancelled. */
  ExecutionStatus: string;
}

export const APPROVAL_ACTIONS: ReadonlySet<string> = new Set(['ACS::Approve', 'ACS::Pause']);

const isCallback = (t: { mode: string }): boolean => t.mode !== 'RequestComplete';

/** The hold of an open task, with its reason. */
export function holdReason(t: { hold: JsonObject | undefined }): HoldReason | undefined {
  const r = t.hold?.['Reason'];
  return r === 'Debug' || r === 'Risk' || r === 'Failure' ? r : undefined;
}

/** A task held for Approve/Reject: a high-risk confirmation. */
export function isConfirmable(t: { hold: JsonObject | undefined }): boolean {
  return holdReason(t) === 'Risk';
}

/** A loop in batches that waits before its next batch (the Map frame's `paused`). */
export interface PausedLoop {
  /** Path of the Map's frame (the ResumeMap input's). */
  path: number[];
  taskName: string;
  /** 1-based batch that waits, and how many there are. */
  batch: number;
  batches: number;
}

/**
 * The loops of an execution that wait before a batch (FirstBatchPause / EveryBatchPause). Read
 * from the interpreter state; `nameOf` names the task of a frame (its node in the flow).
 */
export function pausedLoops(state: ExecutionState | undefined, nameOf: (frame: Frame) => string): PausedLoop[] {
  const out: PausedLoop[] = [];
  const walk = (frame: Frame, path: number[]): void => {
    if (frame.paused !== undefined) {
      out.push({ path, taskName: nameOf(frame), batch: frame.paused + 1, batches: batchCount(frame.batchSizes ?? [], frame.items?.length ?? 0) });
    }
    frame.kids?.forEach((kid, i) => {
      if (kid) walk(kid, [...path, i]);
    });
  };
  if (state) walk(state.root, []);
  return out;
}

/** A callback task waiting for Approve/Reject (ACS::Approve, ACS::Pause). */
export function awaitsApproval(t: { mode: string; action: string; hold: JsonObject | undefined }): boolean {
  return isCallback(t) && !t.hold && APPROVAL_ACTIONS.has(t.action);
}

/** MinRequiredApprovals of an ACS::Approve task (default 1). */
export function minApprovals(t: { action: string; parameters: Json }): number {
  if (t.action !== 'ACS::Approve' || !isJsonObject(t.parameters)) return 1;
  const n = Number(t.parameters['MinRequiredApprovals'] ?? 1);
  return Number.isInteger(n) && n >= 1 ? n : 1;
}

export function approversOf(t: { progress: JsonObject | undefined }): string[] {
  const list = t.progress?.['Approvers'];
  return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : [];
}

/** The API (or product action) name a task calls, if it calls one. */
export function apiOf(action: string, parameters: Json): { service?: string; api: string } | undefined {
  if (!isJsonObject(parameters)) return undefined;
  if (action === 'ACS::ExecuteAPI' && typeof parameters['API'] === 'string') {
    return { ...(typeof parameters['Service'] === 'string' ? { service: parameters['Service'] } : {}), api: parameters['API'] };
  }
  if (action === 'ACS::Template' && typeof parameters['TemplateName'] === 'string' && /^ACS::[A-Za-z0-9]+::[A-Za-z0-9]+$/i.test(parameters['TemplateName'])) {
    const parts = parameters['TemplateName'].split('::');
    return { service: parts[1] ?? '', api: parts[2] ?? '' };
  }
  return undefined;
}

/** A loop item as a resource id: ids as they are, objects by their id field, else JSON. */
export function resourceIdOf(item: Json): string {
  if (typeof item === 'string') return item;
  if (typeof item === 'number' || typeof item === 'boolean') return String(item);
  if (isJsonObject(item)) {
    for (const k of ['ResourceId', 'InstanceId', 'resourceId', 'instanceId', 'Id', 'id']) if (typeof item[k] === 'string') return item[k];
  }
  return JSON.stringify(item);
}

export interface OosHooksOptions {
  tasks: TaskRunner;
  observer: LoopObserver;
  highRiskPattern: RegExp;
  /** Whether an engine action carries the high-risk flag (product actions always count as flagged). */
  isFlagged: (action: string) => boolean;
  /** The compiled template of an execution being driven (set by the service at start and resume). */
  templateOf: (executionId: string) => CompiledTemplate | undefined;
  resolveFlow: (record: ExecutionRecord) => Promise<CompiledFlow>;
  /** After an execution finished (e.g. to cancel its children). */
  onFinished: (executionId: string, status: string) => void;
  logger: Logger;
}

/** The Map frame running the loop item a task of `path` belongs to (`[..., item index]`). */
function loopFrameOf(state: ExecutionState, path: readonly number[]): Frame | undefined {
  let frame: Frame | undefined = state.root;
  for (let k = 0; k < path.length - 1 && frame; k++) frame = frame.kids?.[path[k] as number] ?? undefined;
  return frame?.kids ? frame : undefined;
}

/** The hooks the OOS service installs on the runner for kind 'template'. */
export function createOosHooks(o: OosHooksOptions): ExecutionHooks {
  /** Start times of loop items (exec/task/index → ms) for ExecutionTime. */
  const itemStarts = new Map<string, number>();

  const risky = (execution: DrivenExecution, task: NewTaskView): JsonObject | undefined => {
    const call = apiOf(task.action, task.parameters);
    if (!call) return undefined;
    const flagged = task.action === 'ACS::Template' || o.isFlagged(task.action);
    if (!flagged || !isHighRiskApi(call.api, o.highRiskPattern)) return undefined;
    const params = isJsonObject(task.parameters) ? task.parameters : {};
    if (params['Risk'] === 'Normal') return undefined;
    const template = o.templateOf(execution.id);
    const def = template ? taskDefinition(template, task.stateName) : undefined;
    if (def?.['Risk'] === 'Normal') return undefined;
    return { Reason: 'Risk', ...(call.service !== undefined ? { Service: call.service } : {}), API: call.api };
  };

  const rows = (execution: DrivenExecution, observations: LoopObservation[], now: number): NewResourceStatus[] => {
    const byKey = new Map<string, NewResourceStatus>();
    for (const ob of observations) {
      const key = `${execution.id}\u0000${ob.task}\u0000${ob.index}`;
      const resourceId = resourceIdOf(ob.item);
      if (ob.kind === 'start') {
        if ((ob.retry ?? 0) > 0 && itemStarts.has(key)) continue;
        itemStarts.set(key, now);
        byKey.set(`${ob.task}\u0000${resourceId}`, { taskName: ob.task, resourceId, status: 'Running', outputs: { Index: ob.index, LoopItem: ob.item, StartedAt: now }, updatedAt: now });
      } else {
        const started = itemStarts.get(key) ?? now;
        itemStarts.delete(key);
        const outputs: JsonObject = { Index: ob.index, LoopItem: ob.item, StartedAt: started };
        if (ob.status === 'Failed') outputs['Error'] = ob.outputs?.['Error'] ?? {};
        else outputs['Outputs'] = ob.outputs ?? {};
        byKey.set(`${ob.task}\u0000${resourceId}`, { taskName: ob.task, resourceId, status: ob.status ?? 'Success', outputs, updatedAt: now });
      }
    }
    return [...byKey.values()];
  };

  return {
    resolveFlow: (record) => o.resolveFlow(record),
    tasks: o.tasks,
    taskContext(execution) {
      const meta = metaOf(execution.tags);
      return { depth: meta.Depth, flowChain: meta.Chain.length > 0 ? meta.Chain : [execution.state.flowName] };
    },
    holdTask(execution, task) {
      if (task.retryCount > 0) return undefined;
      const meta = metaOf(execution.tags);
      // a loop item: once an item of this run of the loop was released (ExecuteTask, Approve),
      // the Map frame says so (ResumeMap with release) and the later items run unheld
      const loopReleased = task.path.length > 0 && loopFrameOf(execution.state, task.path)?.released === true;
      if (meta.Mode === 'Debug') return loopReleased ? undefined : { Reason: 'Debug' };
      if (meta.Mode === 'Automatic' && meta.SafetyCheck === 'Skip') return undefined;
      if (loopReleased) return undefined;
      return risky(execution, task);
    },
    holdFailure(execution, task, error) {
      const meta = metaOf(execution.tags);
      if (meta.Mode !== 'FailurePause' && meta.Mode !== 'Debug') return undefined;
      if (error.Code === OosLifecycleErrorNames.Cancelled) return undefined;
      // the step that saw the failure is dropped: so is what its loop iterations reported
      o.observer.drain(execution.name);
      return { Reason: 'Failure', Error: { Code: error.Code, Detail: error.Detail }, Attempts: task.retryCount + 1 };
    },
    status(execution, status, open) {
      switch (status) {
        case 'Succeeded':
          return 'Success';
        case 'Failed':
        case 'TimedOut':
          return 'Failed';
        case 'Stopped':
          return 'Cancelled';
        case 'Running':
          // a loop waiting before a batch: OOS loops are top-level tasks, so it is the root frame
          return open.some((t) => t.hold !== undefined || isCallback(t)) || execution.state.root.paused !== undefined ? 'Waiting' : 'Running';
      }
    },
    afterStep(execution, _result, commit) {
      const observed = o.observer.drain(execution.name);
      if (observed.length === 0) return;
      commit.resourceStatuses = [...(commit.resourceStatuses ?? []), ...rows(execution, observed, commit.now)];
    },
    signal(execution, signal) {
      if (signal.type !== NOTIFY_SIGNAL) {
        o.logger.warn({ executionId: execution.id, type: signal.type }, 'unknown signal type: ignored');
        return undefined;
      }
      const decided = decideNotify(execution, signal, pausedLoops(execution.state, (frame) => nodeName(o.templateOf(execution.id), frame)));
      if (decided.decisions.length === 0) o.logger.info({ executionId: execution.id, notify: signal.payload, why: decided.why }, 'notification no longer applies: ignored');
      return { decisions: decided.decisions, event: decided.event };
    },
    finished(execution, status) {
      for (const key of [...itemStarts.keys()]) if (key.startsWith(`${execution.id}\u0000`)) itemStarts.delete(key);
      o.onFinished(execution.id, status);
    },
  };
}

/** The name of the node a frame is at (the task of a loop's Map frame). */
export function nodeName(template: CompiledTemplate | undefined, frame: Frame): string {
  return template?.flow.scopes[frame.scope]?.nodes[frame.node]?.name ?? '';
}

/** The template definition of a task (its `Risk`, …). */
export function taskDefinition(template: CompiledTemplate, name: string): JsonObject | undefined {
  const tasks = template.document['Tasks'];
  if (!Array.isArray(tasks)) return undefined;
  return tasks.find((t): t is JsonObject => isJsonObject(t) && t['Name'] === name);
}

function payloadOf(signal: SignalRecord): NotifyPayload {
  const p = signal.payload;
  const type = typeof p['NotifyType'] === 'string' ? p['NotifyType'] : '';
  return {
    NotifyType: (NOTIFY_TYPES as readonly string[]).includes(type) ? (type as NotifyType) : 'Approve',
    TaskIds: Array.isArray(p['TaskIds']) ? p['TaskIds'].filter((x): x is number => typeof x === 'number') : [],
    TaskName: typeof p['TaskName'] === 'string' ? p['TaskName'] : '',
    Approver: typeof p['Approver'] === 'string' ? p['Approver'] : '',
    NotifyNote: typeof p['NotifyNote'] === 'string' ? p['NotifyNote'] : '',
    Parameters: p['Parameters'] !== undefined && isJsonObject(p['Parameters']) ? p['Parameters'] : {},
    ExecutionStatus: typeof p['ExecutionStatus'] === 'string' ? p['ExecutionStatus'] : '',
  };
}

/** The paused loops a notification is for: all, or the one its TaskName names. */
function pausedNamed(paused: PausedLoop[], p: NotifyPayload): PausedLoop[] {
  return p.TaskName === '' ? paused : paused.filter((l) => l.taskName === p.TaskName);
}

/** Merges ExecuteTask `Parameters` over a task's resolved Properties. */
export function mergeParameters(parameters: Json, overrides: JsonObject): Json {
  if (Object.keys(overrides).length === 0) return parameters;
  return isJsonObject(parameters) ? { ...parameters, ...overrides } : overrides;
}

/**
 * `ResumeMap` with `release` for the loops of these held items: their later items need no
 * further confirmation (decided before the release, so a restart in between keeps the mark).
 */
function releaseLoops(held: OpenTaskView[]): ControlDecision[] {
  const paths = new Map<string, number[]>();
  for (const t of held) if (t.path.length > 0) paths.set(t.path.slice(0, -1).join('/'), t.path.slice(0, -1));
  return [...paths.values()].map((path) => ({ type: 'step', input: { type: 'ResumeMap', path, release: true } }));
}

/**
 * What a notification does to the execution as the runner holds it. `why` explains an empty
 * decision list. `paused`: the loops waiting before a batch (Approve runs it, Reject cancels).
 */
export function decideNotify(execution: DrivenExecution, signal: SignalRecord, paused: PausedLoop[] = []): { decisions: ControlDecision[]; event: ControlEvent; why: string } {
  const p = payloadOf(signal);
  const open = [...execution.tasks.values()];
  const targets = p.TaskIds.length > 0 ? open.filter((t) => p.TaskIds.includes(t.id)) : open;
  const named = (list: OpenTaskView[]): OpenTaskView[] => (p.TaskName === '' ? list : list.filter((t) => t.stateName === p.TaskName));
  const detail: JsonObject = { NotifyType: p.NotifyType };
  if (p.Approver !== '') detail['Approver'] = p.Approver;
  if (p.NotifyNote !== '') detail['NotifyNote'] = p.NotifyNote;
  if (p.TaskName !== '') detail['TaskName'] = p.TaskName;
  const event: ControlEvent = { type: NOTIFIED_EVENT, detail };
  const none = (why: string): { decisions: ControlDecision[]; event: ControlEvent; why: string } => ({ decisions: [], event, why });
  const touched = (list: OpenTaskView[]): void => {
    detail['Tasks'] = list.map((t) => ({ TaskName: t.stateName, Path: [...t.path] }));
    const first = list[0];
    if (first && event.step === undefined) event.step = first.stateName;
  };

  switch (p.NotifyType) {
    case 'Approve': {
      const approval = named(targets).find(awaitsApproval);
      if (approval) {
        touched([approval]);
        const who = p.Approver === '' ? 'anonymous' : p.Approver;
        const approvers = approversOf(approval);
        if (!approvers.includes(who)) approvers.push(who);
        const needed = minApprovals(approval);
        detail['Approvals'] = approvers.length;
        detail['MinRequiredApprovals'] = needed;
        if (approvers.length < needed) return { decisions: [{ type: 'progress', taskId: approval.id, progress: { Approvers: approvers } }], event, why: '' };
        const output: JsonObject = { Approved: true, Approvers: approvers };
        if (p.NotifyNote !== '') output['NotifyNote'] = p.NotifyNote;
        return { decisions: [{ type: 'step', input: { type: 'TaskSucceeded', path: approval.path, id: approval.id, output } }], event, why: '' };
      }
      const held = named(targets).filter((t) => isConfirmable(t));
      if (held.length > 0) {
        touched(held);
        return { decisions: [...releaseLoops(held), { type: 'release', tasks: held.map((t) => ({ id: t.id })) }], event, why: '' };
      }
      const loops = pausedNamed(paused, p);
      if (loops.length === 0) return none('nothing waits for an approval, a high-risk confirmation or the next batch');
      detail['Batches'] = loops.map((l) => ({ TaskName: l.taskName, Batch: l.batch, Of: l.batches }));
      event.step ??= loops[0]?.taskName;
      return { decisions: loops.map((l) => ({ type: 'step', input: { type: 'ResumeMap', path: l.path } })), event, why: '' };
    }
    case 'Reject': {
      const waiting = named(targets).filter((t) => awaitsApproval(t) || isConfirmable(t));
      const loops = waiting.length === 0 ? pausedNamed(paused, p) : [];
      if (waiting.length === 0 && loops.length === 0) return none('nothing waits for an approval, a high-risk confirmation or the next batch');
      touched(waiting);
      if (loops.length > 0) event.step ??= loops[0]?.taskName;
      const names = [...new Set([...waiting.map((t) => t.stateName), ...loops.map((l) => `${l.taskName} (batch ${l.batch} of ${l.batches})`)])].join(', ');
      const who = p.Approver === '' ? '' : ` by ${p.Approver}`;
      const error = { Code: OosLifecycleErrorNames.Rejected, Detail: `task ${names} was rejected${who}${p.NotifyNote !== '' ? `: ${p.NotifyNote}` : ''}` };
      return { decisions: [{ type: 'step', input: { type: 'Stop', error } }], event, why: '' };
    }
    case 'ExecuteTask': {
      const held = targets.filter((t) => holdReason(t) === 'Debug' && t.stateName === p.TaskName);
      if (held.length === 0) return none(`no task named '${p.TaskName}' waits to be executed`);
      touched(held);
      return { decisions: [...releaseLoops(held), { type: 'release', tasks: held.map((t) => ({ id: t.id, parameters: mergeParameters(t.parameters, p.Parameters) })) }], event, why: '' };
    }
    case 'CancelTask': {
      const running = named(targets).filter((t) => !t.hold && !isCallback(t) && t.running);
      if (running.length === 0) return none('no task is running');
      touched(running);
      return { decisions: [{ type: 'abort', taskIds: running.map((t) => t.id), error: { Code: OosLifecycleErrorNames.TaskCancelled, Detail: 'the task was cancelled by NotifyExecution CancelTask' } }], event, why: '' };
    }
    case 'CompleteExecution': {
      detail['ExecutionStatus'] = p.ExecutionStatus;
      const reason = `completed by NotifyExecution${p.NotifyNote !== '' ? `: ${p.NotifyNote}` : ''}`;
      if (p.ExecutionStatus === 'Success') return { decisions: [{ type: 'end', status: 'Succeeded', output: {} }], event, why: '' };
      if (p.ExecutionStatus === 'Failed') return { decisions: [{ type: 'end', status: 'Failed', error: { Code: OosLifecycleErrorNames.CompletedFailed, Detail: reason } }], event, why: '' };
      return { decisions: [{ type: 'end', status: 'Stopped', error: { Code: OosLifecycleErrorNames.Cancelled, Detail: reason } }], event, why: '' };
    }
    case 'RetryTask': {
      const failed = named(targets).filter((t) => holdReason(t) === 'Failure');
      if (failed.length === 0) return none('no failed task waits for RetryTask');
      touched(failed);
      return { decisions: [{ type: 'release', tasks: failed.map((t) => ({ id: t.id })) }], event, why: '' };
    }
    case 'SkipTask': {
      const failed = named(targets).filter((t) => holdReason(t) === 'Failure');
      if (failed.length === 0) return none('no failed task waits for SkipTask');
      touched(failed);
      detail['Skipped'] = failed.map((t) => ({ TaskName: t.stateName, Path: [...t.path] }));
      return { decisions: failed.map((t) => ({ type: 'step', input: { type: 'TaskSucceeded', path: t.path, id: t.id, output: {} } })), event, why: '' };
    }
  }
}
