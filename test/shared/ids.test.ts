import { describe, expect, it } from 'vitest';
import { newUuid } from '../../src/shared/ids.js';

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newUuid', () => {
  it('makes distinct version 4 UUIDs, past the 128 drawn at a time', () => {
    const ids = Array.from({ length: 1000 }, () => newUuid());
    for (const id of ids) expect(id).toMatch(V4);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('uses every hex digit where the UUID is random', () => {
    const seen = new Set(Array.from({ length: 200 }, () => newUuid().replaceAll('-', '')).join(''));
    expect([...seen].sort().join('')).toBe('0123456789abcdef');
  });
});
