/**
 * Meta-test: the error catalog (src/api/errors.ts), the README's "## API errors" table and seed
 * 004's error table agree.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { API_ERRORS } from '../../src/api/errors.js';
import type { ApiErrorCode } from '../../src/api/errors.js';
import { FnfErrorCodes } from '../../src/fnf/errors.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SECTION = '## API errors';

/** The README, which holds the "## API errors" section. */
function errorsDoc(): { path: string; text: string } {
  const path = join(root, 'README.md');
  const text = readFileSync(path, 'utf8');
  if (!text.split('\n').some((l) => l.trim() === SECTION)) throw new Error(`no "${SECTION}" section in README.md`);
  return { path, text };
}

/** Rows `| Code | HTTP status | Meaning |` of the section's table. */
function docRows(text: string): Map<string, number> {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === SECTION);
  const rows = new Map<string, number>();
  let header = false;
  for (const line of lines.slice(start + 1)) {
    if (/^## /.test(line)) break;
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 5) continue;
    if (cells[1] === 'Code' && cells[2] === 'HTTP status' && cells[3] === 'Meaning') {
      header = true;
      continue;
    }
    const m = /^([A-Za-z.]+)$/.exec(cells[1] ?? ''); // OOS codes have dots (EntityNotExist.Execution)
    if (header && m && /^\d{3}$/.test(cells[2] ?? '')) {
      expect(rows.has(m[1] as string), `${m[1]} listed twice`).toBe(false);
      rows.set(m[1] as string, Number(cells[2]));
    }
  }
  expect(header, 'the table header | Code | HTTP status | Meaning |').toBe(true);
  return rows;
}

/** The seed's table: `400 | EntityTooLarge | message | description |`. */
function seedRows(): Map<string, { status: number; message: string }> {
  const candidates = [resolve(root, '../shared/seeds'), resolve(root, 'shared/seeds')];
  const dir = candidates.find((d) => existsSync(d));
  if (!dir) throw new Error(`seed folder not found (looked in ${candidates.join(', ')})`);
  const file = readdirSync(dir).find((f) => f.startsWith('004_'));
  if (!file) throw new Error(`seed 004 not found in ${dir}`);
  const rows = new Map<string, { status: number; message: string }>();
  for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
    const m = /^(\d{3}) \| ([A-Za-z]+) \| (.+?) \| .* \|\s*$/.exec(line);
    if (m) rows.set(m[2] as string, { status: Number(m[1]), message: (m[3] as string).trim() });
  }
  return rows;
}

describe('error catalog, README table and seed 004 agree', () => {
  const catalog = new Map(Object.entries(API_ERRORS) as [ApiErrorCode, (typeof API_ERRORS)[ApiErrorCode]][]);
  const seed = seedRows();
  const doc = errorsDoc();
  const table = docRows(doc.text);

  it('the seed table parses (15 codes)', () => {
    expect(seed.size).toBe(15);
    expect(seed.get('EntityTooLarge')).toEqual({ status: 400, message: 'The payload size exceeds maximum allowed size (%s bytes).' });
  });

  it('every seed code is in the catalog with the seed status and message, and marked as a seed code', () => {
    for (const [code, row] of seed) {
      const spec = catalog.get(code as ApiErrorCode);
      expect(spec, code).toBeDefined();
      expect(spec?.status, code).toBe(row.status);
      expect(spec?.message, code).toBe(row.message);
      expect(spec?.seed, code).toBe(true);
    }
    const markedSeed = [...catalog].filter(([, s]) => s.seed).map(([c]) => c).sort();
    expect(markedSeed).toEqual([...seed.keys()].sort());
  });

  it(`the table in ${doc.path.slice(root.length + 1)} lists exactly the catalog's codes with their statuses`, () => {
    expect([...table.keys()].sort()).toEqual([...catalog.keys()].sort());
    for (const [code, status] of table) expect(status, code).toBe(catalog.get(code as ApiErrorCode)?.status);
  });

  it('every code the flow service raises is in the catalog', () => {
    for (const code of Object.values(FnfErrorCodes)) expect(catalog.has(code), code).toBe(true);
  });

  it('statuses are client or server errors', () => {
    for (const [code, spec] of catalog) expect(spec.status >= 400 && spec.status <= 599, code).toBe(true);
  });
});
