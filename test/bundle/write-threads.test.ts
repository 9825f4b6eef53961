import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBundle, writeBundle, type BundleImageInput } from '../../src/bundle/index.js';
import type { Descriptor } from '../../src/core/descriptor.js';
import { ErrorCode } from '../../src/core/errors.js';
import { HASH_ALONE_BYTES } from '../../src/core/limits.js';
import { MediaType } from '../../src/core/media-types.js';
import { countingWorkers } from '../helpers/worker-messages.js';
import { expectIntegrity, tempDir } from './fixtures.js';

// The writer copies a single-file bundle from local files (the store's) on the
// calling thread alone when it carries fewer than HASH_ALONE_BYTES (a worker
// costs more to boot than the copy), on the worker pool otherwise; either way
// every blob is checked as it is copied.

const MiB = 1024 * 1024;
let work: Awaited<ReturnType<typeof tempDir>>;
let seq = 0;

beforeAll(async () => {
  work = await tempDir('ferry-write-threads-');
});
afterAll(async () => {
  await work?.cleanup();
});

/** One image of one random layer of `size` bytes, each blob in its own local file. */
async function oneLayerImage(size: number): Promise<{ image: BundleImageInput; layer: Descriptor; fileOf: (d: Descriptor) => string }> {
  const dir = join(work.dir, `blobs-${(seq += 1)}`);
  await mkdir(dir);
  const fileOf = (d: Descriptor): string => join(dir, d.digest.slice('sha256:'.length));
  const put = async (mediaType: string, bytes: Buffer): Promise<Descriptor> => {
    const desc: Descriptor = { mediaType, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Descriptor['digest'], size: bytes.length };
    await writeFile(fileOf(desc), bytes);
    return desc;
  };
  const layer = await put(MediaType.ociLayer, randomBytes(size));
  const config = await put(MediaType.ociConfig, Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux' })));
  const root = await put(MediaType.ociManifest, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: [layer] })));
  return { image: { name: `registry.example:5000/threads/w${seq}:1`, root }, layer, fileOf };
}

/** The writer as export calls it: local files for every blob, and a source that must not be asked. */
function write(image: BundleImageInput, fileOf: (d: Descriptor) => string, out: string, hashedHere?: (d: Descriptor) => boolean, split?: number): Promise<unknown> {
  return writeBundle({
    images: [image],
    fetch: async (d) => Readable.from([Buffer.from(`asked the source for ${d.digest}`)]),
    localFile: fileOf,
    ...(hashedHere ? { hashedHere } : {}),
    ...(split ? { split } : {}),
    toolVersion: '0.1.0-test',
    out,
  });
}

/** Flips one bit of the file: same size, another digest. */
async function rot(file: string): Promise<void> {
  const bytes = await readFile(file);
  bytes[123] = (bytes[123] as number) ^ 1;
  await writeFile(file, bytes);
}

describe('write: copying threads by bundle size', () => {
  it('a bundle under HASH_ALONE_BYTES is copied with no worker started, and verifies', async () => {
    const { image, fileOf } = await oneLayerImage(HASH_ALONE_BYTES - 2 * MiB);
    const out = join(work.dir, 'small.tar');
    expect(await countingWorkers(() => write(image, fileOf, out).then(() => undefined))).toBe(0);
    expect((await verifyBundle(out)).blobs).toBe(3);
  });

  it('a larger one is copied on the worker pool, and verifies', async () => {
    const { image, fileOf } = await oneLayerImage(HASH_ALONE_BYTES + MiB);
    const out = join(work.dir, 'large.tar');
    expect(await countingWorkers(() => write(image, fileOf, out).then(() => undefined))).toBeGreaterThan(0);
    expect((await verifyBundle(out)).blobs).toBe(3);
  });

  it('a rotted layer file in a small bundle is refused by name, and no file is left', async () => {
    const { image, layer, fileOf } = await oneLayerImage(4 * MiB);
    await rot(fileOf(layer));
    const dir = join(work.dir, `rotted-${(seq += 1)}`);
    await mkdir(dir);
    await expectIntegrity(write(image, fileOf, join(dir, 'b.tar')), ErrorCode.digestMismatch, layer.digest);
    expect(await readdir(dir)).toEqual([]);
  });
});

// A blob this process hashed as it wrote it (export's fresh pulls: hashedHere) is
// copied with its size checked, not hashed again; every other blob still is.
describe('write: blobs hashed as they were written', () => {
  it('are copied without a second hash: a same-size change goes through, and verify names it', async () => {
    const { image, layer, fileOf } = await oneLayerImage(4 * MiB);
    await rot(fileOf(layer));
    const out = join(work.dir, `trusted-${(seq += 1)}.tar`);
    await write(image, fileOf, out, (d) => d.digest === layer.digest);
    await expectIntegrity(verifyBundle(out), ErrorCode.digestMismatch, layer.digest);
  });

  it('still have their size checked: a longer file is refused by name, and no file is left', async () => {
    const { image, layer, fileOf } = await oneLayerImage(4 * MiB);
    await writeFile(fileOf(layer), Buffer.concat([await readFile(fileOf(layer)), Buffer.from('x')]));
    const dir = join(work.dir, `longer-${(seq += 1)}`);
    await mkdir(dir);
    await expectIntegrity(write(image, fileOf, join(dir, 'b.tar'), (d) => d.digest === layer.digest), ErrorCode.sizeMismatch, layer.digest);
    expect(await readdir(dir)).toEqual([]);
  });

  it('need no worker however large, and the bundle verifies', async () => {
    const { image, layer, fileOf } = await oneLayerImage(HASH_ALONE_BYTES + 8 * MiB);
    const out = join(work.dir, `large-trusted-${(seq += 1)}.tar`);
    expect(await countingWorkers(() => write(image, fileOf, out, (d) => d.digest === layer.digest).then(() => undefined))).toBe(0);
    expect((await verifyBundle(out)).blobs).toBe(3);
  });

  it('in volumes too (written in tar order): a same-size change goes through, a longer file is refused by name', async () => {
    const { image, layer, fileOf } = await oneLayerImage(4 * MiB);
    await rot(fileOf(layer));
    const out = join(work.dir, `split-trusted-${(seq += 1)}.tar`);
    await write(image, fileOf, out, (d) => d.digest === layer.digest, MiB);
    await expectIntegrity(verifyBundle(out), ErrorCode.digestMismatch, layer.digest);
    await writeFile(fileOf(layer), Buffer.concat([await readFile(fileOf(layer)), Buffer.from('x')]));
    const dir = join(work.dir, `split-longer-${(seq += 1)}`);
    await mkdir(dir);
    await expectIntegrity(write(image, fileOf, join(dir, 'b.tar'), (d) => d.digest === layer.digest, MiB), ErrorCode.sizeMismatch, layer.digest);
    expect(await readdir(dir)).toEqual([]);
  });

  it('leave the others hashed: a rotted blob not named is refused', async () => {
    const { image, layer, fileOf } = await oneLayerImage(4 * MiB);
    await rot(fileOf(layer));
    const dir = join(work.dir, `others-${(seq += 1)}`);
    await mkdir(dir);
    await expectIntegrity(write(image, fileOf, join(dir, 'b.tar'), (d) => d.digest !== layer.digest), ErrorCode.digestMismatch, layer.digest);
    expect(await readdir(dir)).toEqual([]);
  });
});
