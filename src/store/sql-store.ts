/**
 * {@link ExecutionStore} over any {@link SqlDriver}: the SQL is written once; the adapters
 * (`sqlite.ts`, `postgres.ts`) supply the driver and the dialect's few differences.
 */
import { isFinishedStatus, LeaseLostError, OPEN_TASK_STATUSES } from '../executions/store.js';
import type {
  CreateExecutionResult,
  DefinitionKind,
  DefinitionListOptions,
  DefinitionRecord,
  ExecutionCursor,
  ExecutionFilter,
  ExecutionKind,
  ExecutionRecord,
  ExecutionStore,
  HistoryRecord,
  NewDefinition,
  NewExecution,
  NewHistoryRecord,
  NewResourceStatus,
  NewTimerRecord,
  Page,
  ResourceStatusRecord,
  SignalRecord,
  StepCommit,
  TaskRecord,
  TaskStatus,
  TimerKind,
  TimerRecord,
} from '../executions/store.js';
import type { TaskMode } from '../flow/graph.js';
import type { ExecutionState } from '../interpreter/types.js';
import type { ErrorInfo } from '../shared/errors.js';
import type { Json, JsonObject } from '../shared/json.js';
import { insertMany, placeholders } from './sql.js';
import type { Row, SqlConn, SqlDriver, SqlValue } from './sql.js';

// ---------------------------------------------------------------------------------------------
// value mapping
// ---------------------------------------------------------------------------------------------

const json = (value: unknown): string => JSON.stringify(value);
const jsonOrNull = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));
const parse = <T>(text: unknown): T => JSON.parse(String(text)) as T;
/** PostgreSQL returns BIGINT as text. */
const num = (value: unknown): number => (typeof value === 'number' ? value : Number(value));
const optNum = (value: unknown): number | undefined => (value === null || value === undefined ? undefined : num(value));
const optStr = (value: unknown): string | undefined => (value === null || value === undefined ? undefined : String(value));
const optJson = <T>(value: unknown): T | undefined => (value === null || value === undefined ? undefined : parse<T>(value));

function toDefinition(r: Row): DefinitionRecord {
  return {
    kind: String(r['kind']) as DefinitionKind,
    account: String(r['account']),
    name: String(r['name']),
    version: num(r['version']),
    content: String(r['content']),
    metadata: parse<JsonObject>(r['metadata']),
    createdAt: num(r['created_at']),
  };
}

function toExecution(r: Row): ExecutionRecord {
  const e: ExecutionRecord = {
    id: String(r['id']),
    kind: String(r['kind']) as ExecutionKind,
    account: String(r['account']),
    definitionName: String(r['def_name']),
    definitionVersion: num(r['def_version']),
    name: String(r['name']),
    status: String(r['status']),
    input: parse<Json>(r['input']),
    startedAt: num(r['started_at']),
    updatedAt: num(r['updated_at']),
    tags: parse<JsonObject>(r['tags']),
  };
  const output = optJson<Json>(r['output']);
  if (output !== undefined) e.output = output;
  const error = optJson<ErrorInfo>(r['error']);
  if (error !== undefined) e.error = error;
  const state = optJson<ExecutionState>(r['state']);
  if (state !== undefined) e.state = state;
  const stoppedAt = optNum(r['stopped_at']);
  if (stoppedAt !== undefined) e.stoppedAt = stoppedAt;
  const parentId = optStr(r['parent_id']);
  if (parentId !== undefined) e.parentId = parentId;
  const leaseOwner = optStr(r['lease_owner']);
  if (leaseOwner !== undefined) e.leaseOwner = leaseOwner;
  const leaseExpiresAt = optNum(r['lease_expires']);
  if (leaseExpiresAt !== undefined) e.leaseExpiresAt = leaseExpiresAt;
  const mode = optStr(r['mode']);
  if (mode !== undefined) e.mode = mode;
  const clientToken = optStr(r['client_token']);
  if (clientToken !== undefined) e.clientToken = clientToken;
  return e;
}

function toTask(r: Row): TaskRecord {
  const t: TaskRecord = {
    executionId: String(r['execution_id']),
    taskId: num(r['task_id']),
    stateName: String(r['state_name']),
    action: String(r['action']),
    mode: String(r['mode']) as TaskMode,
    path: parse<number[]>(r['path']),
    parameters: parse<Json>(r['parameters']),
    retryCount: num(r['retry_count']),
    status: String(r['status']) as TaskStatus,
    startedAt: num(r['started_at']),
  };
  const timeoutMs = optNum(r['timeout_ms']);
  if (timeoutMs !== undefined) t.timeoutMs = timeoutMs;
  const endedAt = optNum(r['ended_at']);
  if (endedAt !== undefined) t.endedAt = endedAt;
  const output = optJson<Json>(r['output']);
  if (output !== undefined) t.output = output;
  const error = optJson<ErrorInfo>(r['error']);
  if (error !== undefined) t.error = error;
  const token = optStr(r['token']);
  if (token !== undefined) t.token = token;
  const scheduleEventId = optNum(r['schedule_event_id']);
  if (scheduleEventId !== undefined) t.scheduleEventId = scheduleEventId;
  return t;
}

function toEvent(r: Row): HistoryRecord {
  const e: HistoryRecord = { executionId: String(r['execution_id']), eventId: num(r['event_id']), type: String(r['type']), time: num(r['time']) };
  const step = optStr(r['step']);
  if (step !== undefined) e.step = step;
  const path = optJson<number[]>(r['path']);
  if (path !== undefined) e.path = path;
  const detail = optJson<JsonObject>(r['detail']);
  if (detail !== undefined) e.detail = detail;
  const scheduleEventId = optNum(r['schedule_event_id']);
  if (scheduleEventId !== undefined) e.scheduleEventId = scheduleEventId;
  return e;
}

function toTimer(r: Row): TimerRecord {
  return {
    executionId: String(r['execution_id']),
    timerId: num(r['timer_id']),
    kind: String(r['kind']) as TimerKind,
    dueAt: num(r['due_at']),
    path: parse<number[]>(r['path']),
  };
}

function toResource(r: Row): ResourceStatusRecord {
  return {
    executionId: String(r['execution_id']),
    taskName: String(r['task_name']),
    resourceId: String(r['resource_id']),
    status: String(r['status']),
    outputs: parse<JsonObject>(r['outputs']),
    updatedAt: num(r['updated_at']),
  };
}

function toSignal(r: Row): SignalRecord {
  return {
    id: num(r['id']),
    executionId: String(r['execution_id']),
    type: String(r['type']),
    payload: parse<JsonObject>(r['payload']),
    createdAt: num(r['created_at']),
  };
}

const EXECUTION_COLUMNS = [
  'id',
  'kind',
  'account',
  'def_name',
  'def_version',
  'name',
  'status',
  'active',
  'input',
  'output',
  'error',
  'state',
  'started_at',
  'stopped_at',
  'updated_at',
  'parent_id',
  'lease_owner',
  'lease_expires',
  'mode',
  'tags',
  'client_token',
] as const;

const INSERT_EXECUTION = `INSERT INTO executions (${EXECUTION_COLUMNS.join(', ')}) VALUES (${placeholders(EXECUTION_COLUMNS.length)}) ON CONFLICT DO NOTHING`;

const TASK_COLUMNS = [
  'execution_id',
  'task_id',
  'state_name',
  'action',
  'mode',
  'path',
  'parameters',
  'timeout_ms',
  'retry_count',
  'status',
  'started_at',
  'ended_at',
  'output',
  'error',
  'token',
  'schedule_event_id',
] as const;

function taskRow(executionId: string, t: Omit<TaskRecord, 'executionId'>): SqlValue[] {
  return [
    executionId,
    t.taskId,
    t.stateName,
    t.action,
    t.mode,
    json(t.path),
    json(t.parameters),
    t.timeoutMs ?? null,
    t.retryCount,
    t.status,
    t.startedAt,
    t.endedAt ?? null,
    jsonOrNull(t.output),
    jsonOrNull(t.error),
    t.token ?? null,
    t.scheduleEventId ?? null,
  ];
}

const EVENT_COLUMNS = ['execution_id', 'event_id', 'type', 'time', 'step', 'path', 'detail', 'schedule_event_id'] as const;

const eventRow = (executionId: string, e: NewHistoryRecord): SqlValue[] => [
  executionId,
  e.eventId,
  e.type,
  e.time,
  e.step ?? null,
  e.path && e.path.length > 0 ? json(e.path) : null,
  jsonOrNull(e.detail),
  e.scheduleEventId ?? null,
];

const TIMER_COLUMNS = ['execution_id', 'timer_id', 'kind', 'due_at', 'path'] as const;
const timerRow = (executionId: string, t: NewTimerRecord): SqlValue[] => [executionId, t.timerId, t.kind, t.dueAt, json(t.path)];

const RESOURCE_COLUMNS = ['execution_id', 'task_name', 'resource_id', 'status', 'outputs', 'updated_at'] as const;
const resourceRow = (executionId: string, r: NewResourceStatus): SqlValue[] => [executionId, r.taskName, r.resourceId, r.status, json(r.outputs), r.updatedAt];
const RESOURCE_UPSERT =
  'ON CONFLICT (execution_id, task_name, resource_id) DO UPDATE SET status = excluded.status, outputs = excluded.outputs, updated_at = excluded.updated_at';

/** What a step's UPDATE of its execution row sets (bits of its shape, see {@link stepUpdate}). */
const STEP_STATUS = 1;
const STEP_STATE = 2;
const STEP_OUTPUT = 4;
const STEP_ERROR = 8;
const STEP_STOPPED_AT = 16;
const STEP_FINISHED = 32;
/** The UPDATE text of each shape, built once (parameters: now, then the set columns in order, id, owner). */
const STEP_UPDATES: (string | undefined)[] = [];

function stepUpdate(shape: number): string {
  const set = ['updated_at = ?'];
  if (shape & STEP_STATUS) set.push('status = ?');
  if (shape & STEP_STATE) set.push('state = ?');
  if (shape & STEP_OUTPUT) set.push('output = ?');
  if (shape & STEP_ERROR) set.push('error = ?');
  if (shape & STEP_STOPPED_AT) set.push('stopped_at = ?');
  // a row leased by its owner is active: finishing it is the one change of `active` and the lease
  if (shape & STEP_FINISHED) set.push(`active = ${FINISHED}, lease_owner = NULL, lease_expires = NULL`);
  return `UPDATE executions SET ${set.join(', ')} WHERE id = ? AND lease_owner = ?`;
}

/**
 * A bound row limit. SQLite (3.53) re-prepares a statement whose `LIMIT ?` is bound (the planner
 * may use the value): ~12 µs of parsing and planning on every call. Behind a CAST the parameter is
 * an ordinary value and the prepared statement is reused (PostgreSQL takes the same text).
 */
const LIMIT = 'LIMIT CAST(? AS INTEGER)';

const ACTIVE = 1;
const FINISHED = 0;
/** Created `queued`: not claimable, no lease and no state until {@link SqlExecutionStore.startQueued}. */
const QUEUED = 2;

// ---------------------------------------------------------------------------------------------
// the store
// ---------------------------------------------------------------------------------------------

export class SqlExecutionStore implements ExecutionStore {
  readonly dialect;
  /** Appended to the claim's inner SELECT (PostgreSQL: `FOR UPDATE SKIP LOCKED`). */
  private readonly lockRows: string;
  /** commitStep writes the status by a statement of its own, only when it changes (SQLite). */
  private readonly statusApart: boolean;

  constructor(private readonly db: SqlDriver) {
    this.dialect = db.dialect;
    this.lockRows = db.dialect === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
    this.statusApart = db.dialect === 'sqlite';
  }

  // definitions -------------------------------------------------------------------------------

  async createDefinition(d: NewDefinition): Promise<DefinitionRecord | undefined> {
    const record: DefinitionRecord = { kind: d.kind, account: d.account ?? '', name: d.name, version: 1, content: d.content, metadata: d.metadata ?? {}, createdAt: d.now };
    return this.db.transaction(async (c) => {
      const existing = await c.all('SELECT 1 FROM definitions WHERE kind = ? AND account = ? AND name = ? LIMIT 1', [d.kind, record.account, d.name]);
      if (existing.length > 0) return undefined;
      const changed = await c.run(
        'INSERT INTO definitions (kind, account, name, version, content, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
        [d.kind, record.account, d.name, 1, d.content, json(record.metadata), d.now],
      );
      return changed === 1 ? record : undefined;
    });
  }

  async updateDefinition(d: NewDefinition): Promise<DefinitionRecord | undefined> {
    const account = d.account ?? '';
    return this.db.transaction(async (c) => {
      const rows = await c.all('SELECT MAX(version) AS v FROM definitions WHERE kind = ? AND account = ? AND name = ?', [d.kind, account, d.name]);
      const latest = optNum(rows[0]?.['v']);
      if (latest === undefined) return undefined;
      const record: DefinitionRecord = { kind: d.kind, account, name: d.name, version: latest + 1, content: d.content, metadata: d.metadata ?? {}, createdAt: d.now };
      // A concurrent update taking the same number makes the primary key fail: the caller retries.
      await c.run('INSERT INTO definitions (kind, account, name, version, content, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [
        d.kind,
        account,
        d.name,
        record.version,
        d.content,
        json(record.metadata),
        d.now,
      ]);
      return record;
    });
  }

  async getDefinition(kind: DefinitionKind, name: string, version?: number, account = ''): Promise<DefinitionRecord | undefined> {
    const rows =
      version === undefined
        ? await this.db.all('SELECT * FROM definitions WHERE kind = ? AND account = ? AND name = ? ORDER BY version DESC LIMIT 1', [kind, account, name])
        : await this.db.all('SELECT * FROM definitions WHERE kind = ? AND account = ? AND name = ? AND version = ?', [kind, account, name, version]);
    return rows[0] ? toDefinition(rows[0]) : undefined;
  }

  async listDefinitions(kind: DefinitionKind, options: DefinitionListOptions): Promise<DefinitionRecord[]> {
    const where = ['d.kind = ?', 'd.account = ?'];
    const params: SqlValue[] = [kind, options.account ?? ''];
    if (options.after !== undefined) {
      where.push('d.name > ?');
      params.push(options.after);
    }
    if (options.namePrefix) {
      where.push('substr(d.name, 1, ?) = ?');
      params.push(options.namePrefix.length, options.namePrefix);
    }
    params.push(options.limit);
    const rows = await this.db.all(
      `SELECT d.* FROM definitions d
       WHERE ${where.join(' AND ')}
         AND d.version = (SELECT MAX(v.version) FROM definitions v WHERE v.kind = d.kind AND v.account = d.account AND v.name = d.name)
       ORDER BY d.name ${LIMIT}`,
      params,
    );
    return rows.map(toDefinition).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async definitionAccounts(kind: DefinitionKind, name: string): Promise<string[]> {
    const rows = await this.db.all('SELECT DISTINCT account FROM definitions WHERE kind = ? AND name = ?', [kind, name]);
    return rows.map((r) => String(r['account']));
  }

  async listDefinitionVersions(kind: DefinitionKind, name: string, account = ''): Promise<DefinitionRecord[]> {
    const rows = await this.db.all('SELECT * FROM definitions WHERE kind = ? AND account = ? AND name = ? ORDER BY version', [kind, account, name]);
    return rows.map(toDefinition);
  }

  async deleteDefinition(kind: DefinitionKind, name: string, account = ''): Promise<boolean> {
    return (await this.db.run('DELETE FROM definitions WHERE kind = ? AND account = ? AND name = ?', [kind, account, name])) > 0;
  }

  // executions --------------------------------------------------------------------------------

  async createExecution(x: NewExecution): Promise<CreateExecutionResult> {
    const account = x.account ?? '';
    const active = isFinishedStatus(x.status) ? FINISHED : x.queued === true ? QUEUED : ACTIVE;
    const leaseOwner = active === ACTIVE ? (x.leaseOwner ?? null) : null;
    const leaseExpires = leaseOwner === null ? null : (x.leaseExpiresAt ?? null);
    // the row as written, read back by toExecution (no SELECT of what was just inserted)
    const row: Row = {
      id: x.id,
      kind: x.kind,
      account,
      def_name: x.definitionName,
      def_version: x.definitionVersion,
      name: x.name,
      status: x.status,
      active,
      input: json(x.input),
      output: jsonOrNull(x.output),
      error: jsonOrNull(x.error),
      state: jsonOrNull(x.state),
      started_at: x.startedAt,
      stopped_at: x.stoppedAt ?? null,
      updated_at: x.startedAt,
      parent_id: x.parentId ?? null,
      lease_owner: leaseOwner,
      lease_expires: leaseExpires,
      mode: x.mode ?? null,
      tags: json(x.tags ?? {}),
      client_token: x.clientToken ?? null,
    };
    return this.db.transaction(async (c): Promise<CreateExecutionResult> => {
      const inserted = await c.run(INSERT_EXECUTION, EXECUTION_COLUMNS.map((k) => row[k] as SqlValue));
      if (inserted === 0) {
        if (x.clientToken !== undefined) {
          const byToken = await c.all('SELECT * FROM executions WHERE client_token = ?', [x.clientToken]);
          if (byToken[0]) return { created: false, execution: toExecution(byToken[0]), conflict: 'clientToken' };
        }
        const byName = await c.all('SELECT * FROM executions WHERE kind = ? AND account = ? AND def_name = ? AND name = ?', [
          x.kind,
          account,
          x.definitionName,
          x.name,
        ]);
        if (byName[0]) return { created: false, execution: toExecution(byName[0]), conflict: 'name' };
        throw new Error(`execution ${x.id} could not be created (its id is taken)`);
      }
      await insertMany(c, 'events', EVENT_COLUMNS, (x.events ?? []).map((e) => eventRow(x.id, e)));
      await insertMany(c, 'tasks', TASK_COLUMNS, (x.newTasks ?? []).map((t) => taskRow(x.id, t)));
      if (active === ACTIVE) await insertMany(c, 'timers', TIMER_COLUMNS, (x.addTimers ?? []).map((t) => timerRow(x.id, t)));
      return { created: true, execution: toExecution(row) };
    });
  }

  async getExecution(id: string): Promise<ExecutionRecord | undefined> {
    const rows = await this.db.all('SELECT * FROM executions WHERE id = ?', [id]);
    return rows[0] ? toExecution(rows[0]) : undefined;
  }

  async findExecution(kind: ExecutionKind, definitionName: string, name: string, account = ''): Promise<ExecutionRecord | undefined> {
    const rows = await this.db.all('SELECT * FROM executions WHERE kind = ? AND account = ? AND def_name = ? AND name = ?', [kind, account, definitionName, name]);
    return rows[0] ? toExecution(rows[0]) : undefined;
  }

  async findExecutionByClientToken(clientToken: string): Promise<ExecutionRecord | undefined> {
    const rows = await this.db.all('SELECT * FROM executions WHERE client_token = ?', [clientToken]);
    return rows[0] ? toExecution(rows[0]) : undefined;
  }

  async listExecutions(filter: ExecutionFilter, page: { limit: number; after?: ExecutionCursor }): Promise<Page<ExecutionRecord, ExecutionCursor>> {
    const where = ['kind = ?', 'account = ?'];
    const params: SqlValue[] = [filter.kind, filter.account ?? ''];
    if (filter.definitionName !== undefined) {
      where.push('def_name = ?');
      params.push(filter.definitionName);
    }
    if (filter.status !== undefined) {
      where.push('status = ?');
      params.push(filter.status);
    }
    if (filter.namePrefix) {
      where.push('substr(name, 1, ?) = ?');
      params.push(filter.namePrefix.length, filter.namePrefix);
    }
    if (filter.startedFrom !== undefined) {
      where.push('started_at >= ?');
      params.push(filter.startedFrom);
    }
    if (filter.startedTo !== undefined) {
      where.push('started_at <= ?');
      params.push(filter.startedTo);
    }
    if (filter.parentId !== undefined) {
      where.push('parent_id = ?');
      params.push(filter.parentId);
    }
    if (page.after) {
      where.push('(started_at < ? OR (started_at = ? AND id < ?))');
      params.push(page.after.startedAt, page.after.startedAt, page.after.id);
    }
    params.push(page.limit + 1);
    const rows = await this.db.all(`SELECT * FROM executions WHERE ${where.join(' AND ')} ORDER BY started_at DESC, id DESC ${LIMIT}`, params);
    const items = rows.slice(0, page.limit).map(toExecution);
    const last = items[items.length - 1];
    return rows.length > page.limit && last ? { items, next: { startedAt: last.startedAt, id: last.id } } : { items };
  }

  async commitStep(executionId: string, s: StepCommit): Promise<void> {
    // On SQLite the status goes by a second UPDATE that matches nothing when it is unchanged;
    // PostgreSQL compares the values itself (an unchanged indexed column keeps the update HOT) and
    // would pay a round trip for the second statement.
    const step = this.stepStatement(executionId, s, !this.statusApart);
    await this.db.transaction((c) => this.writeStep(c, executionId, s, step, !this.statusApart));
  }

  async startQueued(executionId: string, s: StepCommit, leaseExpiresAt: number): Promise<boolean> {
    // the first step sets the status (Queued no more) together with the state
    const step = this.stepStatement(executionId, s, true);
    return this.db.transaction(async (c) => {
      const taken = await c.run(`UPDATE executions SET active = ${ACTIVE}, lease_owner = ?, lease_expires = ? WHERE id = ? AND active = ${QUEUED}`, [
        s.leaseOwner,
        leaseExpiresAt,
        executionId,
      ]);
      if (taken !== 1) return false;
      await this.writeStep(c, executionId, s, step, true);
      return true;
    });
  }

  /**
   * The executions UPDATE of a step (fenced by the lease) and its parameters. Only the columns
   * that change are SET: SQLite rewrites the index entries of every column it assigns, changed or
   * not, and an unchanged status or lease dirtied four index pages per step.
   */
  private stepStatement(executionId: string, s: StepCommit, withStatus: boolean): { sql: string; params: SqlValue[]; finished: boolean } {
    const finished = isFinishedStatus(s.status);
    const params: SqlValue[] = [s.now];
    let shape = 0;
    if (withStatus) {
      shape |= STEP_STATUS;
      params.push(s.status);
    }
    if (s.state !== undefined) {
      shape |= STEP_STATE;
      params.push(json(s.state));
    }
    if (s.output !== undefined) {
      shape |= STEP_OUTPUT;
      params.push(json(s.output));
    }
    if (s.error !== undefined) {
      shape |= STEP_ERROR;
      params.push(json(s.error));
    }
    if (s.stoppedAt !== undefined) {
      shape |= STEP_STOPPED_AT;
      params.push(s.stoppedAt);
    }
    if (finished) shape |= STEP_FINISHED;
    params.push(executionId, s.leaseOwner);
    return { sql: (STEP_UPDATES[shape] ??= stepUpdate(shape)), params, finished };
  }

  async finishQueued(executionId: string, end: { status: string; error?: ErrorInfo; now: number }): Promise<boolean> {
    const changed = await this.db.run(
      `UPDATE executions SET active = ${FINISHED}, status = ?, error = ?, stopped_at = ?, updated_at = ? WHERE id = ? AND active = ${QUEUED}`,
      [end.status, jsonOrNull(end.error), end.now, end.now, executionId],
    );
    return changed === 1;
  }

  /** A step's writes inside a transaction (`statusSet`: the executions UPDATE already wrote the status). */
  private async writeStep(c: SqlConn, executionId: string, s: StepCommit, step: { sql: string; params: SqlValue[]; finished: boolean }, statusSet: boolean): Promise<void> {
    const finished = step.finished;
    const changed = await c.run(step.sql, step.params);
    if (changed !== 1) throw new LeaseLostError(executionId, s.leaseOwner);
    if (!statusSet) await c.run('UPDATE executions SET status = ? WHERE id = ? AND status <> ?', [s.status, executionId, s.status]);
    await insertMany(c, 'events', EVENT_COLUMNS, (s.events ?? []).map((e) => eventRow(executionId, e)));
    await insertMany(c, 'tasks', TASK_COLUMNS, (s.newTasks ?? []).map((t) => taskRow(executionId, t)));
    for (const u of s.taskUpdates ?? []) {
      await c.run('UPDATE tasks SET status = ?, ended_at = COALESCE(?, ended_at), output = COALESCE(?, output), error = COALESCE(?, error) WHERE execution_id = ? AND task_id = ?', [
        u.status,
        u.endedAt ?? null,
        jsonOrNull(u.output),
        jsonOrNull(u.error),
        executionId,
        u.taskId,
      ]);
    }
    if (finished) {
      await c.run('DELETE FROM timers WHERE execution_id = ?', [executionId]);
      await c.run('DELETE FROM signals WHERE execution_id = ?', [executionId]);
    } else {
      const remove = s.removeTimers ?? [];
      if (remove.length > 0) {
        await c.run(`DELETE FROM timers WHERE execution_id = ? AND timer_id IN (${placeholders(remove.length)})`, [executionId, ...remove]);
      }
      await insertMany(
        c,
        'timers',
        TIMER_COLUMNS,
        (s.addTimers ?? []).map((t) => timerRow(executionId, t)),
        'ON CONFLICT (execution_id, timer_id) DO UPDATE SET kind = excluded.kind, due_at = excluded.due_at, path = excluded.path',
      );
      const ack = s.ackSignals ?? [];
      if (ack.length > 0) await c.run(`DELETE FROM signals WHERE execution_id = ? AND id IN (${placeholders(ack.length)})`, [executionId, ...ack]);
    }
    await insertMany(c, 'resource_statuses', RESOURCE_COLUMNS, (s.resourceStatuses ?? []).map((r) => resourceRow(executionId, r)), RESOURCE_UPSERT);
  }

  async deleteExecution(id: string): Promise<boolean> {
    return this.db.transaction(async (c) => (await this.deleteRows(c, [id])) > 0);
  }

  async purgeFinished(before: number, limit: number): Promise<number> {
    return this.db.transaction(async (c) => {
      const rows = await c.all(`SELECT id FROM executions WHERE active = 0 AND stopped_at < ? ORDER BY stopped_at ${LIMIT}`, [before, limit]);
      return this.deleteRows(
        c,
        rows.map((r) => String(r['id'])),
      );
    });
  }

  /** Deletes executions and their rows (children first: no reliance on cascades being enabled). */
  private async deleteRows(c: SqlConn, ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    let deleted = 0;
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const marks = placeholders(chunk.length);
      for (const table of ['signals', 'timers', 'events', 'tasks', 'resource_statuses']) {
        await c.run(`DELETE FROM ${table} WHERE execution_id IN (${marks})`, chunk);
      }
      deleted += await c.run(`DELETE FROM executions WHERE id IN (${marks})`, chunk);
    }
    return deleted;
  }

  // leases ------------------------------------------------------------------------------------

  async claimRunnable(
    owner: string,
    now: number,
    leaseMs: number,
    limit: number,
    options: { includeOwn?: boolean; after?: ExecutionCursor } = {},
  ): Promise<ExecutionRecord[]> {
    const params: SqlValue[] = [owner, now + leaseMs, now];
    let own = '';
    if (options.includeOwn) {
      own = ' OR lease_owner = ?';
      params.push(owner);
    }
    let after = '';
    if (options.after) {
      after = ' AND (started_at > ? OR (started_at = ? AND id > ?))';
      params.push(options.after.startedAt, options.after.startedAt, options.after.id);
    }
    params.push(limit);
    return this.db.transaction(async (c) => {
      const rows = await c.all(
        `UPDATE executions SET lease_owner = ?, lease_expires = ?
         WHERE id IN (
           SELECT id FROM executions
           WHERE active = 1 AND (lease_owner IS NULL OR lease_expires IS NULL OR lease_expires <= ?${own})${after}
           ORDER BY started_at, id ${LIMIT}${this.lockRows})
         RETURNING *`,
        params,
      );
      return rows.map(toExecution).sort((a, b) => a.startedAt - b.startedAt || (a.id < b.id ? -1 : 1));
    });
  }

  async renewLeases(owner: string, now: number, leaseMs: number, ids?: readonly string[]): Promise<string[]> {
    if (ids && ids.length === 0) return [];
    const params: SqlValue[] = [now + leaseMs, owner];
    let only = '';
    if (ids) {
      only = ` AND id IN (${placeholders(ids.length)})`;
      params.push(...ids);
    }
    const rows = await this.db.all(`UPDATE executions SET lease_expires = ? WHERE lease_owner = ? AND active = 1${only} RETURNING id`, params);
    return rows.map((r) => String(r['id']));
  }

  async releaseLease(executionId: string, owner: string): Promise<void> {
    await this.db.run('UPDATE executions SET lease_owner = NULL, lease_expires = NULL WHERE id = ? AND lease_owner = ?', [executionId, owner]);
  }

  // tasks, history, timers, resources ----------------------------------------------------------

  async listTasks(executionId: string, options: { openOnly?: boolean } = {}): Promise<TaskRecord[]> {
    const rows = options.openOnly
      ? await this.db.all(`SELECT * FROM tasks WHERE execution_id = ? AND status IN (${placeholders(OPEN_TASK_STATUSES.length)}) ORDER BY task_id`, [
          executionId,
          ...OPEN_TASK_STATUSES,
        ])
      : await this.db.all('SELECT * FROM tasks WHERE execution_id = ? ORDER BY task_id', [executionId]);
    return rows.map(toTask);
  }

  async getTaskByToken(token: string): Promise<TaskRecord | undefined> {
    const rows = await this.db.all('SELECT * FROM tasks WHERE token = ?', [token]);
    return rows[0] ? toTask(rows[0]) : undefined;
  }

  async listEvents(executionId: string, options: { afterEventId?: number; limit: number }): Promise<HistoryRecord[]> {
    const rows = await this.db.all(`SELECT * FROM events WHERE execution_id = ? AND event_id > ? ORDER BY event_id ${LIMIT}`, [
      executionId,
      options.afterEventId ?? 0,
      options.limit,
    ]);
    return rows.map(toEvent);
  }

  async listTimers(executionId: string): Promise<TimerRecord[]> {
    const rows = await this.db.all('SELECT * FROM timers WHERE execution_id = ? ORDER BY due_at, timer_id', [executionId]);
    return rows.map(toTimer);
  }

  async dueTimers(now: number, limit: number, owner?: string): Promise<TimerRecord[]> {
    const rows =
      owner === undefined
        ? await this.db.all(`SELECT * FROM timers WHERE due_at <= ? ORDER BY due_at, execution_id, timer_id ${LIMIT}`, [now, limit])
        : await this.db.all(
            `SELECT t.* FROM timers t JOIN executions e ON e.id = t.execution_id
             WHERE t.due_at <= ? AND e.lease_owner = ? ORDER BY t.due_at, t.execution_id, t.timer_id ${LIMIT}`,
            [now, owner, limit],
          );
    return rows.map(toTimer);
  }

  async putResourceStatuses(executionId: string, statuses: readonly NewResourceStatus[]): Promise<void> {
    await this.db.transaction((c) =>
      insertMany(
        c,
        'resource_statuses',
        RESOURCE_COLUMNS,
        statuses.map((r) => resourceRow(executionId, r)),
        RESOURCE_UPSERT,
      ),
    );
  }

  async listResourceStatuses(
    executionId: string,
    options: { taskName?: string; limit: number; after?: { taskName: string; resourceId: string } },
  ): Promise<ResourceStatusRecord[]> {
    const where = ['execution_id = ?'];
    const params: SqlValue[] = [executionId];
    if (options.taskName !== undefined) {
      where.push('task_name = ?');
      params.push(options.taskName);
    }
    if (options.after) {
      where.push('(task_name > ? OR (task_name = ? AND resource_id > ?))');
      params.push(options.after.taskName, options.after.taskName, options.after.resourceId);
    }
    params.push(options.limit);
    const rows = await this.db.all(`SELECT * FROM resource_statuses WHERE ${where.join(' AND ')} ORDER BY task_name, resource_id ${LIMIT}`, params);
    return rows.map(toResource);
  }

  // signals -----------------------------------------------------------------------------------

  async postSignal(executionId: string, type: string, payload: JsonObject, now: number): Promise<number> {
    const rows = await this.db.all('INSERT INTO signals (execution_id, type, payload, created_at) VALUES (?, ?, ?, ?) RETURNING id', [
      executionId,
      type,
      json(payload),
      now,
    ]);
    return num(rows[0]?.['id']);
  }

  async pendingSignals(target: { executionId: string } | { owner: string }): Promise<SignalRecord[]> {
    const rows =
      'executionId' in target
        ? await this.db.all('SELECT * FROM signals WHERE execution_id = ? ORDER BY id', [target.executionId])
        : await this.db.all('SELECT s.* FROM signals s JOIN executions e ON e.id = s.execution_id WHERE e.lease_owner = ? ORDER BY s.id', [target.owner]);
    return rows.map(toSignal);
  }

  async ackSignals(ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.run(`DELETE FROM signals WHERE id IN (${placeholders(ids.length)})`, ids);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
