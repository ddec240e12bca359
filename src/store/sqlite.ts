/**
 * The embedded store: one SQLite file (better-sqlite3) in WAL mode with `synchronous = FULL`, so
 * that a committed step survives a process crash and a power loss.
 *
 * better-sqlite3 is synchronous. Every statement and every transaction of the store goes through
 * one mutex per database file (shared by every connection of this process to that file), so an
 * asynchronous transaction never interleaves with another statement and two stores on one file
 * in one process (tests, a runner taking over from another) never wait on each other's locks.
 * Other processes on the same file wait on SQLite's own lock (`busy_timeout`).
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import { migrate } from './migrations.js';
import { Mutex } from './sql.js';
import type { Row, SqlConn, SqlDriver, SqlValue } from './sql.js';
import { SqlExecutionStore } from './sql-store.js';

/** File name of the database inside the data directory. */
export const SQLITE_FILE_NAME = 'flowrun.db';
/** How long a statement waits for another process's lock before failing (ms). */
export const SQLITE_BUSY_TIMEOUT_MS = 5_000;
/** Prepared statements kept per connection (multi-row INSERTs vary in shape). */
const STATEMENT_CACHE_SIZE = 256;

const mutexes = new Map<string, { mutex: Mutex; users: number }>();

/** A prepared statement, with how to make its rows into objects when it returns rows. */
interface Prepared {
  statement: Statement;
  toRow?: (values: unknown[]) => Row;
}

/**
 * Row objects of a statement's columns. better-sqlite3 builds each row object property by
 * property (slow, and objects whose shape V8 cannot predict); its raw rows (arrays) turned into
 * object literals of one fixed shape cost about half as much to read and to use.
 */
function rowMaker(columns: readonly string[]): (values: unknown[]) => Row {
  try {
    // column names come from SQLite's statement metadata, quoted by JSON.stringify
    return new Function('v', `return { ${columns.map((c, i) => `${JSON.stringify(c)}: v[${i}]`).join(', ')} };`) as (values: unknown[]) => Row;
  } catch {
    // code generation disallowed (--disallow-code-generation-from-strings): the same, in a loop
    return (values) => {
      const row: Row = {};
      for (let i = 0; i < columns.length; i++) row[columns[i] as string] = values[i];
      return row;
    };
  }
}

class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite' as const;
  private readonly statements = new Map<string, Prepared>();
  private readonly conn: SqlConn;
  private closed = false;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly key: string,
    private readonly mutex: Mutex,
  ) {
    this.conn = {
      all: async (sql, params = []) => {
        const { statement, toRow } = this.prepare(sql);
        if (!toRow) throw new TypeError('all() is for statements that return rows');
        return (statement.all(...params) as unknown[][]).map(toRow);
      },
      run: async (sql, params = []) => this.prepare(sql).statement.run(...params).changes,
    };
  }

  private prepare(sql: string): Prepared {
    if (this.closed) throw new Error('the SQLite store is closed');
    let prepared = this.statements.get(sql);
    if (!prepared) {
      if (this.statements.size >= STATEMENT_CACHE_SIZE) this.statements.clear();
      const statement = this.db.prepare(sql);
      prepared = { statement };
      if (statement.reader) {
        statement.raw(true);
        prepared.toRow = rowMaker(statement.columns().map((c) => c.name));
      }
      this.statements.set(sql, prepared);
    }
    return prepared;
  }

  all(sql: string, params?: readonly SqlValue[]): Promise<Row[]> {
    return this.mutex.run(() => this.conn.all(sql, params));
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.mutex.run(() => this.conn.run(sql, params));
  }

  transaction<T>(fn: (conn: SqlConn) => Promise<T>): Promise<T> {
    return this.mutex.run(async () => {
      this.prepare('BEGIN IMMEDIATE').statement.run();
      try {
        const result = await fn(this.conn);
        this.prepare('COMMIT').statement.run();
        return result;
      } catch (err) {
        if (this.db.inTransaction) this.prepare('ROLLBACK').statement.run();
        throw err;
      }
    });
  }

  async close(): Promise<void> {
    await this.mutex.run(() => {
      if (this.closed) return;
      this.closed = true;
      this.statements.clear();
      this.db.close();
    });
    const entry = mutexes.get(this.key);
    if (entry && --entry.users <= 0) mutexes.delete(this.key);
  }
}

export interface SqliteStoreOptions {
  /** Path of the database file (created with its folder if missing), or ':memory:'. */
  file: string;
  /** Time recorded with applied migrations. */
  now?: number;
}

/** Opens (creating and migrating as needed) a SQLite store. */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqlExecutionStore> {
  const memory = options.file === ':memory:';
  const key = memory ? `:memory:${Math.random()}` : resolve(options.file);
  if (!memory) mkdirSync(dirname(key), { recursive: true });
  const db = new Database(memory ? ':memory:' : key);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  } catch (err) {
    db.close();
    throw err;
  }
  let entry = mutexes.get(key);
  if (!entry) {
    entry = { mutex: new Mutex(), users: 0 };
    mutexes.set(key, entry);
  }
  entry.users++;
  const driver = new SqliteDriver(db, key, entry.mutex);
  try {
    await migrate(driver, options.now ?? 0);
  } catch (err) {
    await driver.close();
    throw err;
  }
  return new SqlExecutionStore(driver);
}
