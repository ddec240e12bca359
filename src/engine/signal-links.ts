/**
 * {@link SignalLinks}: aborts each task the engine runs when the caller's signal aborts, with one
 * listener per caller signal however many tasks share it (no MaxListeners warning) and without a
 * composite AbortSignal.any per task.
 */
export interface Abortable {
  abort(reason: unknown): void;
}

interface Link {
  controllers: Set<Abortable>;
  onAbort(): void;
}

export class SignalLinks {
  private readonly links = new WeakMap<AbortSignal, Link>();

  /** `controller` aborts (with the same reason) when `signal` does; `signal` must not be aborted yet. */
  add(signal: AbortSignal, controller: Abortable): void {
    let link = this.links.get(signal);
    if (!link) {
      const controllers = new Set<Abortable>();
      const onAbort = (): void => {
        this.links.delete(signal);
        for (const c of controllers) c.abort(signal.reason);
      };
      link = { controllers, onAbort };
      this.links.set(signal, link);
      signal.addEventListener('abort', onAbort, { once: true });
    }
    link.controllers.add(controller);
  }

  /** Undoes {@link add} (the last controller of a signal removes its listener). */
  remove(signal: AbortSignal, controller: Abortable): void {
    const link = this.links.get(signal);
    if (!link) return;
    link.controllers.delete(controller);
    if (link.controllers.size > 0) return;
    signal.removeEventListener('abort', link.onAbort);
    this.links.delete(signal);
  }
}
