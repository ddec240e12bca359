/**
 * The PostgreSQL store (`pg` Pool), for several flowrun instances on one database. Transactions
 * run at READ COMMITTED; claiming uses `FOR UPDATE SKIP LOCKED` so that instances never claim the
 * same execution; migrations take an advisory lock so that instances starting together take turns.
 */
import pg from 'pg';
import type { PoolClient } from 'pg';
import { migrate } from './migrations.js';
import type { Row, SqlConn, SqlDriver, SqlValue } from './sql.js';
import { SqlExecutionStore } from './sql-store.js';

/** Connections per instance. */
export const POSTGRES_POOL_SIZE = 10;
/** Advisory lock key taken while migrating (any constant shared by every instance). */
const MIGRATION_LOCK = 'SELECT pg_advisory_xact_lock(7150443269876)';

/** `?` placeholders → `$1, $2…` (our SQL has no `?` inside literals). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

const connOf = (client: pg.Pool | PoolClient): SqlConn => ({
  all: async (sql, params = []) => (await client.query(numbered(sql), params as SqlValue[])).rows as Row[],
  run: async (sql, params = []) => (await client.query(numbered(sql), params as SqlValue[])).rowCount ?? 0,
});

class PostgresDriver implements SqlDriver {
  readonly dialect = 'postgres' as const;
  private readonly conn: SqlConn;
  private closing: Promise<void> | undefined;

  constructor(private readonly pool: pg.Pool) {
    this.conn = connOf(pool);
  }

  all(sql: string, params?: readonly SqlValue[]): Promise<Row[]> {
    return this.conn.all(sql, params);
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.conn.run(sql, params);
  }

  async transaction<T>(fn: (conn: SqlConn) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      try {
        const result = await fn(connOf(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        }
        throw err;
      }
    } finally {
      client.release(broken);
    }
  }

  close(): Promise<void> {
    this.closing ??= this.pool.end();
    return this.closing;
  }
}

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` */
  connectionString: string;
  /** Schema to use (created if missing); default: the server's search_path (usually public). */
  schema?: string;
  poolSize?: number;
  now?: number;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Opens (migrating as needed) a PostgreSQL store. */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<SqlExecutionStore> {
  if (options.schema !== undefined && !SCHEMA_NAME.test(options.schema)) throw new Error(`invalid schema name '${options.schema}'`);
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? POSTGRES_POOL_SIZE,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  // An idle client's connection error must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  const driver = new PostgresDriver(pool);
  try {
    const schema = options.schema;
    if (schema) {
      // CREATE SCHEMA IF NOT EXISTS races with itself: instances starting together take turns.
      await driver.transaction(async (c) => {
        await c.all(MIGRATION_LOCK);
        await c.run(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      });
    }
    await migrate(driver, options.now ?? 0, MIGRATION_LOCK);
  } catch (err) {
    await driver.close();
    throw err;
  }
  return new SqlExecutionStore(driver);
}
