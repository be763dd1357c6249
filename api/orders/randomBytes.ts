/**
 * Random bytes for order ids and token salts, drawn from the CSPRNG 4 KiB at a time.
 *
 * Every order needs 32 random bytes, and each crypto.randomBytes call is a trip into OpenSSL
 * (and, on a virtual machine, often the kernel), a visible share of an order's CPU time in the
 * intake benchmark's profile. Node's own randomUUID keeps such a cache for the same reason. The
 * bytes are the same CSPRNG's; every caller gets a copy of bytes nobody else was given, and a
 * used block is never refilled.
 */
import { randomFillSync } from 'node:crypto';

const BLOCK_BYTES = 4096;

export function makeRandomBytes(): (size: number) => Buffer {
  let block = Buffer.alloc(0);
  let used = 0;
  return (size) => {
    if (size > BLOCK_BYTES) return randomFillSync(Buffer.alloc(size));
    if (used + size > block.length) {
      block = randomFillSync(Buffer.allocUnsafe(BLOCK_BYTES));
      used = 0;
    }
    const bytes = Buffer.from(block.subarray(used, used + size));
    used += size;
    return bytes;
  };
}
