/** Deterministic randomness for benchmark fixtures, so every run measures the same store or table. */
import { createCipheriv } from 'node:crypto';

/** mulberry32: small, fast, deterministic; numbers in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `bytes` of AES-CTR keystream under a key filled with `keyByte`: incompressible, deterministic file contents. */
export function contentPool(keyByte: number, bytes = 64 * 1024 * 1024): Buffer {
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, keyByte), Buffer.alloc(16, 0));
  return Buffer.concat([cipher.update(Buffer.alloc(bytes)), cipher.final()]);
}
