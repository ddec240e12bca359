/**
 * AccessKey pairs, loaded from the file given by `--access-keys FILE` (or
 * `FLOWRUN_ACCESS_KEYS_FILE`): a JSON array of `{"AccessKeyId", "AccessKeySecret", "AccountId"}`.
 *
 * A secret is kept in a private field: it is not enumerable, and `toString`, `toJSON` and
 * `util.inspect` of an {@link AccessKey} or an {@link AccessKeyStore} show the id and the account
 * only. No error raised here quotes a secret or the file's text.
 */
import { readFile, stat } from 'node:fs/promises';
import { inspect } from 'node:util';
import { Ajv } from 'ajv';
import type { ErrorObject } from 'ajv';
import { FlowrunError } from '../shared/errors.js';

/** Code of every error about the access keys file or its entries. */
export const INVALID_ACCESS_KEYS = 'InvalidAccessKeys';

const NAME_PATTERN = '^[A-Za-z0-9._-]+$';

export const accessKeysSchema = {
  type: 'array',
  minItems: 1,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['AccessKeyId', 'AccessKeySecret', 'AccountId'],
    properties: {
      AccessKeyId: { type: 'string', minLength: 1, maxLength: 128, pattern: NAME_PATTERN },
      AccessKeySecret: { type: 'string', minLength: 1, maxLength: 1024 },
      AccountId: { type: 'string', minLength: 1, maxLength: 64, pattern: NAME_PATTERN },
    },
  },
} as const;

/** One entry of the access keys file. */
export interface AccessKeyEntry {
  AccessKeyId: string;
  AccessKeySecret: string;
  AccountId: string;
}

/** An AccessKey pair and the account it belongs to; the secret never shows. */
export class AccessKey {
  readonly accessKeyId: string;
  readonly accountId: string;
  readonly #secret: string;

  constructor(accessKeyId: string, secret: string, accountId: string) {
    this.accessKeyId = accessKeyId;
    this.accountId = accountId;
    this.#secret = secret;
  }

  /** The AccessKeySecret, for signing and verifying only: never log or return it. */
  revealSecret(): string {
    return this.#secret;
  }

  toJSON(): { AccessKeyId: string; AccountId: string } {
    return { AccessKeyId: this.accessKeyId, AccountId: this.accountId };
  }

  toString(): string {
    return `AccessKey(${this.accessKeyId}, account ${this.accountId})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** What verification needs of the keys: find one by id. */
export interface AccessKeyLookup {
  get(accessKeyId: string): AccessKey | undefined;
}

/** The configured AccessKeys, by id. */
export class AccessKeyStore implements AccessKeyLookup {
  readonly #keys: Map<string, AccessKey>;
  /** Non-fatal remarks about the file (e.g. readable by other users), for the operator's log. */
  readonly warnings: readonly string[];

  constructor(keys: Iterable<AccessKey>, warnings: readonly string[] = []) {
    this.#keys = new Map();
    for (const key of keys) {
      if (this.#keys.has(key.accessKeyId)) throw new FlowrunError(INVALID_ACCESS_KEYS, `duplicate AccessKeyId "${key.accessKeyId}"`);
      this.#keys.set(key.accessKeyId, key);
    }
    this.warnings = warnings;
  }

  get(accessKeyId: string): AccessKey | undefined {
    return this.#keys.get(accessKeyId);
  }

  get size(): number {
    return this.#keys.size;
  }

  /** The configured AccessKey ids. */
  ids(): string[] {
    return [...this.#keys.keys()];
  }

  /** The account ids that own at least one key. */
  accountIds(): string[] {
    return [...new Set([...this.#keys.values()].map((k) => k.accountId))];
  }

  toJSON(): { AccessKeyId: string; AccountId: string }[] {
    return [...this.#keys.values()].map((k) => k.toJSON());
  }

  toString(): string {
    return `AccessKeyStore(${this.#keys.size} keys)`;
  }

  [inspect.custom](): string {
    return `AccessKeyStore(${this.ids().join(', ')})`;
  }
}

let validator: ReturnType<Ajv['compile']> | undefined;
function validate(): ReturnType<Ajv['compile']> {
  validator ??= new Ajv({ allErrors: true, strict: true }).compile(accessKeysSchema);
  return validator;
}

/** One line per schema violation, naming the entry index and the field; never the value. */
function describe(error: ErrorObject): string {
  const [, index, field] = error.instancePath.split('/');
  const where = index === undefined || index === '' ? 'the file' : `entry [${index}]`;
  if (error.keyword === 'required') return `${where}: field "${String(error.params['missingProperty'])}" is required`;
  if (error.keyword === 'additionalProperties') return `${where}: unknown field "${String(error.params['additionalProperty'])}" (allowed: AccessKeyId, AccessKeySecret, AccountId)`;
  if (index === undefined || index === '') {
    if (error.keyword === 'minItems') return 'the file contains no access keys';
    return 'the file must be a JSON array of {"AccessKeyId", "AccessKeySecret", "AccountId"} objects';
  }
  if (field === undefined) return `${where} must be an object {"AccessKeyId", "AccessKeySecret", "AccountId"}`;
  if (error.keyword === 'pattern') return `${where}: field "${field}" may contain only letters, digits, '.', '_' and '-'`;
  return `${where}: field "${field}" ${error.message ?? 'is invalid'}`;
}

/**
 * Validates the parsed content of an access keys file and builds the store. Throws a
 * FlowrunError (`InvalidAccessKeys`) listing every problem: the entry index and the field,
 * duplicate ids; never a secret.
 */
export function parseAccessKeys(data: unknown, source = 'access keys'): AccessKeyStore {
  const check = validate();
  if (!check(data)) {
    const problems = [...new Set((check.errors ?? []).map(describe))];
    throw new FlowrunError(INVALID_ACCESS_KEYS, `${source}: ${problems.join('; ')}`);
  }
  const entries = data as AccessKeyEntry[];
  const firstIndex = new Map<string, number>();
  const problems: string[] = [];
  entries.forEach((entry, i) => {
    const first = firstIndex.get(entry.AccessKeyId);
    if (first === undefined) firstIndex.set(entry.AccessKeyId, i);
    else problems.push(`entry [${i}]: AccessKeyId "${entry.AccessKeyId}" duplicates entry [${first}]`);
  });
  if (problems.length > 0) throw new FlowrunError(INVALID_ACCESS_KEYS, `${source}: ${problems.join('; ')}`);
  return new AccessKeyStore(entries.map((e) => new AccessKey(e.AccessKeyId, e.AccessKeySecret, e.AccountId)));
}

/** Where a JSON syntax error is, without quoting the text (which may hold a secret). */
function syntaxErrorPosition(err: unknown): string {
  const m = err instanceof Error ? /position (\d+)/.exec(err.message) : null;
  return m ? ` (at character ${m[1]})` : '';
}

/**
 * Reads and validates an access keys file. Throws a FlowrunError (`InvalidAccessKeys`) when the
 * file cannot be read, is not JSON, or is not a valid non-empty array of unique keys. A file
 * open to other users (group or world permissions) is accepted with a warning in {@link AccessKeyStore.warnings}.
 */
export async function loadAccessKeys(path: string): Promise<AccessKeyStore> {
  const source = `access keys file ${path}`;
  let text: string;
  let mode: number;
  try {
    text = await readFile(path, 'utf8');
    mode = (await stat(path)).mode;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FlowrunError(INVALID_ACCESS_KEYS, `${source} cannot be read${code ? ` (${code})` : ''}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    throw new FlowrunError(INVALID_ACCESS_KEYS, `${source} is not valid JSON${syntaxErrorPosition(err)}`);
  }
  const store = parseAccessKeys(data, source);
  const warnings: string[] = [];
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    warnings.push(`${source} can be read or written by other users (mode ${(mode & 0o777).toString(8)}); consider chmod 600`);
  }
  return warnings.length === 0 ? store : new AccessKeyStore(store.ids().map((id) => store.get(id) as AccessKey), warnings);
}
