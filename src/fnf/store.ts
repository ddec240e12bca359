/**
 * Where flows live. The interface is async so that a durable store (SQLite, PostgreSQL) can
 * replace the in-memory one without touching the service.
 */
import type { FlowRecord } from './types.js';

export interface FlowListOptions {
  /** At most this many flows. */
  limit: number;
  /** Only flows whose name sorts strictly after this one (paging). */
  after?: string;
}

export interface FlowStore {
  get(name: string): Promise<FlowRecord | undefined>;
  /** Adds a flow; resolves false (and changes nothing) when the name is taken. */
  create(record: FlowRecord): Promise<boolean>;
  /** Adds or replaces a flow. */
  put(record: FlowRecord): Promise<void>;
  /** Resolves false when there was no such flow. */
  delete(name: string): Promise<boolean>;
  /** Flows sorted by name (code-unit order). */
  list(options: FlowListOptions): Promise<FlowRecord[]>;
  /** Number of flows. */
  count(): Promise<number>;
  close(): Promise<void>;
}

/** A {@link FlowStore} in a Map; records are frozen and shared, never copied. */
export class InMemoryFlowStore implements FlowStore {
  private readonly flows = new Map<string, FlowRecord>();
  private sorted: string[] | undefined;

  async get(name: string): Promise<FlowRecord | undefined> {
    return this.flows.get(name);
  }

  async create(record: FlowRecord): Promise<boolean> {
    if (this.flows.has(record.Name)) return false;
    this.flows.set(record.Name, Object.freeze({ ...record }));
    this.sorted = undefined;
    return true;
  }

  async put(record: FlowRecord): Promise<void> {
    if (!this.flows.has(record.Name)) this.sorted = undefined;
    this.flows.set(record.Name, Object.freeze({ ...record }));
  }

  async delete(name: string): Promise<boolean> {
    const had = this.flows.delete(name);
    if (had) this.sorted = undefined;
    return had;
  }

  async list({ limit, after }: FlowListOptions): Promise<FlowRecord[]> {
    this.sorted ??= [...this.flows.keys()].sort();
    const names = this.sorted;
    let start = 0;
    if (after !== undefined) {
      // first index whose name sorts after `after` (binary search)
      let lo = 0;
      let hi = names.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((names[mid] as string) <= after) lo = mid + 1;
        else hi = mid;
      }
      start = lo;
    }
    const out: FlowRecord[] = [];
    for (let i = start; i < names.length && out.length < limit; i++) {
      const record = this.flows.get(names[i] as string);
      if (record) out.push(record);
    }
    return out;
  }

  async count(): Promise<number> {
    return this.flows.size;
  }

  async close(): Promise<void> {}
}
