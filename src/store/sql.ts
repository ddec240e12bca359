/**
 * The little a SQL store needs from a database driver. SQL is written once with `?` placeholders
 * (the PostgreSQL driver numbers them); the few dialect differences are named in {@link Dialect}.
 */

export type SqlValue = string | number | null;
export type Row = Record<string, unknown>;

export interface SqlConn {
  /** Runs a statement that returns rows (SELECT, or anything with RETURNING). */
  all(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  /** Runs a statement that returns no rows; resolves the number of rows changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

export type Dialect = 'sqlite' | 'postgres';

export interface SqlDriver extends SqlConn {
  readonly dialect: Dialect;
  /**
   * Runs `fn` in one transaction (SQLite: BEGIN IMMEDIATE, PostgreSQL: READ COMMITTED): commits
   * when it resolves, rolls back when it rejects.
   */
  transaction<T>(fn: (conn: SqlConn) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Most parameters one multi-row INSERT binds (below SQLite's and PostgreSQL's limits). */
export const MAX_PARAMS_PER_STATEMENT = 900;

/**
 * INSERT texts by column list (the callers' constant arrays), then table, row count and suffix:
 * built once, and the same string each time is cheap to find among the prepared statements.
 */
const insertTexts = new WeakMap<readonly string[], Map<string, string>>();

function insertText(table: string, columns: readonly string[], rows: number, suffix: string): string {
  let texts = insertTexts.get(columns);
  if (!texts) insertTexts.set(columns, (texts = new Map()));
  const key = `${table} ${rows} ${suffix}`;
  let sql = texts.get(key);
  if (sql === undefined) {
    const tuple = `(${columns.map(() => '?').join(', ')})`;
    sql = `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${new Array<string>(rows).fill(tuple).join(', ')}${suffix ? ` ${suffix}` : ''}`;
    if (texts.size >= 256) texts.clear();
    texts.set(key, sql);
  }
  return sql;
}

/** Inserts `rows` (each one value per column) with as few multi-row INSERTs as the limit allows. */
export async function insertMany(
  conn: SqlConn,
  table: string,
  columns: readonly string[],
  rows: readonly (readonly SqlValue[])[],
  suffix = '',
): Promise<void> {
  if (rows.length === 0) return;
  const perStatement = Math.max(1, Math.floor(MAX_PARAMS_PER_STATEMENT / columns.length));
  for (let i = 0; i < rows.length; i += perStatement) {
    const chunk = rows.length <= perStatement ? rows : rows.slice(i, i + perStatement);
    await conn.run(insertText(table, columns, chunk.length, suffix), chunk.length === 1 ? (chunk[0] as readonly SqlValue[]) : chunk.flat());
  }
}

/** `?, ?, ?` for `n` values (n ≥ 1). */
export const placeholders = (n: number): string => new Array<string>(n).fill('?').join(', ');

/** A promise-chain mutex: runs tasks one at a time, in order. */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T> | T): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
