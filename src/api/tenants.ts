/**
 * Tenant isolation (README, "Security"): with access keys, every verified account gets its own
 * services, made lazily on its first request and kept: a FlowService over its flows (plus the
 * shared ones, see ../fnf/tenant-store.ts) with its own window of recent express executions, a
 * StandardFlowService and an OOS service scoped to the account. They share the one execution
 * store, durable runner, task engine and runtime. Without keys every request is the anonymous
 * account '' and uses the root services, as before.
 */
import type { StandardFlowService } from '../executions/standard-flows.js';
import type { OosExecutionService } from '../executions/oos/index.js';
import type { FlowService, ServiceStats } from '../fnf/service.js';

export interface TenantServices {
  service: FlowService;
  standard?: StandardFlowService | undefined;
  oos?: OosExecutionService | undefined;
}

export class TenantRegistry {
  private readonly pending = new Map<string, Promise<TenantServices>>();
  private readonly made: TenantServices[] = [];

  constructor(
    private readonly root: TenantServices,
    private readonly make: (account: string) => Promise<TenantServices>,
  ) {}

  /** The services of `account` ('' is the root's). */
  readonly get = (account: string): Promise<TenantServices> => {
    if (account === '') return Promise.resolve(this.root);
    let services = this.pending.get(account);
    if (!services) {
      services = this.make(account).then((s) => {
        this.made.push(s);
        return s;
      });
      services.catch(() => this.pending.delete(account));
      this.pending.set(account, services);
    }
    return services;
  };

  /** Every account's services made so far (the root's not included). */
  tenants(): readonly TenantServices[] {
    return this.made;
  }

  /** Executions running and queued, over every account. */
  readonly stats = (): ServiceStats => {
    let running = 0;
    let queued = 0;
    for (const t of [this.root, ...this.made]) {
      const s = t.service.stats();
      running += s.running;
      queued += s.queued;
    }
    return { running, queued };
  };
}
