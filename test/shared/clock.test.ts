import { describe, expect, it, vi, afterEach } from 'vitest';
import { getEventListeners } from 'node:events';
import { ManualClock, MAX_TIMER_MS, setTimer, systemClock } from '../../src/shared/clock.js';
import type { Clock } from '../../src/shared/clock.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('systemClock.sleep', () => {
  it('waits the whole delay even past the longest setTimeout (chained timers)', async () => {
    vi.useFakeTimers();
    let done = false;
    const p = systemClock.sleep(MAX_TIMER_MS + 10_000).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(MAX_TIMER_MS);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(10_000);
    await p;
    expect(done).toBe(true);
  });

  it('rejects with the abort reason', async () => {
    const ac = new AbortController();
    const p = systemClock.sleep(60_000, ac.signal);
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
  });
});

describe('systemClock.timer', () => {
  it('fires once after its delay, even past the longest setTimeout (chained)', async () => {
    vi.useFakeTimers();
    let fired = 0;
    systemClock.timer(MAX_TIMER_MS + 10_000, () => fired++);
    await vi.advanceTimersByTimeAsync(MAX_TIMER_MS);
    expect(fired).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(fired).toBe(1);
    await vi.advanceTimersByTimeAsync(MAX_TIMER_MS + 10_000);
    expect(fired).toBe(1);
  });

  it('never fires once cancelled (before its time, or past the first chained part), and cancelling twice is harmless', async () => {
    vi.useFakeTimers();
    let fired = 0;
    const short = systemClock.timer(1000, () => fired++);
    short.cancel();
    const long = systemClock.timer(MAX_TIMER_MS + 10_000, () => fired++);
    await vi.advanceTimersByTimeAsync(MAX_TIMER_MS + 1);
    long.cancel();
    long.cancel();
    await vi.advanceTimersByTimeAsync(MAX_TIMER_MS);
    expect(fired).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('setTimer', () => {
  it('uses sleep for a clock without timer: fires after the delay, or never once cancelled', async () => {
    const manual = new ManualClock();
    const sleepOnly: Clock = { now: () => manual.now(), sleep: (ms, signal) => manual.sleep(ms, signal) };
    let fired = 0;
    setTimer(sleepOnly, 100, () => fired++);
    const cancelled = setTimer(sleepOnly, 50, () => (fired += 10));
    cancelled.cancel();
    await manual.advance(200);
    expect(fired).toBe(1);
    expect(manual.pendingCount).toBe(0);
  });
});

describe('ManualClock', () => {
  it('fires timers with the sleeps, in deadline order, and forgets cancelled ones', async () => {
    const clock = new ManualClock();
    const order: string[] = [];
    clock.timer(300, () => order.push('timer 300'));
    const cancelled = clock.timer(100, () => order.push('cancelled'));
    void clock.sleep(200).then(() => order.push('sleep 200'));
    clock.timer(50, () => order.push('timer 50'));
    cancelled.cancel();
    expect(clock.pendingCount).toBe(3);
    await clock.advance(1000);
    expect(order).toEqual(['timer 50', 'sleep 200', 'timer 300']);
    expect(clock.pendingCount).toBe(0);
  });

  it('fires sleeps in deadline order as time advances', async () => {
    const clock = new ManualClock(0);
    const order: number[] = [];
    void clock.sleep(30).then(() => order.push(30));
    void clock.sleep(10).then(() => order.push(10));
    await clock.advance(20);
    expect(order).toEqual([10]);
    await clock.advance(10);
    expect(order).toEqual([10, 30]);
    expect(clock.now()).toBe(30);
  });

  it('a sleep that comes due lets go of its signal: sleeping on one signal again and again adds no listeners', async () => {
    const clock = new ManualClock(0);
    const controller = new AbortController();
    const signal = controller.signal;
    for (let i = 0; i < 20; i++) {
      const slept = clock.sleep(5, signal);
      await clock.advance(5);
      await slept;
      expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    }
    // an abort still rejects a pending sleep
    const pending = clock.sleep(5, signal);
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
  });
});
