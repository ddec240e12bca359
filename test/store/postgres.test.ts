/**
 * The contract suite on a real PostgreSQL, given by FLOWRUN_TEST_DATABASE_URL (`.ci/run` starts
 * one and sets it). Each test works in a schema of its own, dropped afterwards.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS, openPostgresStore } from '../../src/store/index.js';
import { storeContract } from './contract.js';

const URL_VARIABLE = 'FLOWRUN_TEST_DATABASE_URL';
const url = process.env[URL_VARIABLE];

let schemaCounter = 0;
const newSchema = (): string => `flowrun_test_${process.pid}_${Date.now().toString(36)}_${++schemaCounter}`;

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

if (!url) {
  console.warn(`test/store/postgres.test.ts: skipped, ${URL_VARIABLE} is not set (e.g. postgres://user:pass@127.0.0.1:5432/db); .ci/run sets it.`);
  describe.skip(`ExecutionStore contract: postgres (skipped: ${URL_VARIABLE} not set)`, () => {
    it('needs a database', () => undefined);
  });
} else {
  const connectionString = url;
  storeContract('postgres', async () => {
    const schema = newSchema();
    const store = await openPostgresStore({ connectionString, schema, poolSize: 4 });
    const others: { close(): Promise<void> }[] = [];
    return {
      store,
      openAnother: async () => {
        const other = await openPostgresStore({ connectionString, schema, poolSize: 4 });
        others.push(other);
        return other;
      },
      dispose: async () => {
        await store.close();
        for (const o of others) await o.close();
        await dropSchema(schema);
      },
    };
  });

  describe('postgres adapter', () => {
    it('migrates once even when instances start together', async () => {
      const schema = newSchema();
      try {
        const stores = await Promise.all([1, 2, 3].map((i) => openPostgresStore({ connectionString, schema, poolSize: 2, now: i })));
        await stores[0]?.createDefinition({ kind: 'flow', name: 'kept', content: 'x', now: 1 });
        for (const s of stores) await s.close();
        const again = await openPostgresStore({ connectionString, schema, poolSize: 2, now: 99 });
        expect((await again.getDefinition('flow', 'kept'))?.content).toBe('x');
        await again.close();
        const client = new pg.Client({ connectionString });
        await client.connect();
        try {
          const rows = (await client.query(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`)).rows as { version: number }[];
          expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
        } finally {
          await client.end();
        }
      } finally {
        await dropSchema(schema);
      }
    });
  });
}
