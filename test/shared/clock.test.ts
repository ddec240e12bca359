import { describe, expect, it, vi, afterEach } from 'vitest';
import { getEventListeners } from 'node:events';
import { ManualClock, MAX_TIMER_MS, systemClock } from '../../src/shared/clock.js';

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

describe('ManualClock', () => {
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
