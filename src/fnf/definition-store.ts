/**
 * A {@link FlowStore} kept in the execution store's definitions (kind 'flow'), so flows created
 * with CreateFlow survive a restart and every UpdateFlow is a new version (Standard executions keep
 * running the version they started with).
 *
 * Reads are served from memory (loaded at open, kept current by this instance's writes); a name
 * this instance has not seen is looked up in the store, so flows created by another instance on
 * the same database become visible. An update made by another instance is seen after a restart.
 */
import type { DefinitionRecord, ExecutionStore } from '../executions/store.js';
import type { Clock } from '../shared/clock.js';
import type { FlowListOptions, FlowStore } from './store.js';
import { FLOW_TYPE } from './types.js';
import type { FlowRecord } from './types.js';

/** Definitions are read in pages of this size when the store opens. */
const LOAD_PAGE = 500;

function toRecord(d: DefinitionRecord): FlowRecord | undefined {
  const m = d.metadata;
  const mode = m['ExecutionMode'];
  if (typeof m['Id'] !== 'string' || (mode !== 'Express' && mode !== 'Standard')) return undefined;
  const record: FlowRecord = {
    Name: d.name,
    Id: m['Id'],
    Definition: d.content,
    Description: typeof m['Description'] === 'string' ? m['Description'] : '',
    Type: FLOW_TYPE,
    RoleArn: typeof m['RoleArn'] === 'string' ? m['RoleArn'] : '',
    ExecutionMode: mode,
    CreatedTime: typeof m['CreatedTime'] === 'number' ? m['CreatedTime'] : d.createdAt,
    LastModifiedTime: typeof m['LastModifiedTime'] === 'number' ? m['LastModifiedTime'] : d.createdAt,
  };
  if (typeof m['SourceFile'] === 'string') record.SourceFile = m['SourceFile'];
  return Object.freeze(record);
}

function metadataOf(r: FlowRecord): DefinitionRecord['metadata'] {
  const m: DefinitionRecord['metadata'] = {
    Id: r.Id,
    Description: r.Description,
    RoleArn: r.RoleArn,
    ExecutionMode: r.ExecutionMode,
    CreatedTime: r.CreatedTime,
    LastModifiedTime: r.LastModifiedTime,
  };
  if (r.SourceFile !== undefined) m['SourceFile'] = r.SourceFile;
  return m;
}

const sameContent = (a: FlowRecord, b: FlowRecord): boolean =>
  a.Definition === b.Definition &&
  a.Description === b.Description &&
  a.RoleArn === b.RoleArn &&
  a.ExecutionMode === b.ExecutionMode &&
  a.SourceFile === b.SourceFile;

export class DefinitionFlowStore implements FlowStore {
  private readonly cache = new Map<string, FlowRecord>();

  private constructor(
    private readonly store: ExecutionStore,
    private readonly clock: Clock,
    private readonly account: string | undefined,
  ) {}

  /** Opens the store and loads every flow definition's latest version. */
  static async open(store: ExecutionStore, clock: Clock, account?: string): Promise<DefinitionFlowStore> {
    const s = new DefinitionFlowStore(store, clock, account);
    let after: string | undefined;
    for (;;) {
      const page = await store.listDefinitions('flow', { limit: LOAD_PAGE, ...(after !== undefined ? { after } : {}), ...(account !== undefined ? { account } : {}) });
      for (const d of page) {
        const r = toRecord(d);
        if (r) s.cache.set(r.Name, r);
      }
      if (page.length < LOAD_PAGE) break;
      after = page[page.length - 1]?.name;
    }
    return s;
  }

  async get(name: string): Promise<FlowRecord | undefined> {
    const hit = this.cache.get(name);
    if (hit) return hit;
    const d = await this.store.getDefinition('flow', name, undefined, this.account);
    const r = d ? toRecord(d) : undefined;
    if (r) this.cache.set(name, r);
    return r;
  }

  async create(record: FlowRecord): Promise<boolean> {
    const created = await this.store.createDefinition(this.newDefinition(record));
    if (!created) return false;
    this.cache.set(record.Name, Object.freeze({ ...record }));
    return true;
  }

  async put(record: FlowRecord): Promise<void> {
    const old = await this.get(record.Name);
    if (old && sameContent(old, record)) return; // loading the same file again adds no version
    const written = old ? await this.store.updateDefinition(this.newDefinition(record)) : await this.store.createDefinition(this.newDefinition(record));
    if (!written && !old) await this.store.updateDefinition(this.newDefinition(record)); // created meanwhile elsewhere
    this.cache.set(record.Name, Object.freeze({ ...record }));
  }

  async delete(name: string): Promise<boolean> {
    this.cache.delete(name);
    return this.store.deleteDefinition('flow', name, this.account);
  }

  async list({ limit, after }: FlowListOptions): Promise<FlowRecord[]> {
    const page = await this.store.listDefinitions('flow', {
      limit,
      ...(after !== undefined ? { after } : {}),
      ...(this.account !== undefined ? { account: this.account } : {}),
    });
    return page.map(toRecord).filter((r): r is FlowRecord => r !== undefined);
  }

  async count(): Promise<number> {
    return this.cache.size;
  }

  /** The execution store belongs to the caller; nothing to close here. */
  async close(): Promise<void> {}

  private newDefinition(record: FlowRecord): Parameters<ExecutionStore['createDefinition']>[0] {
    return {
      kind: 'flow',
      name: record.Name,
      content: record.Definition,
      metadata: metadataOf(record),
      now: this.clock.now(),
      ...(this.account !== undefined ? { account: this.account } : {}),
    };
  }
}
