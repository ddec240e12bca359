/**
 * The access keys file: validation with clear messages (entry index + field), duplicates,
 * and secrets that never show — not in errors, not in toString/toJSON/inspect.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessKey, AccessKeyStore, INVALID_ACCESS_KEYS, loadAccessKeys, parseAccessKeys } from '../../src/auth/index.js';
import { FlowrunError } from '../../src/shared/errors.js';

const SECRET_A = 'S3cr3t-A-very-private-value';
const SECRET_B = 'S3cr3t-B-another-private-value';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowrun-keys-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let fileSeq = 0;
async function file(content: string, mode = 0o600): Promise<string> {
  const path = join(dir, `keys-${++fileSeq}.json`);
  await writeFile(path, content, { mode });
  await chmod(path, mode);
  return path;
}

async function loadError(content: string): Promise<FlowrunError> {
  try {
    await loadAccessKeys(await file(content));
  } catch (err) {
    if (err instanceof FlowrunError) return err;
    throw err;
  }
  throw new Error('expected loadAccessKeys to fail');
}

function expectNoSecret(text: string): void {
  expect(text).not.toContain(SECRET_A);
  expect(text).not.toContain(SECRET_B);
}

const GOOD = [
  { AccessKeyId: 'LTAI-a.1_x', AccessKeySecret: SECRET_A, AccountId: '1111' },
  { AccessKeyId: 'LTAIb', AccessKeySecret: SECRET_B, AccountId: '2222' },
  { AccessKeyId: 'LTAIc', AccessKeySecret: SECRET_B, AccountId: '1111' },
];

describe('loadAccessKeys', () => {
  it('loads a valid file: lookup by id gives the account and the secret', async () => {
    const store = await loadAccessKeys(await file(JSON.stringify(GOOD)));
    expect(store.size).toBe(3);
    expect(store.ids()).toEqual(['LTAI-a.1_x', 'LTAIb', 'LTAIc']);
    expect(store.accountIds()).toEqual(['1111', '2222']);
    expect(store.get('LTAIb')?.accountId).toBe('2222');
    expect(store.get('LTAI-a.1_x')?.revealSecret()).toBe(SECRET_A);
    expect(store.get('nobody')).toBeUndefined();
    expect(store.warnings).toEqual([]);
  });

  it('accepts a UTF-8 byte-order mark', async () => {
    const store = await loadAccessKeys(await file(`\ufeff${JSON.stringify(GOOD)}`));
    expect(store.size).toBe(3);
  });

  it('warns (without failing) when the file is open to other users', async () => {
    const store = await loadAccessKeys(await file(JSON.stringify(GOOD), 0o644));
    expect(store.size).toBe(3);
    expect(store.warnings).toHaveLength(1);
    expect(store.warnings[0]).toMatch(/mode 644.*chmod 600/);
    expect(store.get('LTAIb')?.revealSecret()).toBe(SECRET_B);
  });

  it('names the entry index and the field of each problem, all at once', async () => {
    const err = await loadError(
      JSON.stringify([
        GOOD[0],
        { AccessKeyId: 'LTAIx', AccessKeySecret: SECRET_B },
        { AccessKeyId: 'LTAIy', AccessKeySecret: 42, AccountId: '3' },
        { AccessKeyId: 'bad id!', AccessKeySecret: SECRET_A, AccountId: '4' },
        { AccessKeyId: 'LTAIz', AccessKeySecret: SECRET_A, AccountId: '5', Comment: 'hi' },
        'not an object',
        { AccessKeyId: '', AccessKeySecret: '', AccountId: '6' },
      ]),
    );
    expect(err.code).toBe(INVALID_ACCESS_KEYS);
    expect(err.message).toContain('entry [1]: field "AccountId" is required');
    expect(err.message).toContain('entry [2]: field "AccessKeySecret" must be string');
    expect(err.message).toContain(`entry [3]: field "AccessKeyId" may contain only letters, digits, '.', '_' and '-'`);
    expect(err.message).toContain('entry [4]: unknown field "Comment"');
    expect(err.message).toContain('entry [5] must be an object');
    expect(err.message).toContain('entry [6]: field "AccessKeyId" must NOT have fewer than 1 characters');
    expect(err.message).toContain('entry [6]: field "AccessKeySecret" must NOT have fewer than 1 characters');
    expectNoSecret(err.message);
  });

  it('refuses duplicate AccessKeyIds, naming both entries', async () => {
    const err = await loadError(JSON.stringify([GOOD[0], GOOD[1], { ...GOOD[2], AccessKeyId: 'LTAI-a.1_x' }]));
    expect(err.message).toContain('entry [2]: AccessKeyId "LTAI-a.1_x" duplicates entry [0]');
    expectNoSecret(err.message);
  });

  it.each([
    ['an object instead of an array', JSON.stringify({ AccessKeyId: 'a', AccessKeySecret: SECRET_A, AccountId: '1' }), 'must be a JSON array'],
    ['an empty array', '[]', 'contains no access keys'],
    ['invalid JSON holding a secret', `[{"AccessKeyId": "a", "AccessKeySecret": "${SECRET_A}", "AccountId": 1,}]`, 'is not valid JSON'],
    ['truncated JSON', `[{"AccessKeyId": "a", "AccessKeySecret": "${SECRET_A}`, 'is not valid JSON'],
  ])('refuses %s, quoting no secret', async (_label, content, words) => {
    const err = await loadError(content);
    expect(err.code).toBe(INVALID_ACCESS_KEYS);
    expect(err.message).toContain(words);
    expectNoSecret(err.message);
    expectNoSecret(String(err.cause ?? ''));
    expectNoSecret(err.stack ?? '');
  });

  it('a file that cannot be read names the path and the reason', async () => {
    const missing = join(dir, 'missing.json');
    await expect(loadAccessKeys(missing)).rejects.toThrow(`access keys file ${missing} cannot be read (ENOENT)`);
  });
});

describe('secrets never show', () => {
  const key = new AccessKey('LTAIa', SECRET_A, '1111');
  const store = parseAccessKeys(GOOD);

  it('AccessKey: not enumerable, not in toString, toJSON, inspect, spread', () => {
    expect(Object.keys(key)).toEqual(['accessKeyId', 'accountId']);
    expect(JSON.stringify(key)).toBe('{"AccessKeyId":"LTAIa","AccountId":"1111"}');
    for (const text of [String(key), `${key}`, JSON.stringify(key), inspect(key), inspect(key, { showHidden: true, depth: 5 }), JSON.stringify({ ...key })]) {
      expectNoSecret(text);
      expect(text).toContain('LTAIa');
    }
    expect(key.revealSecret()).toBe(SECRET_A);
  });

  it('AccessKeyStore: toJSON/toString/inspect list ids and accounts only', () => {
    for (const text of [String(store), JSON.stringify(store), inspect(store), inspect(store, { showHidden: true, depth: 10 }), JSON.stringify({ ...store })]) {
      expectNoSecret(text);
    }
    expect(JSON.stringify(store)).toContain('"AccountId":"2222"');
  });

  it('a store refuses duplicate keys given programmatically', () => {
    expect(() => new AccessKeyStore([key, new AccessKey('LTAIa', SECRET_B, '2')])).toThrow(/duplicate AccessKeyId "LTAIa"/);
  });
});
