import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { parseDigest } from '../../src/core/digest.js';
import { verifyStream } from '../../src/core/hashing.js';
import { HoldLastChunk } from '../../src/k8s/hold-last-chunk.js';

// Why preload never hands ctr all of a bad blob: the verifier's verdict comes
// after the last byte, so the last chunk waits for it.

async function deliver(chunks: Buffer[], expected: Buffer): Promise<{ received: number; error: unknown }> {
  let received = 0;
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      received += chunk.length;
      cb();
    },
  });
  const digest = parseDigest(`sha256:${createHash('sha256').update(expected).digest('hex')}`);
  const error = await pipeline(Readable.from(chunks), verifyStream({ digest, size: expected.length }, 'blob'), new HoldLastChunk(), sink).then(
    () => undefined,
    (e: unknown) => e,
  );
  return { received, error };
}

describe('HoldLastChunk after a verifying stream', () => {
  const good = [Buffer.alloc(1000, 1), Buffer.alloc(1000, 2), Buffer.alloc(500, 3)];
  const all = Buffer.concat(good);

  it('passes every byte of a blob that verifies', async () => {
    expect(await deliver(good, all)).toEqual({ received: all.length, error: undefined });
  });

  it('withholds the last chunk of a blob whose digest does not match', async () => {
    const bad = [good[0] as Buffer, good[1] as Buffer, Buffer.alloc(500, 4)];
    const { received, error } = await deliver(bad, all);
    expect(error).toBeInstanceOf(Error);
    expect(received).toBe(2000);
  });
});
