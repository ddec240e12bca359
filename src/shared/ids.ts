/**
 * Random (version 4) UUIDs, as `crypto.randomUUID` makes them — from the same cryptographic
 * random source, also drawn 128 UUIDs at a time — but as one flat string. `randomUUID` builds
 * its result by concatenating 20 pieces, a tree V8 keeps until something flattens it (about 600
 * bytes, and a copy when it is flattened); a request makes three (its RequestId, the two halves
 * of an execution name).
 */
import { randomFillSync } from 'node:crypto';

const UUIDS_PER_DRAW = 128;
const random = Buffer.alloc(16 * UUIDS_PER_DRAW);
let next = random.length;
const HEX = Buffer.from('0123456789abcdef', 'latin1');
const text = Buffer.alloc(36);

export function newUuid(): string {
  if (next === random.length) {
    randomFillSync(random);
    next = 0;
  }
  const at = next;
  next += 16;
  let j = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text[j++] = 0x2d; // '-'
    let byte = random[at + i] as number;
    if (i === 6) byte = (byte & 0x0f) | 0x40; // version 4
    else if (i === 8) byte = (byte & 0x3f) | 0x80; // variant 10xx (RFC 9562)
    text[j++] = HEX[byte >> 4] as number;
    text[j++] = HEX[byte & 0x0f] as number;
  }
  return text.toString('latin1');
}
