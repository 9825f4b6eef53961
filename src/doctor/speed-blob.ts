import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { MediaType, type Descriptor, type Digest } from '../core/index.js';

// The speed test's blob: SIZE bytes that no proxy or registry can compress or
// deduplicate (an AES-CTR keystream under a fresh random key), produced in 1 MiB
// chunks and never held whole. The same key gives the same bytes again, so the
// digest is computed in a first, untimed pass and the push streams a second.

const CHUNK = 1024 * 1024;

export interface SpeedBlob {
  readonly descriptor: Descriptor;
  /** A fresh stream of exactly the blob's bytes. */
  open(): Readable;
}

function keystream(key: Buffer, iv: Buffer, size: number): Readable {
  const cipher = createCipheriv('aes-128-ctr', key, iv);
  const zeros = Buffer.alloc(CHUNK);
  let left = size;
  return new Readable({
    read() {
      if (left <= 0) {
        this.push(null);
        return;
      }
      const n = Math.min(CHUNK, left);
      left -= n;
      this.push(cipher.update(n === CHUNK ? zeros : zeros.subarray(0, n)));
    },
  });
}

export async function makeSpeedBlob(size: number): Promise<SpeedBlob> {
  const key = randomBytes(16);
  const iv = randomBytes(16);
  const hash = createHash('sha256');
  for await (const chunk of keystream(key, iv, size)) hash.update(chunk as Buffer);
  const digest = `sha256:${hash.digest('hex')}` as Digest;
  return { descriptor: { mediaType: MediaType.ociLayer, digest, size }, open: () => keystream(key, iv, size) };
}
