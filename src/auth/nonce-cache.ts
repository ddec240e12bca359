/**
 * Replay protection: remembers each signature nonce until the request that carried it can no
 * longer pass the time-window check, driven by the injected clock.
 *
 * Memory is bounded: entries are evicted as soon as they expire (a min-heap by expiry, pruned on
 * every call), and at most `maxEntries` live nonces are kept. When the cache is full of live
 * nonces a new one is REFUSED with `ResourceThrottled` (429, retryable) — forgetting a live nonce
 * would reopen the replay window, so flowrun prefers to shed load. With the default 200,000
 * entries and nonces of at most {@link MAX_NONCE_LENGTH} characters the cache takes about 90 MB of
 * heap when full (measured, worst-case key lengths); full means more than ~220 signed requests a second sustained over the
 * 15-minute window.
 */
import type { Clock } from '../shared/clock.js';
import { authError } from './errors.js';

export const DEFAULT_NONCE_CACHE_ENTRIES = 200_000;

/** Longest nonce accepted (pop-core sends 32 hex characters, Darabonba 32–64, docs suggest a UUID). */
export const MAX_NONCE_LENGTH = 128;

export interface NonceCacheOptions {
  clock: Clock;
  /** Hard cap on live nonces; default {@link DEFAULT_NONCE_CACHE_ENTRIES}. */
  maxEntries?: number;
}

interface Entry {
  key: string;
  expiresAt: number;
}

export class NonceCache {
  private readonly clock: Clock;
  readonly maxEntries: number;
  private readonly live = new Map<string, Entry>();
  /** Min-heap of the live entries by `expiresAt`. */
  private readonly heap: Entry[] = [];

  constructor(options: NonceCacheOptions) {
    const max = options.maxEntries ?? DEFAULT_NONCE_CACHE_ENTRIES;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`NonceCache: maxEntries must be a positive integer, got ${max}`);
    this.clock = options.clock;
    this.maxEntries = max;
  }

  /** Number of live nonces (after evicting the expired ones). */
  get size(): number {
    this.prune();
    return this.live.size;
  }

  /** Whether `key` is remembered and not yet expired. */
  has(key: string): boolean {
    this.prune();
    return this.live.has(key);
  }

  /**
   * Remembers `key` until `expiresAt` (inclusive, clock milliseconds). Returns false when the key
   * is already remembered (a replay); throws `ResourceThrottled` when the cache is full of live
   * nonces. An `expiresAt` already past is not stored (nothing can replay it).
   */
  remember(key: string, expiresAt: number): boolean {
    this.prune();
    if (this.live.has(key)) return false;
    if (expiresAt < this.clock.now()) return true;
    if (this.live.size >= this.maxEntries) {
      throw authError('ResourceThrottled', { reason: 'Too many signed requests within the replay window; retry later.' });
    }
    const entry: Entry = { key, expiresAt };
    this.live.set(key, entry);
    this.push(entry);
    return true;
  }

  /** Evicts every expired entry; returns how many were evicted. */
  prune(): number {
    const now = this.clock.now();
    let evicted = 0;
    for (;;) {
      const top = this.heap[0];
      if (top === undefined || top.expiresAt >= now) break;
      this.pop();
      if (this.live.get(top.key) === top) this.live.delete(top.key);
      evicted++;
    }
    return evicted;
  }

  private push(entry: Entry): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as Entry;
      if (p.expiresAt <= entry.expiresAt) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    let i = 0;
    const n = heap.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const left = heap[l] as Entry;
      const right = heap[r];
      const child = right !== undefined && right.expiresAt < left.expiresAt ? r : l;
      const c = heap[child] as Entry;
      if (c.expiresAt >= last.expiresAt) break;
      heap[i] = c;
      i = child;
    }
    heap[i] = last;
  }
}
