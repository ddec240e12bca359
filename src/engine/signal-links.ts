/**
 * {@link SignalLinks}: aborts the tasks the engine runs when their caller's signal aborts, with one
 * listener per caller signal however many tasks share it (no MaxListeners warning), without a
 * composite AbortSignal.any per task, and without a collection of tasks per signal: the signal
 * keeps a count, and on abort the engine looks for the tasks holding that signal (an abort is
 * rare; adding a task and removing it happen for every task).
 */
interface Link {
  count: number;
  onAbort(): void;
}

export class SignalLinks {
  private readonly links = new WeakMap<AbortSignal, Link>();

  /** @param abortTasksOf aborts every task linked to `signal` (with `signal.reason`). */
  constructor(private readonly abortTasksOf: (signal: AbortSignal) => void) {}

  /** One more task aborts when `signal` does; `signal` must not be aborted yet. */
  add(signal: AbortSignal): void {
    const link = this.links.get(signal);
    if (link) {
      link.count++;
      return;
    }
    const onAbort = (): void => {
      this.links.delete(signal);
      this.abortTasksOf(signal);
    };
    this.links.set(signal, { count: 1, onAbort });
    signal.addEventListener('abort', onAbort, { once: true });
  }

  /** Undoes {@link add} (the last task of a signal removes its listener). */
  remove(signal: AbortSignal): void {
    const link = this.links.get(signal);
    if (!link) return;
    if (--link.count > 0) return;
    signal.removeEventListener('abort', link.onAbort);
    this.links.delete(signal);
  }
}
