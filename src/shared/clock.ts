/**
 * Time, injected. Nothing in the engine or the interpreter reads the wall clock or sets a timer
 * directly: runners receive a Clock, and tests use {@link ManualClock}.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason when `signal` aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * Calls `fire` once after `ms`, unless the timer is cancelled first: a sleep without a promise
   * and without an AbortSignal, for the timers set and mostly cancelled by the thousand (an
   * execution's deadline, a Task's timeout). In Node 20, making an AbortController and aborting
   * it costs several microseconds, and tens when that code has gone cold. Optional: for a clock
   * without it, {@link setTimer} sleeps with an AbortController instead.
   */
  timer?(ms: number, fire: () => void): Timer;
}

/** A timer set with {@link Clock.timer}. */
export interface Timer {
  /** Stops the timer (nothing happens if it fired already). */
  cancel(): void;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('aborted');
}

/** `clock.timer(ms, fire)`, or the same made of `clock.sleep` for a clock without `timer`. */
export function setTimer(clock: Clock, ms: number, fire: () => void): Timer {
  if (clock.timer) return clock.timer(ms, fire);
  const controller = new AbortController();
  clock.sleep(ms, controller.signal).then(fire, () => undefined);
  return { cancel: () => controller.abort(TIMER_CANCELLED) };
}

/** Why a timer made of a sleep is cancelled (one reason: no DOMException with a stack per cancel). */
const TIMER_CANCELLED = new Error('timer cancelled');

/** Longest delay setTimeout honours (longer ones fire at once); longer sleeps are chained. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** {@link Clock.timer} on the system clock: setTimeout, chained past {@link MAX_TIMER_MS}. */
class SystemTimer implements Timer {
  private handle: ReturnType<typeof setTimeout> | undefined;
  /** The delay set was cut to MAX_TIMER_MS: on time out, set the rest. */
  private clamped = false;
  private readonly due: number;

  constructor(
    ms: number,
    readonly fire: () => void,
  ) {
    this.due = Date.now() + Math.max(0, ms);
    this.arm(ms);
  }

  arm(left: number): void {
    this.clamped = left > MAX_TIMER_MS;
    // the timer rides along as setTimeout's argument: no closure per timer
    this.handle = setTimeout(onSystemTimeout, Math.min(Math.max(0, left), MAX_TIMER_MS), this);
  }

  timedOut(): void {
    const left = this.due - Date.now();
    if (this.clamped && left > 0) {
      this.arm(left);
      return;
    }
    this.handle = undefined;
    this.fire();
  }

  cancel(): void {
    if (this.handle === undefined) return;
    clearTimeout(this.handle);
    this.handle = undefined;
  }
}

function onSystemTimeout(timer: SystemTimer): void {
  timer.timedOut();
}

export const systemClock: Required<Clock> = {
  now: () => Date.now(),
  timer: (ms, fire) => new SystemTimer(ms, fire),
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

  /** Number of sleeps and timers not yet due. */
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

  timer(ms: number, fire: () => void): Timer {
    const entry: PendingSleep = { at: this.current + Math.max(0, ms), seq: this.seq++, resolve: fire };
    this.pending.push(entry);
    return {
      cancel: () => {
        this.pending = this.pending.filter((p) => p !== entry);
      },
    };
  }

  /** Moves time forward by `ms`, firing due sleeps (and timers) in order. */
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
