/**
 * Store adapters behind {@link ExecutionStore}: embedded SQLite by default (a file under the data
 * directory, no set-up), PostgreSQL when a database URL is given.
 */
import { join } from 'node:path';
import type { ExecutionStore } from '../executions/store.js';
import { openPostgresStore } from './postgres.js';
import { openSqliteStore, SQLITE_FILE_NAME } from './sqlite.js';

export { openSqliteStore, SQLITE_FILE_NAME, SQLITE_BUSY_TIMEOUT_MS } from './sqlite.js';
export type { SqliteStoreOptions } from './sqlite.js';
export { openPostgresStore, POSTGRES_POOL_SIZE } from './postgres.js';
export type { PostgresStoreOptions } from './postgres.js';
export { MIGRATIONS } from './migrations.js';
export { SqlExecutionStore } from './sql-store.js';

/** Default data directory, relative to the working directory. */
export const DEFAULT_DATA_DIR = './data';

export interface StoreConfig {
  /** Folder of the SQLite file (default: FLOWRUN_DATA_DIR, else ./data). */
  dataDir?: string;
  /** PostgreSQL URL (default: FLOWRUN_DATABASE_URL); when set, PostgreSQL is used. */
  databaseUrl?: string;
  /** Environment to read the defaults from (default: process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Time recorded with applied migrations. */
  now?: number;
}

/** Which store a configuration selects (explicit settings win over the environment). */
export function resolveStoreConfig(config: StoreConfig = {}): { kind: 'postgres'; url: string } | { kind: 'sqlite'; file: string } {
  const env = config.env ?? process.env;
  const url = config.databaseUrl ?? (env['FLOWRUN_DATABASE_URL'] || undefined);
  if (url) return { kind: 'postgres', url };
  const dir = config.dataDir ?? (env['FLOWRUN_DATA_DIR'] || DEFAULT_DATA_DIR);
  return { kind: 'sqlite', file: join(dir, SQLITE_FILE_NAME) };
}

/** Opens the configured store and applies pending migrations. */
export function openExecutionStore(config: StoreConfig = {}): Promise<ExecutionStore> {
  const target = resolveStoreConfig(config);
  const now = config.now ?? 0;
  return target.kind === 'postgres' ? openPostgresStore({ connectionString: target.url, now }) : openSqliteStore({ file: target.file, now });
}
