/**
 * Task executions and execution logs, derived from what the store keeps of an execution: its
 * history events (every step, task, iteration and notification), its open tasks (holds and
 * approvals) and its resource-status rows (loop items and their outputs). One task execution per
 * time a template task was reached (a `When`-false task is one Skipped task execution); a loop
 * task has one child task execution per item.
 */
import type { CompiledTemplate } from '../../oos/index.js';
import { LOOP_ITEM_KEY, loopKey, outputKey } from '../../oos/index.js';
import { isFinishedStatus } from '../store.js';
import { isJsonObject } from '../../shared/json.js';
import type { Json, JsonObject } from '../../shared/json.js';
import type { ExecutionRecord, HistoryRecord, ResourceStatusRecord, TaskRecord } from '../store.js';
import { approversOf, holdReason, minApprovals, nodeName, NOTIFIED_EVENT, pausedLoops } from './hooks.js';
import { iso } from './templates.js';

export interface TaskExecution {
  id: string;
  name: string;
  action: string;
  status: string;
  message: string;
  start: number;
  end?: number;
  update: number;
  properties?: Json;
  outputs?: JsonObject;
  parentId?: string;
  index?: number;
  loopItem?: Json;
  loop?: JsonObject;
  childExecutionId?: string;
  extra: JsonObject;
  /** Path of the engine task (root: [], loop item: [index]). */
  path: number[];
}

/** The API's TaskExecution object. */
export interface TaskExecutionView {
  TaskExecutionId: string;
  ExecutionId: string;
  TaskName: string;
  TaskAction: string;
  Status: string;
  StatusMessage: string;
  CreateDate: string;
  StartDate: string;
  EndDate: string;
  UpdateDate: string;
  /** JSON text of the resolved Properties. */
  Properties: string;
  /** JSON text of the task's Outputs. */
  Outputs: string;
  ParentTaskExecutionId: string;
  LoopItem: string;
  Loop: JsonObject;
  LoopBatchNumber: number;
  ChildExecutionId: string;
  TemplateId: string;
  ExtraData: JsonObject;
}

export interface ExecutionLog {
  Timestamp: string;
  LogType: string;
  Message: string;
  TaskExecutionId: string;
}

export interface Derived {
  tasks: TaskExecution[];
  logs: ExecutionLog[];
}

const pad = (n: number): string => String(n).padStart(4, '0');

function text(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/**
 * Every task execution and log line of an execution. `children`: child executions (ACS::Template)
 * of this one, oldest first.
 */
export function deriveTaskExecutions(
  execution: ExecutionRecord,
  template: CompiledTemplate | undefined,
  events: readonly HistoryRecord[],
  open: readonly TaskRecord[],
  rows: readonly ResourceStatusRecord[],
  children: readonly { id: string; parentTaskName?: string }[],
): Derived {
  const tasks: TaskExecution[] = [];
  const logs: ExecutionLog[] = [];
  const latest = new Map<string, TaskExecution>();
  const items = new Map<string, TaskExecution>();
  const actionOf = new Map<string, string>();
  for (const t of template?.tasks ?? []) actionOf.set(t.name, t.action);
  let seq = 0;
  const roleOf = (step: string | undefined, depth: number): { task: string | undefined; role: string } | undefined =>
    step === undefined ? undefined : (template?.roleOf(step, depth) ?? (depth === 0 ? { task: step, role: 'task' } : { task: step, role: 'item' }));

  const newTask = (name: string, time: number, status: string, path: number[], parent?: TaskExecution, index?: number): TaskExecution => {
    const te: TaskExecution = {
      id: parent && index !== undefined ? `${parent.id}#${index}` : `${execution.id}.t${pad(++seq)}`,
      name,
      action: actionOf.get(name) ?? '',
      status,
      message: '',
      start: time,
      update: time,
      extra: {},
      path,
    };
    if (parent) te.parentId = parent.id;
    if (index !== undefined) te.index = index;
    tasks.push(te);
    return te;
  };
  const log = (time: number, message: string, te?: TaskExecution, type = 'System'): void => {
    logs.push({ Timestamp: iso(time), LogType: type, Message: message, TaskExecutionId: te?.id ?? '' });
  };
  const finish = (te: TaskExecution, status: string, time: number, message = ''): void => {
    te.status = status;
    te.end = time;
    te.update = time;
    if (message !== '') te.message = message;
  };
  const endOpen = (status: string, time: number, message: string): void => {
    for (const te of tasks) if (te.status === 'Running' || te.status === 'Waiting') finish(te, status, time, message);
  };

  for (const e of events) {
    const depth = e.path?.length ?? 0;
    const d = e.detail ?? {};
    const failure = `${text(d['Code'])}: ${text(d['Detail'])}`;
    if (e.type === NOTIFIED_EVENT) {
      const who = text(d['Approver']);
      const note = text(d['NotifyNote']);
      const te = e.step !== undefined ? latest.get(e.step) : undefined;
      log(e.time, `NotifyExecution ${text(d['NotifyType'])}${who ? ` by ${who}` : ''}${text(d['TaskName']) ? ` for task ${text(d['TaskName'])}` : ''}${note ? `: ${note}` : ''}`, te, 'Notify');
      const skipped = d['Skipped'];
      if (Array.isArray(skipped)) {
        for (const s of skipped) {
          if (!isJsonObject(s)) continue;
          const path = Array.isArray(s['Path']) ? s['Path'] : [];
          const name = text(s['TaskName']);
          const target = path.length === 0 ? latest.get(name) : items.get(`${name}#${String(path[0])}`);
          if (target) target.extra['Skipped'] = true;
        }
      }
      continue;
    }
    switch (e.type) {
      case 'ExecutionStarted':
        log(e.time, 'Execution started');
        continue;
      case 'ExecutionSucceeded':
        endOpen('Cancelled', e.time, 'the execution was completed');
        log(e.time, 'Execution succeeded');
        continue;
      case 'ExecutionFailed':
      case 'ExecutionTimedOut':
        endOpen('Failed', e.time, failure);
        log(e.time, `Execution failed: ${failure}`);
        continue;
      case 'ExecutionStopped':
        endOpen('Cancelled', e.time, failure);
        log(e.time, `Execution cancelled: ${text(d['Detail'])}`);
        continue;
      default:
        break;
    }
    if (depth === 0) {
      const role = roleOf(e.step, 0);
      if (!role?.task || e.step === undefined) continue;
      const name = role.task;
      const te = latest.get(name);
      if (e.type === 'StepEntered') {
        if (role.role === 'task' || role.role === 'loop') {
          const created = newTask(name, e.time, 'Running', []);
          latest.set(name, created);
          log(e.time, `Task ${name} started`, created);
        } else if (role.role === 'skipped') {
          const created = newTask(name, e.time, 'Skipped', []);
          finish(created, 'Skipped', e.time, 'When is false: the task was skipped');
          latest.set(name, created);
          log(e.time, `Task ${name} skipped (When is false)`, created);
        }
        continue;
      }
      if (!te || (role.role !== 'task' && role.role !== 'loop')) continue;
      te.update = e.time;
      switch (e.type) {
        case 'TaskScheduled':
          te.properties = (d['Parameters'] as Json | undefined) ?? {};
          log(e.time, `Task ${name} runs ${text(d['Action'])}`, te);
          break;
        case 'WaitStarted':
          te.properties = { Until: d['Until'] ?? null };
          log(e.time, `Task ${name} sleeps until ${text(d['Until'])}`, te);
          break;
        case 'TaskFailed':
        case 'TaskTimedOut':
          log(e.time, `Task ${name}: the action failed: ${failure}`, te);
          break;
        case 'StepSucceeded':
          finish(te, te.extra['Skipped'] === true ? 'Skipped' : 'Success', e.time);
          log(e.time, `Task ${name} ${te.status === 'Skipped' ? 'skipped (SkipTask)' : 'succeeded'}`, te);
          break;
        case 'StepFailed':
          finish(te, 'Failed', e.time, failure);
          log(e.time, `Task ${name} failed: ${failure}`, te);
          break;
        case 'StepRetrying':
          te.status = 'Running';
          delete te.end;
          log(e.time, `Task ${name} will run again (attempt ${String(d['Attempt'] ?? '')}, in ${String(d['DelayMs'] ?? 0)} ms)`, te);
          break;
        case 'StepCaught':
          log(e.time, `Task ${name} failed; OnError continues with ${text(d['Next'])}`, te);
          break;
        default:
          break;
      }
      continue;
    }
    if (depth === 1 && e.path && e.step !== undefined) {
      const index = e.path[0] as number;
      const role = roleOf(e.step, 1);
      const loopName = e.type === 'IterationEntered' || e.type === 'IterationExited' ? e.step : role?.task;
      if (!loopName) continue;
      const parent = latest.get(loopName);
      if (!parent) continue;
      const key = `${loopName}#${index}`;
      if (e.type === 'IterationEntered') {
        const child = newTask(loopName, e.time, 'Running', [index], parent, index);
        items.set(key, child);
        continue;
      }
      const child = items.get(key);
      if (!child) continue;
      child.update = e.time;
      if (e.type === 'TaskScheduled') child.properties = (d['Parameters'] as Json | undefined) ?? {};
      else if (e.type === 'StepSucceeded' && e.step === loopName) finish(child, child.extra['Skipped'] === true ? 'Skipped' : 'Success', e.time);
      else if (e.type === 'StepFailed' && e.step === loopName) {
        finish(child, 'Failed', e.time, failure);
        log(e.time, `Task ${loopName}, item ${index}: failed: ${failure}`, child);
      } else if (e.type === 'StepRetrying' && e.step === loopName) {
        child.status = 'Running';
        delete child.end;
      }
    }
  }

  // outputs of loop items and their items, from the resource rows
  const rowOf = new Map<string, ResourceStatusRecord>();
  for (const r of rows) {
    const index = r.outputs['Index'];
    if (typeof index === 'number') rowOf.set(`${r.taskName}#${index}`, r);
  }
  for (const [key, child] of items) {
    const row = rowOf.get(key);
    if (!row) continue;
    child.loopItem = (row.outputs['LoopItem'] as Json | undefined) ?? null;
    const outs = row.outputs['Outputs'];
    if (outs !== undefined && isJsonObject(outs)) child.outputs = outs;
  }
  // outputs of top-level tasks, from the final globals
  const global = execution.state?.global ?? {};
  for (const t of template?.tasks ?? []) {
    const te = latest.get(t.name);
    if (!te || te.status !== 'Success') continue;
    const outputs: JsonObject = {};
    for (const o of [...t.outputs, ...t.aggregates]) {
      const v = global[outputKey(t.name, o)];
      if (v !== undefined) outputs[o] = v;
    }
    te.outputs = outputs;
    const counters = global[loopKey(t.name)];
    if (t.loop && counters !== undefined && isJsonObject(counters)) te.loop = counters;
  }
  // loop tasks still running: their counters so far
  for (const te of latest.values()) {
    if (te.status !== 'Running' || !tasks.some((c) => c.parentId === te.id)) continue;
    const kids = tasks.filter((c) => c.parentId === te.id);
    te.loop = { Total: kids.length, Success: kids.filter((k) => k.status === 'Success').length, Failed: kids.filter((k) => k.status === 'Failed').length };
  }
  // holds and approvals of open tasks
  for (const t of open) {
    const te = t.path.length === 0 ? latest.get(t.stateName) : items.get(`${t.stateName}#${String(t.path[0])}`);
    if (!te || (te.status !== 'Running' && te.status !== 'Waiting')) continue;
    const kept = t.output !== undefined && isJsonObject(t.output) ? t.output : {};
    const hold = kept['Hold'] !== undefined && isJsonObject(kept['Hold']) && t.status === 'Waiting' ? kept['Hold'] : undefined;
    const progress = kept['Progress'] !== undefined && isJsonObject(kept['Progress']) ? kept['Progress'] : undefined;
    const view = { hold, progress, action: t.action, parameters: t.parameters, mode: t.mode };
    const reason = holdReason(view);
    if (reason === 'Debug') {
      te.status = 'Waiting';
      te.message = 'waiting for NotifyExecution ExecuteTask (debug mode)';
    } else if (reason === 'Risk') {
      te.status = 'Waiting';
      te.message = `high-risk API ${text(hold?.['Service'])}${hold?.['Service'] ? ' ' : ''}${text(hold?.['API'])}: waiting for NotifyExecution Approve or Reject`;
    } else if (reason === 'Failure') {
      const err = hold?.['Error'];
      const why = err !== undefined && isJsonObject(err) ? `${text(err['Code'])}: ${text(err['Detail'])}` : '';
      te.status = 'Waiting';
      te.message = `failed (${why}); waiting for NotifyExecution RetryTask or SkipTask`;
    } else if (t.mode !== 'RequestComplete') {
      const approvers = approversOf(view);
      te.status = 'Waiting';
      te.message = `waiting for approval (${approvers.length}/${minApprovals(view)}): NotifyExecution Approve or Reject`;
      te.extra['Approvers'] = approvers;
    }
  }
  // the items of a running loop that have not started yet: Pending
  const root = execution.state?.root;
  if (root?.kids && root.items && !isFinishedStatus(execution.status)) {
    const loopName = nodeName(template, root);
    const parent = latest.get(loopName);
    if (parent && (parent.status === 'Running' || parent.status === 'Waiting')) {
      for (let i = root.nextItem ?? 0; i < root.items.length; i++) {
        if (items.has(`${loopName}#${i}`)) continue;
        const child = newTask(loopName, parent.update, 'Pending', [i], parent, i);
        const item = root.items[i];
        child.loopItem = isJsonObject(item) && Object.hasOwn(item, LOOP_ITEM_KEY) ? (item[LOOP_ITEM_KEY] as Json) : (item ?? null);
        child.message = root.stopped ? 'not started: the loop stopped past MaxErrors' : 'waiting for its turn';
        items.set(`${loopName}#${i}`, child);
      }
    }
  }
  // loops waiting before a batch
  if (!isFinishedStatus(execution.status)) {
    for (const loop of pausedLoops(execution.state, (frame) => nodeName(template, frame))) {
      const te = latest.get(loop.taskName);
      if (!te) continue;
      te.status = 'Waiting';
      te.message = `batch ${loop.batch} of ${loop.batches} waits: NotifyExecution Approve to run it, Reject to cancel`;
    }
  }
  // child executions started by ACS::Template tasks (the latest per task)
  for (const c of children) {
    const te = c.parentTaskName !== undefined ? latest.get(c.parentTaskName) : undefined;
    if (te && !tasks.some((t) => t.parentId === te.id)) te.childExecutionId = c.id;
  }
  return { tasks, logs };
}

export function taskExecutionView(te: TaskExecution, executionId: string, templateId: string): TaskExecutionView {
  return {
    TaskExecutionId: te.id,
    ExecutionId: executionId,
    TaskName: te.name,
    TaskAction: te.action,
    Status: te.status,
    StatusMessage: te.message,
    CreateDate: iso(te.start),
    StartDate: te.status === 'Pending' ? '' : iso(te.start),
    EndDate: te.end !== undefined ? iso(te.end) : '',
    UpdateDate: iso(te.update),
    Properties: JSON.stringify(te.properties ?? {}),
    Outputs: JSON.stringify(te.outputs ?? {}),
    ParentTaskExecutionId: te.parentId ?? '',
    LoopItem: te.loopItem === undefined ? '' : typeof te.loopItem === 'string' ? te.loopItem : JSON.stringify(te.loopItem),
    Loop: te.loop ?? {},
    LoopBatchNumber: 0,
    ChildExecutionId: te.childExecutionId ?? '',
    TemplateId: templateId,
    ExtraData: te.extra,
  };
}
