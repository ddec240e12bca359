/**
 * The schema, as numbered migrations applied in order at start (recorded in `schema_migrations`).
 * Each migration has its SQL side by side per dialect; they differ only where the dialects do
 * (auto-increment keys). Never edit a released migration: add the next number.
 *
 * Conventions: times are epoch-ms BIGINTs, JSON values are TEXT, booleans are SMALLINT 0/1.
 */
import type { Dialect, SqlDriver } from './sql.js';

export interface Migration {
  version: number;
  name: string;
  sql: Record<Dialect, string>;
}

/** Tables of everything but the signal queue, identical in both dialects. */
const V1_COMMON = `
CREATE TABLE definitions (
  kind TEXT NOT NULL,
  account TEXT NOT NULL DEFAULT '',
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  content TEXT NOT NULL,
  metadata TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (kind, account, name, version)
);

CREATE TABLE executions (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  account TEXT NOT NULL DEFAULT '',
  def_name TEXT NOT NULL,
  def_version INTEGER NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  active SMALLINT NOT NULL,
  input TEXT NOT NULL,
  output TEXT,
  error TEXT,
  state TEXT,
  started_at BIGINT NOT NULL,
  stopped_at BIGINT,
  updated_at BIGINT NOT NULL,
  parent_id TEXT,
  lease_owner TEXT,
  lease_expires BIGINT,
  mode TEXT,
  tags TEXT NOT NULL,
  client_token TEXT,
  UNIQUE (kind, account, def_name, name)
);
CREATE UNIQUE INDEX executions_client_token ON executions (client_token) WHERE client_token IS NOT NULL;
CREATE INDEX executions_runnable ON executions (active, lease_expires);
CREATE INDEX executions_owner ON executions (lease_owner);
CREATE INDEX executions_list ON executions (kind, account, def_name, started_at, id);
CREATE INDEX executions_finished ON executions (active, stopped_at);
CREATE INDEX executions_parent ON executions (parent_id);

CREATE TABLE tasks (
  execution_id TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
  task_id INTEGER NOT NULL,
  state_name TEXT NOT NULL,
  action TEXT NOT NULL,
  mode TEXT NOT NULL,
  path TEXT NOT NULL,
  parameters TEXT NOT NULL,
  timeout_ms BIGINT,
  retry_count INTEGER NOT NULL,
  status TEXT NOT NULL,
  started_at BIGINT NOT NULL,
  ended_at BIGINT,
  output TEXT,
  error TEXT,
  token TEXT,
  schedule_event_id INTEGER,
  PRIMARY KEY (execution_id, task_id)
);
CREATE UNIQUE INDEX tasks_token ON tasks (token) WHERE token IS NOT NULL;

CREATE TABLE events (
  execution_id TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
  event_id INTEGER NOT NULL,
  type TEXT NOT NULL,
  time BIGINT NOT NULL,
  step TEXT,
  path TEXT,
  detail TEXT,
  schedule_event_id INTEGER,
  PRIMARY KEY (execution_id, event_id)
);

CREATE TABLE timers (
  execution_id TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
  timer_id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  due_at BIGINT NOT NULL,
  path TEXT NOT NULL,
  PRIMARY KEY (execution_id, timer_id)
);
CREATE INDEX timers_due ON timers (due_at);

CREATE TABLE resource_statuses (
  execution_id TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
  task_name TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  status TEXT NOT NULL,
  outputs TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (execution_id, task_name, resource_id)
);
`;

const signals = (idColumn: string): string => `
CREATE TABLE signals (
  ${idColumn},
  execution_id TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
  type TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX signals_execution ON signals (execution_id, id);
`;

/**
 * Indexes that fit the queries and cost a step little. Listing by status (OOS checks its quota on
 * every StartExecution) and by parent (every OOS execution view) scanned every execution of a kind
 * and account; now each has its index, in the newest-first order. Every index an execution's
 * creation or end writes is a page more in each durable commit: the lease owner index goes (a
 * lease is found by id; the signal and timer queries start from their own small tables), and the
 * claim and purge indexes keep only the rows they look for (partial). A claim scans the active
 * executions oldest first; a lease renewal no longer rewrites an index entry.
 */
const V2_INDEXES = `
DROP INDEX executions_parent;
DROP INDEX executions_owner;
DROP INDEX executions_runnable;
DROP INDEX executions_finished;
CREATE INDEX executions_status ON executions (kind, account, status, started_at, id);
CREATE INDEX executions_parent ON executions (kind, account, parent_id, started_at, id) WHERE parent_id IS NOT NULL;
CREATE INDEX executions_active ON executions (started_at, id) WHERE active = 1;
CREATE INDEX executions_finished ON executions (stopped_at) WHERE active = 0;
`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: {
      sqlite: V1_COMMON + signals('id INTEGER PRIMARY KEY AUTOINCREMENT'),
      postgres: V1_COMMON + signals('id BIGSERIAL PRIMARY KEY'),
    },
  },
  {
    version: 2,
    name: 'indexes for listing by status and parent; fewer index writes per step',
    sql: {
      sqlite: V2_INDEXES,
      postgres: V2_INDEXES,
    },
  },
];

/** Splits a migration script into statements (no `;` inside literals in our SQL). */
export function statements(script: string): string[] {
  return script
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * Applies every migration not yet recorded, each in its own transaction. `lock` runs first inside
 * each transaction (PostgreSQL: an advisory lock, so that instances starting together take turns).
 */
export async function migrate(driver: SqlDriver, now: number, lock?: string): Promise<number[]> {
  await driver.transaction(async (conn) => {
    if (lock) await conn.all(lock);
    await conn.run('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
  });
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    const done = await driver.transaction(async (conn) => {
      if (lock) await conn.all(lock);
      const rows = await conn.all('SELECT version FROM schema_migrations WHERE version = ?', [m.version]);
      if (rows.length > 0) return false;
      for (const sql of statements(m.sql[driver.dialect])) await conn.run(sql);
      await conn.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [m.version, m.name, now]);
      return true;
    });
    if (done) applied.push(m.version);
  }
  return applied;
}
