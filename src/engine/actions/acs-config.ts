/**
 * Local stand-ins for the cloud, read from files: FIXTURES (answers to cloud API calls and to child
 * templates / product actions, so public OOS templates run without Alibaba Cloud) and the
 * INVENTORY (resources that ACS::SelectTargets selects and ACS::ECS::RunCommand runs on).
 * Both are YAML or JSON, checked with ajv when loaded.
 *
 * Fixtures:
 *   Services:
 *     ECS:                            # product code (case-insensitive)
 *       DescribeInstances:            # API name (case-insensitive)
 *         - When: {RegionId: cn-hangzhou}   # optional: values the call's Parameters must have
 *           Response: {...}                 # the API's JSON response
 *         - Responses: [{...}, {...}]       # answered in turn, the last one repeating (polling)
 *         - Error: {Code: Throttling, Message: busy, Retryable: true}
 *   Templates:                        # ACS::Template children and product actions
 *     ACS::ECS::ApplyAutoSnapshotPolicy:
 *       - Response: {...}             # the child execution's Outputs
 * The first entry whose When matches answers; an entry without When matches every call.
 *
 * Inventory:
 *   Resources:
 *     - ResourceId: i-web-1                   # or InstanceId
 *       ResourceType: ALIYUN::ECS::Instance   # default
 *       RegionId: cn-hangzhou                 # default: the configured region
 *       ResourceGroupId: rg-1
 *       Status: Running
 *       Tags: {env: prod}
 *       Attributes: {InstanceName: web-1}     # copied into SelectTargets results
 */
import { readFile } from 'node:fs/promises';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { FlowrunError } from '../../shared/errors.js';
import { isJsonObject } from '../../shared/json.js';
import type { Json, JsonObject } from '../../shared/json.js';

/** Error name of an unreadable or invalid fixtures/inventory file. */
export const ACS_CONFIG_ERROR = 'OOS.InvalidConfig';
/** Resource type of inventory entries that do not name one. */
export const DEFAULT_RESOURCE_TYPE = 'ALIYUN::ECS::Instance';

export interface FixtureError {
  Code: string;
  Message?: string;
  Retryable?: boolean;
}

export interface FixtureEntry {
  When?: JsonObject;
  Response?: Json;
  Responses?: Json[];
  Error?: FixtureError;
}

export interface AcsFixtures {
  Services?: Record<string, Record<string, FixtureEntry[]>>;
  Templates?: Record<string, FixtureEntry[]>;
}

export interface InventoryResource {
  ResourceId: string;
  ResourceType: string;
  RegionId?: string;
  ResourceGroupId?: string;
  Status?: string;
  Tags: Record<string, string>;
  Attributes: JsonObject;
}

export interface Inventory {
  Resources: InventoryResource[];
}

const entrySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    When: { type: 'object' },
    Response: {},
    Responses: { type: 'array', minItems: 1 },
    Error: {
      type: 'object',
      additionalProperties: false,
      required: ['Code'],
      properties: { Code: { type: 'string', minLength: 1 }, Message: { type: 'string' }, Retryable: { type: 'boolean' } },
    },
  },
};
const entries = { type: 'array', items: entrySchema };

export const fixturesSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    Services: { type: 'object', additionalProperties: { type: 'object', additionalProperties: entries } },
    Templates: { type: 'object', additionalProperties: entries },
  },
};

export const inventorySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['Resources'],
  properties: {
    Resources: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        anyOf: [{ required: ['ResourceId'] }, { required: ['InstanceId'] }],
        properties: {
          ResourceId: { type: 'string', minLength: 1 },
          InstanceId: { type: 'string', minLength: 1 },
          ResourceType: { type: 'string', minLength: 1 },
          RegionId: { type: 'string' },
          ResourceGroupId: { type: 'string' },
          Status: { type: 'string' },
          Tags: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
          Attributes: { type: 'object' },
        },
      },
    },
  },
};

const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
const validateFixtures = ajv.compile(fixturesSchema);
const validateInventory = ajv.compile(inventorySchema);

function parseText(text: string, source: string): unknown {
  try {
    return /\.json$/i.test(source) ? (JSON.parse(text) as unknown) : (parseYaml(text) as unknown);
  } catch (err) {
    throw new FlowrunError(ACS_CONFIG_ERROR, `${source}: ${(err as Error).message.split('\n')[0] ?? ''}`);
  }
}

function invalid(source: string, errors: { instancePath: string; message?: string }[]): FlowrunError {
  const lines = errors.map((e) => `${e.instancePath || '/'}: ${e.message ?? 'is invalid'}`);
  return new FlowrunError(ACS_CONFIG_ERROR, `${source} is not valid:\n  ${lines.join('\n  ')}`, { details: { Problems: lines } });
}

/** Parses fixtures (YAML, or JSON for `.json` sources). Throws `OOS.InvalidConfig`. */
export function parseAcsFixtures(text: string, source = 'fixtures.yaml'): AcsFixtures {
  const doc = parseText(text, source) ?? {};
  if (!validateFixtures(doc)) throw invalid(source, validateFixtures.errors ?? []);
  return doc as AcsFixtures;
}

/** Parses an inventory (YAML, or JSON for `.json` sources). Throws `OOS.InvalidConfig`. */
export function parseInventory(text: string, source = 'inventory.yaml'): Inventory {
  const doc = parseText(text, source);
  if (!validateInventory(doc)) throw invalid(source, validateInventory.errors ?? []);
  const raw = (doc as { Resources: JsonObject[] }).Resources;
  const seen = new Set<string>();
  const resources = raw.map((r, i): InventoryResource => {
    const id = String(r['ResourceId'] ?? r['InstanceId']);
    if (seen.has(id)) throw new FlowrunError(ACS_CONFIG_ERROR, `${source}: /Resources/${i}: resource '${id}' is listed twice`);
    seen.add(id);
    const tags: Record<string, string> = {};
    if (isJsonObject(r['Tags'])) for (const [k, v] of Object.entries(r['Tags'])) tags[k] = String(v);
    const out: InventoryResource = {
      ResourceId: id,
      ResourceType: typeof r['ResourceType'] === 'string' ? r['ResourceType'] : DEFAULT_RESOURCE_TYPE,
      Tags: tags,
      Attributes: isJsonObject(r['Attributes']) ? r['Attributes'] : {},
    };
    for (const key of ['RegionId', 'ResourceGroupId', 'Status'] as const) {
      const v = r[key];
      if (typeof v === 'string') out[key] = v;
    }
    return out;
  });
  return { Resources: resources };
}

export async function loadAcsFixtures(path: string): Promise<AcsFixtures> {
  return parseAcsFixtures(await readConfig(path), path);
}

export async function loadInventory(path: string): Promise<Inventory> {
  return parseInventory(await readConfig(path), path);
}

async function readConfig(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new FlowrunError(ACS_CONFIG_ERROR, `cannot read ${path}: ${(err as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Matching

/** Scalars compare as text ('1' matches 1, 'true' matches true); objects partially; lists exactly. */
export function matchesWhen(expected: Json, actual: Json | undefined): boolean {
  if (actual === undefined) return false;
  if (isJsonObject(expected)) {
    if (!isJsonObject(actual)) return false;
    return Object.entries(expected).every(([k, v]) => matchesWhen(v, actual[k]));
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return false;
    return expected.every((v, i) => matchesWhen(v, actual[i]));
  }
  if (expected === null || actual === null) return expected === actual;
  if (typeof actual === 'object') return false;
  return String(expected) === String(actual);
}

/** Finds `name` in a record ignoring case. */
export function lookupIgnoringCase<T>(record: Record<string, T> | undefined, name: string): T | undefined {
  if (!record) return undefined;
  if (Object.hasOwn(record, name)) return record[name];
  const lower = name.toLowerCase();
  const key = Object.keys(record).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : record[key];
}

/**
 * Answers calls from fixtures. Keeps per-entry counters for `Responses` lists (one instance per
 * registry, so a WaitFor polling through [Running, Finished] sees Finished on its second call).
 */
export class FixtureAnswerer {
  private readonly calls = new Map<FixtureEntry, number>();

  constructor(readonly fixtures: AcsFixtures = {}) {}

  /** The entry answering `service`/`api` with `parameters`, if any. */
  findApi(service: string, api: string, parameters: Json): FixtureEntry | undefined {
    const list = lookupIgnoringCase(lookupIgnoringCase(this.fixtures.Services, service), api);
    return list?.find((e) => e.When === undefined || matchesWhen(e.When, parameters));
  }

  findTemplate(name: string, parameters: Json): FixtureEntry | undefined {
    const list = lookupIgnoringCase(this.fixtures.Templates, name);
    return list?.find((e) => e.When === undefined || matchesWhen(e.When, parameters));
  }

  /** The entry's answer for this call (throws its Error). */
  answer(entry: FixtureEntry, what: string): Json {
    if (entry.Error) {
      throw new FlowrunError(entry.Error.Code, entry.Error.Message ?? `${what} failed (fixture error)`, { retryable: entry.Error.Retryable === true });
    }
    if (entry.Responses) {
      const n = this.calls.get(entry) ?? 0;
      this.calls.set(entry, n + 1);
      return structuredClone(entry.Responses[Math.min(n, entry.Responses.length - 1)] ?? null);
    }
    return structuredClone(entry.Response ?? {});
  }
}
