import { createHash, randomBytes } from 'node:crypto';
import { open, stat, truncate } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Descriptor } from '../../src/core/descriptor.js';
import { ErrorCode } from '../../src/core/errors.js';
import { HASH_ALONE_BYTES } from '../../src/core/limits.js';
import { MediaType } from '../../src/core/media-types.js';
import { verifyBundle, writeBundle } from '../../src/bundle/index.js';
import { expectIntegrity, tempDir } from './fixtures.js';
import { countingMessages, countingWorkers } from '../helpers/worker-messages.js';

// verify hashes a bundle smaller than HASH_ALONE_BYTES on the calling thread
// and never boots a hashing worker (its boot costs more than the hashing); a
// larger one keeps the worker pool. Either way a damaged blob is refused with
// the same one-line message naming it.

const MiB = 1024 * 1024;
let work: Awaited<ReturnType<typeof tempDir>>;

/** A one-image bundle whose one random layer is `size` bytes; its layer's content starts at the returned offset. */
async function oneLayerBundle(name: string, size: number): Promise<{ path: string; layer: Descriptor; at: number }> {
  const blobs = new Map<string, Buffer>();
  const put = (mediaType: string, bytes: Buffer): Descriptor => {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Descriptor['digest'];
    blobs.set(digest, bytes);
    return { mediaType, digest, size: bytes.length };
  };
  const layerBytes = randomBytes(size);
  const layer = put(MediaType.ociLayer, layerBytes);
  const config = put(MediaType.ociConfig, Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux' })));
  const root = put(MediaType.ociManifest, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: [layer] })));
  const path = `${work.dir}/${name}.tar`;
  await writeBundle({
    images: [{ name: 'registry.example:5000/threads/one:1', root }],
    fetch: async (d) => Readable.from([blobs.get(d.digest) as Buffer]),
    toolVersion: '0.1.0-test',
    out: path,
  });
  // The layer's first 64 KiB, found in the file: where a flipped byte lands inside it.
  const file = await open(path, 'r');
  try {
    const { size: fileSize } = await file.stat();
    const bytes = Buffer.alloc(fileSize);
    await file.read(bytes, 0, fileSize, 0);
    return { path, layer, at: bytes.indexOf(layerBytes.subarray(0, 64 * 1024)) };
  } finally {
    await file.close();
  }
}

/** Flips one byte of the layer's content in place; returns the message verify must give. */
async function damage(bundle: { path: string; layer: Descriptor; at: number }): Promise<string> {
  const file = await open(bundle.path, 'r+');
  try {
    const bytes = Buffer.alloc(bundle.layer.size);
    await file.read(bytes, 0, bytes.length, bundle.at);
    bytes[100] = (bytes[100] as number) ^ 0xff;
    await file.write(bytes, 100, 1, bundle.at + 100);
    const entry = `blobs/sha256/${bundle.layer.digest.slice('sha256:'.length)}`;
    return `${entry}: digest mismatch: expected ${bundle.layer.digest}, got sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  } finally {
    await file.close();
  }
}

beforeAll(async () => {
  work = await tempDir('ferry-verify-threads-');
});

afterAll(async () => {
  await work?.cleanup();
});

describe('verify: hashing threads by bundle size', () => {
  it('a bundle under HASH_ALONE_BYTES starts no worker, and a damaged or cut blob in it is refused by name', async () => {
    const small = await oneLayerBundle('small', HASH_ALONE_BYTES - 2 * MiB);
    expect((await stat(small.path)).size).toBeLessThan(HASH_ALONE_BYTES);
    expect(small.at).toBeGreaterThan(0);
    expect(await countingWorkers(async () => void expect((await verifyBundle(small.path)).blobs).toBe(3))).toBe(0);

    const message = await damage(small);
    let refused: unknown;
    expect(await countingWorkers(async () => void (refused = await verifyBundle(small.path).catch((e: unknown) => e)))).toBe(0);
    const err = await expectIntegrity(Promise.reject(refused), ErrorCode.digestMismatch, small.layer.digest);
    expect(err.message).toBe(message);

    // Cut inside the layer: refused too, naming the bundle and the entry it ends in.
    await truncate(small.path, small.at + MiB);
    const cut = await expectIntegrity(verifyBundle(small.path), ErrorCode.bundleInvalid, `bundle ${small.path} is truncated`);
    expect(cut.message).toContain(small.layer.digest.slice('sha256:'.length));
  });

  it('a larger bundle keeps the worker pool, and is refused with the same message', async () => {
    const large = await oneLayerBundle('large', HASH_ALONE_BYTES);
    let sent = 0;
    const started = await countingWorkers(async () => {
      sent = await countingMessages(async () => void expect((await verifyBundle(large.path)).blobs).toBe(3));
    });
    expect(started).toBeGreaterThan(0);
    expect(sent).toBeGreaterThan(0);

    const message = await damage(large);
    const err = await expectIntegrity(verifyBundle(large.path), ErrorCode.digestMismatch, large.layer.digest);
    expect(err.message).toBe(message);
  });
});
