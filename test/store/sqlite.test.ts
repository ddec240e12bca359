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
