/**
 * Time, injected. Nothing in the engine or the interpreter reads the wall clock or sets a timer
 * directly: runners receive a Clock, and tests use {@link ManualClock}.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason when `signal` aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('aborted');
}

/** Longest delay setTimeout honours (longer ones fire at once); longer sleeps are chained. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortReason(signal));
        return;
      }
      const due = Date.now() + Math.max(0, ms);
      let timer: ReturnType<typeof setTimeout>;
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(abortReason(signal as AbortSignal));
      };
      const arm = (): void => {
        const left = due - Date.now();
        timer = setTimeout(() => {
          if (due - Date.now() > 0 && left > MAX_TIMER_MS) {
            arm();
            return;
          }
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }, Math.min(Math.max(0, left), MAX_TIMER_MS));
      };
      arm();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};

interface PendingSleep {
  at: number;
  seq: number;
  resolve: () => void;
}

/**
 * A clock that moves only when told to. `advance(ms)` fires every sleep that falls due, in
 * deadline order, letting the promise callbacks of each run before the next fires.
 */
export class ManualClock implements Clock {
  private current: number;
  private seq = 0;
  private pending: PendingSleep[] = [];

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  /** Number of sleeps not yet due. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Deadline of the next pending sleep, if any. */
  nextDeadline(): number | undefined {
    return this.pending.reduce<number | undefined>((min, p) => (min === undefined || p.at < min ? p.at : min), undefined);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortReason(signal));
        return;
      }
      const onAbort = (): void => {
        this.pending = this.pending.filter((p) => p !== entry);
        if (signal) reject(abortReason(signal));
      };
      // a sleep that comes due lets go of the signal (callers sleep on one signal again and again)
      const entry: PendingSleep = {
        at: this.current + Math.max(0, ms),
        seq: this.seq++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      this.pending.push(entry);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Moves time forward by `ms`, firing due sleeps in order. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      await flushMicrotasks();
      const due = this.pending.filter((p) => p.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.pending = this.pending.filter((p) => p !== due);
      this.current = Math.max(this.current, due.at);
      due.resolve();
    }
    this.current = target;
    await flushMicrotasks();
  }

  /** Advances to each pending deadline in turn until nothing is pending (or `maxSteps` is reached). */
  async runAll(maxSteps = 10_000): Promise<void> {
    for (let i = 0; i < maxSteps; i++) {
      await flushMicrotasks();
      const next = this.nextDeadline();
      if (next === undefined) return;
      await this.advance(next - this.current);
    }
  }
}

/** Lets pending promise callbacks (and I/O-free async chains) run. */
export async function flushMicrotasks(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
