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
const pairText = Buffer.alloc(73);

/** Writes a new UUID into `out` at `start` (36 bytes). */
function writeUuid(out: Buffer, start: number): void {
  if (next === random.length) {
    randomFillSync(random);
    next = 0;
  }
  const at = next;
  next += 16;
  let j = start;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) out[j++] = 0x2d; // '-'
    let byte = random[at + i] as number;
    if (i === 6) byte = (byte & 0x0f) | 0x40; // version 4
    else if (i === 8) byte = (byte & 0x3f) | 0x80; // variant 10xx (RFC 9562)
    out[j++] = HEX[byte >> 4] as number;
    out[j++] = HEX[byte & 0x0f] as number;
  }
}

export function newUuid(): string {
  writeUuid(text, 0);
  return text.toString('latin1');
}

/** `${newUuid()}:${newUuid()}`, made as one flat string. */
export function newUuidPair(): string {
  writeUuid(pairText, 0);
  pairText[36] = 0x3a; // ':'
  writeUuid(pairText, 37);
  return pairText.toString('latin1');
}
