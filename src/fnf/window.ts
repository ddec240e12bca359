/**
 * The most recent express executions, in memory, bounded: once `capacity` is reached the oldest
 * execution is forgotten when a new one starts. DescribeExecution, ListExecutions and
 * GetExecutionHistory read it.
 */
import type { ExecutionRecord, ExecutionStatusName } from './types.js';

export interface WindowListOptions {
  flowName: string;
  limit: number;
  /** Only executions older than this sequence number (paging, newest first). */
  beforeSeq?: number;
  status?: ExecutionStatusName;
  namePrefix?: string;
  /** Epoch ms bounds on the start time (inclusive). */
  startedFrom?: number;
  startedTo?: number;
}

/**
 * The records sit in a ring, oldest to newest: adding one is a single store (no hash table to
 * update for every execution), and the rare reads by name scan it. Execution names are unique
 * (the service ends each with a UUID).
 */
export class ExecutionWindow {
  /** `count` records from `start` on (wrapping around), oldest first. */
  private ring: (ExecutionRecord | undefined)[] = [];
  private start = 0;
  private count = 0;
  private seq = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.count;
  }

  /** Records a new execution (evicting the oldest when full). `record` becomes the entry (not copied). */
  add(record: Omit<ExecutionRecord, 'seq'> & { seq?: number }): ExecutionRecord {
    const entry = record as ExecutionRecord;
    entry.seq = ++this.seq;
    const capacity = this.capacity;
    if (capacity <= 0) return entry;
    if (this.count < capacity) {
      const at = this.start + this.count;
      if (at < capacity) this.ring[at] = entry;
      else this.ring[at - capacity] = entry;
      this.count++;
    } else {
      // full: the newest takes the oldest one's place
      this.ring[this.start] = entry;
      this.start = this.start + 1 === capacity ? 0 : this.start + 1;
    }
    return entry;
  }

  /** The record at position `i` (0: the oldest). */
  private at(i: number): ExecutionRecord {
    const j = this.start + i;
    return this.ring[j < this.capacity ? j : j - this.capacity] as ExecutionRecord;
  }

  get(flowName: string, name: string): ExecutionRecord | undefined {
    for (let i = this.count - 1; i >= 0; i--) {
      const r = this.at(i);
      if (r.name === name) return r.flowName === flowName ? r : undefined;
    }
    return undefined;
  }

  /** Matching executions of one flow, newest first; `more` says whether another page exists. */
  list(options: WindowListOptions): { items: ExecutionRecord[]; more: boolean } {
    const items: ExecutionRecord[] = [];
    for (let i = this.count - 1; i >= 0; i--) {
      const r = this.at(i);
      if (r.flowName !== options.flowName) continue;
      if (options.beforeSeq !== undefined && r.seq >= options.beforeSeq) continue;
      if (options.status !== undefined && r.status !== options.status) continue;
      if (options.namePrefix !== undefined && !r.name.startsWith(options.namePrefix)) continue;
      if (options.startedFrom !== undefined && r.startedAt < options.startedFrom) continue;
      if (options.startedTo !== undefined && r.startedAt > options.startedTo) continue;
      if (items.length === options.limit) return { items, more: true };
      items.push(r);
    }
    return { items, more: false };
  }

  /** Forgets the executions of a flow (DeleteFlow). */
  forgetFlow(flowName: string): void {
    const kept: ExecutionRecord[] = [];
    for (let i = 0; i < this.count; i++) {
      const r = this.at(i);
      if (r.flowName !== flowName) kept.push(r);
    }
    this.ring = kept;
    this.start = 0;
    this.count = kept.length;
  }
}
