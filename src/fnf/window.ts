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

export class ExecutionWindow {
  private readonly byName = new Map<string, ExecutionRecord>();
  private seq = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.byName.size;
  }

  /** Records a new execution (evicting the oldest when full). `record` becomes the entry (not copied). */
  add(record: Omit<ExecutionRecord, 'seq'>): ExecutionRecord {
    const entry = record as ExecutionRecord;
    entry.seq = ++this.seq;
    if (this.capacity <= 0) return entry;
    while (this.byName.size >= this.capacity) {
      const oldest = this.byName.keys().next();
      if (oldest.done) break;
      this.byName.delete(oldest.value);
    }
    this.byName.set(entry.name, entry);
    return entry;
  }

  get(flowName: string, name: string): ExecutionRecord | undefined {
    const r = this.byName.get(name);
    return r && r.flowName === flowName ? r : undefined;
  }

  /** Matching executions of one flow, newest first; `more` says whether another page exists. */
  list(options: WindowListOptions): { items: ExecutionRecord[]; more: boolean } {
    const all = [...this.byName.values()];
    const items: ExecutionRecord[] = [];
    for (let i = all.length - 1; i >= 0; i--) {
      const r = all[i] as ExecutionRecord;
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
    for (const [name, r] of this.byName) if (r.flowName === flowName) this.byName.delete(name);
  }
}
