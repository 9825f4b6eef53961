import { statSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBlobRange, TarSpan, type BlobRange } from '../../src/bundle/index.js';
import type { DbBlob } from '../../src/bundle/manifest-db.js';
import type { Descriptor } from '../../src/core/descriptor.js';
import type { Digest } from '../../src/core/digest.js';
import type { VerifyStream } from '../../src/core/hashing.js';
import { isVerifiedAs } from '../../src/core/verified-stream.js';
import { countingStream } from '../../src/transfer/counting-stream.js';

// Issue 16 (import against the floor): an import's lane opens a blob's byte
// range, then asks the registry for an upload session (POST), then sends the
// bytes (PUT). Nothing of the blob is read or hashed before the PUT reads it:
// at the start of an import four lanes' read-ahead was hashed while their
// POSTs waited, and held up the first PUTs. The bytes still flow, verified and
// counted, once read; a body that fails before that fails the counter.

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await sleep(5);
};

async function sha256Of(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

describe('bodies read when their consumer reads', () => {
  let dir: string;
  let path: string;
  let range: BlobRange;
  const bytes = randomBytes(3 * 1024 * 1024 + 5);
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest;
  const descriptor: Descriptor = { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest, size: bytes.length };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-lazy-bodies-'));
    path = join(dir, 'blobs.bin');
    // The blob's bytes after 1,536 bytes of something else, as in a bundle.
    await writeFile(path, Buffer.concat([randomBytes(1536), bytes, randomBytes(512)]));
    range = { blob: { descriptor, kind: 'layer', included: true } as unknown as DbBlob, entry: `blobs/sha256/${digest.slice(7)}`, start: 1536 };
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a bundle range reads and hashes nothing until it is read, then gives the blob, verified', async () => {
    const stream = openBlobRange(TarSpan.file(path, statSync(path).size), range);
    await settle();
    expect((stream as VerifyStream).bytes, 'bytes hashed before the first read').toBe(0);
    expect(await sha256Of(stream)).toBe(digest);
    expect((stream as VerifyStream).bytes).toBe(bytes.length);
  });

  it('a lazily counted body (an upload) is not read until the counter is, and counts what then flows', async () => {
    let reads = 0;
    const source = openBlobRange(TarSpan.file(path, statSync(path).size), range);
    const body = new Readable({
      read() {
        reads += 1;
        source.once('readable', () => {
          let chunk: Buffer | null;
          while ((chunk = source.read() as Buffer | null) !== null) this.push(chunk);
        });
        source.once('end', () => this.push(null));
        if (source.readableEnded) this.push(null);
      },
    });
    const seen: number[] = [];
    const counted = countingStream(
      body,
      descriptor,
      (e) => {
        if (e.type === 'bytes') seen.push(e.bytes);
      },
      { lazy: true },
    );
    await settle();
    expect(reads, 'reads of the body before the counter was read').toBe(0);
    expect((source as VerifyStream).bytes, 'bytes of the range hashed before the counter was read').toBe(0);
    expect(await sha256Of(counted.stream)).toBe(digest);
    expect(counted.moved()).toBe(bytes.length);
    expect(seen.reduce((n, b) => n + b, 0)).toBe(bytes.length);
  });

  it('a verified range stays verified through the counter', () => {
    const counted = countingStream(openBlobRange(TarSpan.file(path, statSync(path).size), range), descriptor, () => undefined, { lazy: true });
    expect(isVerifiedAs(counted.stream, descriptor)).toBe(true);
    counted.stream.destroy();
  });

  it('a body that fails before the counter is read fails the counter, and a counter given up ends its body', async () => {
    const failing = new Readable({ read() {} });
    const counted = countingStream(failing, descriptor, () => undefined, { lazy: true });
    const failed = new Promise<Error>((resolve) => counted.stream.once('error', resolve));
    failing.destroy(new Error('the stick went away'));
    expect((await failed).message).toBe('the stick went away');

    const idle = new Readable({ read() {} });
    const dropped = countingStream(idle, descriptor, () => undefined, { lazy: true });
    dropped.stream.destroy();
    await settle();
    expect(idle.destroyed).toBe(true);
  });
});
