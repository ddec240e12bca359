import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS, openExecutionStore, openSqliteStore, resolveStoreConfig, SQLITE_FILE_NAME } from '../../src/store/index.js';
import { storeContract } from './contract.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'flowrun-store-'));
}

storeContract('sqlite', async () => {
  const dir = tempDir();
  const file = join(dir, 'test.db');
  const store = await openSqliteStore({ file });
  const others: { close(): Promise<void> }[] = [];
  return {
    store,
    openAnother: async () => {
      const other = await openSqliteStore({ file });
      others.push(other);
      return other;
    },
    dispose: async () => {
      await store.close();
      for (const o of others) await o.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('sqlite adapter', () => {
  it('creates the data directory, uses WAL with synchronous FULL, and migrates once', async () => {
    const dir = tempDir();
    try {
      const file = join(dir, 'nested', 'deeper', SQLITE_FILE_NAME);
      const store = await openSqliteStore({ file, now: 123 });
      await store.createDefinition({ kind: 'flow', name: 'kept', content: 'x', now: 1 });
      await store.close();
      const again = await openSqliteStore({ file, now: 456 });
      expect((await again.getDefinition('flow', 'kept'))?.content).toBe('x');
      await again.close();
      const raw = new Database(file, { readonly: true });
      try {
        expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
        expect(raw.prepare('SELECT version, applied_at FROM schema_migrations ORDER BY version').all()).toEqual(
          MIGRATIONS.map((m) => ({ version: m.version, applied_at: 123 })),
        );
      } finally {
        raw.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sets synchronous = FULL on its connection', async () => {
    const dir = tempDir();
    try {
      const store = await openSqliteStore({ file: join(dir, 'x.db') });
      // read through the store's own connection
      const driver = (store as unknown as { db: { all(sql: string): Promise<Record<string, unknown>[]> } }).db;
      expect(await driver.all('PRAGMA synchronous')).toEqual([{ synchronous: 2 }]);
      expect(await driver.all('PRAGMA foreign_keys')).toEqual([{ foreign_keys: 1 }]);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('upgrades a database of the first schema: its executions are listed and claimed by the new indexes', async () => {
    const dir = tempDir();
    try {
      const file = join(dir, 'old.db');
      const first = MIGRATIONS[0];
      if (!first) throw new Error('no migrations');
      const raw = new Database(file);
      raw.exec(first.sql.sqlite);
      raw.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
      raw.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (1, ?, 0)').run(first.name);
      const insert = raw.prepare(
        `INSERT INTO executions (id, kind, account, def_name, def_version, name, status, active, input, started_at, updated_at, parent_id, tags)
         VALUES (?, 'template', '', 't', 1, ?, ?, 1, '{}', ?, ?, ?, '{}')`,
      );
      insert.run('e1', 'one', 'Running', 1, 1, 'p');
      insert.run('e2', 'two', 'Waiting', 2, 2, 'p');
      insert.run('e3', 'three', 'Running', 3, 3, null);
      raw.close();
      const store = await openSqliteStore({ file });
      expect((await store.listExecutions({ kind: 'template', parentId: 'p' }, { limit: 10 })).items.map((e) => e.id)).toEqual(['e2', 'e1']);
      expect((await store.listExecutions({ kind: 'template', status: 'Running' }, { limit: 10 })).items.map((e) => e.id)).toEqual(['e3', 'e1']);
      const driver = (store as unknown as { db: { all(sql: string): Promise<Record<string, unknown>[]> } }).db;
      const plan = async (sql: string): Promise<string> => (await driver.all(`EXPLAIN QUERY PLAN ${sql}`)).map((r) => String(r['detail'])).join('; ');
      expect(await plan("SELECT * FROM executions WHERE kind = 'template' AND account = '' AND status = 'Running' ORDER BY started_at DESC, id DESC LIMIT 10")).toMatch(/USING INDEX executions_status/);
      expect(await plan("SELECT * FROM executions WHERE kind = 'template' AND account = '' AND parent_id = 'p' ORDER BY started_at DESC, id DESC LIMIT 10")).toMatch(/USING INDEX executions_parent/);
      expect(await plan('SELECT id FROM executions WHERE active = 1 AND (lease_owner IS NULL OR lease_expires <= 5) ORDER BY started_at, id LIMIT 10')).toMatch(/USING INDEX executions_active/);
      expect((await store.claimRunnable('A', 10, 1000, 10)).map((e) => e.id)).toEqual(['e1', 'e2', 'e3']);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('selects SQLite under the data directory unless a database URL is given', async () => {
    expect(resolveStoreConfig({ env: {} })).toEqual({ kind: 'sqlite', file: join('data', SQLITE_FILE_NAME) });
    expect(resolveStoreConfig({ env: { FLOWRUN_DATA_DIR: '/tmp/x' } })).toEqual({ kind: 'sqlite', file: join('/tmp/x', SQLITE_FILE_NAME) });
    expect(resolveStoreConfig({ dataDir: 'here', env: { FLOWRUN_DATA_DIR: '/tmp/x' } })).toEqual({ kind: 'sqlite', file: join('here', SQLITE_FILE_NAME) });
    expect(resolveStoreConfig({ env: { FLOWRUN_DATABASE_URL: 'postgres://u@h/d' } })).toEqual({ kind: 'postgres', url: 'postgres://u@h/d' });
    expect(resolveStoreConfig({ databaseUrl: 'postgres://a@b/c', env: {} })).toEqual({ kind: 'postgres', url: 'postgres://a@b/c' });
    const dir = tempDir();
    try {
      const store = await openExecutionStore({ dataDir: dir, env: {} });
      expect(store.dialect).toBe('sqlite');
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
