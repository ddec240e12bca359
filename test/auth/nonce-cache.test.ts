/**
 * NonceCache: replay detection, expiry driven by the injected clock, a hard cap that refuses
 * (429 ResourceThrottled) instead of forgetting live nonces.
 */
import { describe, expect, it } from 'vitest';
import { NonceCache } from '../../src/auth/index.js';
import { ManualClock } from '../../src/shared/clock.js';
import { T0, thrown } from './helpers.js';

describe('NonceCache', () => {
  it('remembers a nonce until its expiry (inclusive), then forgets it', async () => {
    const clock = new ManualClock(T0);
    const cache = new NonceCache({ clock });
    expect(cache.remember('a', T0 + 1000)).toBe(true);
    expect(cache.remember('a', T0 + 5000)).toBe(false);
    expect(cache.has('a')).toBe(true);
    await clock.advance(1000);
    expect(cache.has('a')).toBe(true);
    expect(cache.remember('a', T0 + 5000)).toBe(false);
    await clock.advance(1);
    expect(cache.has('a')).toBe(false);
    expect(cache.size).toBe(0);
    expect(cache.remember('a', T0 + 5000)).toBe(true);
  });

  it('does not store a nonce whose expiry is already past', () => {
    const clock = new ManualClock(T0);
    const cache = new NonceCache({ clock });
    expect(cache.remember('old', T0 - 1)).toBe(true);
    expect(cache.size).toBe(0);
  });

  it('when full of live nonces it refuses new ones with ResourceThrottled (429, retryable) and keeps the old ones', async () => {
    const clock = new ManualClock(T0);
    const cache = new NonceCache({ clock, maxEntries: 3 });
    expect(cache.remember('n1', T0 + 100)).toBe(true);
    expect(cache.remember('n2', T0 + 300)).toBe(true);
    expect(cache.remember('n3', T0 + 200)).toBe(true);
    const err = thrown(() => cache.remember('n4', T0 + 1000));
    expect(err.code).toBe('ResourceThrottled');
    expect(err.retryable).toBe(true);
    expect(err.details?.['status']).toBe(429);
    // A replay is still detected while full.
    expect(cache.remember('n2', T0 + 1000)).toBe(false);
    expect(cache.size).toBe(3);
    // Once the earliest expires there is room again.
    await clock.advance(101);
    expect(cache.remember('n4', T0 + 1000)).toBe(true);
    expect(cache.has('n1')).toBe(false);
    expect(cache.has('n2') && cache.has('n3') && cache.has('n4')).toBe(true);
  });

  it('evicts exactly the expired entries whatever the insertion order (against a naive model)', async () => {
    const clock = new ManualClock(T0);
    const cache = new NonceCache({ clock, maxEntries: 10_000 });
    const model = new Map<string, number>();
    let seed = 12345;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let step = 0; step < 60; step++) {
      for (let i = 0; i < 50; i++) {
        const key = `k${Math.floor(random() * 2000)}`;
        const expiresAt = clock.now() + Math.floor(random() * 30_000);
        const live = model.has(key) && (model.get(key) as number) >= clock.now();
        expect(cache.remember(key, expiresAt)).toBe(!live);
        if (!live) model.set(key, expiresAt);
      }
      await clock.advance(Math.floor(random() * 2000));
      for (const [key, at] of model) if (at < clock.now()) model.delete(key);
      expect(cache.size).toBe(model.size);
    }
    await clock.advance(60_000);
    expect(cache.size).toBe(0);
  });

  it('rejects a nonsensical cap', () => {
    expect(() => new NonceCache({ clock: new ManualClock(), maxEntries: 0 })).toThrow(RangeError);
  });
});
