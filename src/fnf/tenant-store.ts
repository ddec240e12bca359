/**
 * The flows one account sees when requests are signed (see the README, "Security"):
 *
 * - its own flows (a {@link FlowStore} of that account), which it may change and delete;
 * - the shared flows of the operator's account `''` (the files of the flows folder, and what
 *   unsigned callers created): readable, listable and runnable by every account, changed by none;
 * - a flow another account created: `AccessDenied` (names are one namespace: creating a name that
 *   another account holds is refused the same way).
 */
import type { ExecutionStore } from '../executions/store.js';
import { apiFailure } from './errors.js';
import type { FlowListOptions, FlowStore } from './store.js';
import type { FlowRecord } from './types.js';

export const SHARED_ACCOUNT = '';

export function accessDenied(what: string): Error {
  return apiFailure('AccessDenied', { reason: `${what} belongs to another account.` });
}

export class TenantFlowStore implements FlowStore {
  constructor(
    private readonly own: FlowStore,
    private readonly shared: FlowStore,
    private readonly store: ExecutionStore,
    readonly account: string,
  ) {}

  /** Whether an account other than this one and the shared one holds the flow `name`. */
  private async heldElsewhere(name: string): Promise<boolean> {
    const owners = await this.store.definitionAccounts('flow', name);
    return owners.some((a) => a !== this.account && a !== SHARED_ACCOUNT);
  }

  async get(name: string): Promise<FlowRecord | undefined> {
    const record = (await this.own.get(name)) ?? (await this.shared.get(name));
    if (record) return record;
    if (await this.heldElsewhere(name)) throw accessDenied(`Flow ${name}`);
    return undefined;
  }

  async create(record: FlowRecord): Promise<boolean> {
    if (await this.shared.get(record.Name)) return false;
    if (await this.heldElsewhere(record.Name)) throw accessDenied(`Flow ${record.Name}`);
    return this.own.create(record);
  }

  async put(record: FlowRecord): Promise<void> {
    if (!(await this.own.get(record.Name))) throw accessDenied(`Flow ${record.Name}`);
    await this.own.put(record);
  }

  async delete(name: string): Promise<boolean> {
    if (await this.own.delete(name)) return true;
    if ((await this.shared.get(name)) || (await this.heldElsewhere(name))) throw accessDenied(`Flow ${name}`);
    return false;
  }

  /** Own and shared flows merged by name (an own flow hides a shared one of the same name). */
  async list(options: FlowListOptions): Promise<FlowRecord[]> {
    const [own, shared] = await Promise.all([this.own.list(options), this.shared.list(options)]);
    const byName = new Map<string, FlowRecord>();
    for (const r of shared) byName.set(r.Name, r);
    for (const r of own) byName.set(r.Name, r);
    return [...byName.values()].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0)).slice(0, options.limit);
  }

  count(): Promise<number> {
    return this.own.count();
  }

  /** The stores belong to the caller. */
  async close(): Promise<void> {}
}
