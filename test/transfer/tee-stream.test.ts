import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { teeStream } from '../../src/transfer/tee-stream.js';

// One read of a blob, several pushes (import into a registry that refuses mounts).

async function digestOf(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function chunked(bytes: Buffer, size = 64 * 1024): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  return Readable.from(parts, { objectMode: false });
}

describe('teeStream', () => {
  it('every copy gets every byte, a slow one holding the others back rather than piling up', async () => {
    const bytes = randomBytes(4 * 1024 * 1024 + 3);
    const source = chunked(bytes);
    const copies = teeStream(source, 3);
    let emitted = 0;
    let consumedBySlow = 0;
    let ahead = 0;
    source.on('data', (chunk: Buffer) => {
      emitted += chunk.length;
      ahead = Math.max(ahead, emitted - consumedBySlow);
    });
    const slow = async (stream: Readable): Promise<string> => {
      const hash = createHash('sha256');
      for await (const chunk of stream) {
        hash.update(chunk as Buffer);
        consumedBySlow += (chunk as Buffer).length;
        await sleep(1);
      }
      return hash.digest('hex');
    };
    const want = createHash('sha256').update(bytes).digest('hex');
    const [a, b, c] = await Promise.all(copies.map((copy, i) => (i === 1 ? slow(copy) : digestOf(copy))));
    expect([a, b, c]).toEqual([want, want, want]);
    // The source never ran ahead of the slow copy by more than a few buffers (without back-pressure: all 4 MiB).
    expect(ahead).toBeLessThan(512 * 1024);
  });

  it('a failing source fails every copy', async () => {
    const source = new Readable({ read() {} });
    const copies = teeStream(source, 2);
    source.push(Buffer.alloc(10));
    source.destroy(new Error('the stick is damaged'));
    for (const copy of copies) await expect(digestOf(copy)).rejects.toThrow('the stick is damaged');
  });

  it('a copy given up by its consumer fails the others and stops the source', async () => {
    const source = chunked(randomBytes(2 * 1024 * 1024));
    const [quitter, other] = teeStream(source, 2) as [Readable, Readable];
    const reading = digestOf(other);
    quitter.destroy(new Error('the registry refused the push'));
    await expect(reading).rejects.toThrow('the registry refused the push');
    expect(source.destroyed).toBe(true);
  });
});
