import { appendFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBundle } from '../../src/bundle/index.js';
import type { Descriptor } from '../../src/core/descriptor.js';
import type { Digest } from '../../src/core/digest.js';
import { ErrorCode } from '../../src/core/errors.js';
import { MAX_MANIFEST_BYTES } from '../../src/core/limits.js';
import { MediaType } from '../../src/core/media-types.js';
import { expectIntegrity, fetchFrom, fullName, imageInput, OCI_IMAGES, tempDir, testImages } from './fixtures.js';

// The writer reads manifests and configs from the local files it is given
// (the store's) at once, instead of streaming each from its source: checked
// as the streamed ones are, the source asked only for what has no file.

let work: Awaited<ReturnType<typeof tempDir>>;
let seq = 0;
beforeAll(async () => {
  work = await tempDir('ferry-local-metadata-');
});
afterAll(async () => {
  await work.cleanup();
});

/** Every blob of the rig in its own file, as the store keeps them; the map from descriptor to file. */
async function localFiles(): Promise<{ dir: string; fileOf: (desc: Descriptor) => string }> {
  const { blobs } = await testImages();
  const dir = join(work.dir, `blobs-${(seq += 1)}`);
  await mkdir(dir);
  for (const [digest, bytes] of blobs.bytes) await writeFile(join(dir, digest.slice('sha256:'.length)), bytes);
  return { dir, fileOf: (desc) => join(dir, desc.digest.slice('sha256:'.length)) };
}

async function outDir(): Promise<string> {
  const dir = join(work.dir, `out-${(seq += 1)}`);
  await mkdir(dir);
  return dir;
}

describe('manifests and configs from local files', () => {
  it('are read from their files, the source asked for nothing, and the bundle is byte for byte the streamed one', async () => {
    const { set, blobs } = await testImages();
    const images = OCI_IMAGES.map((k) => imageInput(set, k));
    const streamed = join(await outDir(), 'b.tar');
    await writeBundle({ images, fetch: fetchFrom(blobs).fetch, out: streamed, toolVersion: 't' });
    const { fileOf } = await localFiles();
    const source = fetchFrom(blobs);
    const local = join(await outDir(), 'b.tar');
    await writeBundle({ images, fetch: source.fetch, localFile: fileOf, out: local, toolVersion: 't' });
    expect([...source.calls.keys()]).toEqual([]);
    expect((await readFile(local)).equals(await readFile(streamed))).toBe(true);
  });

  it('a manifest file whose bytes rotted is refused, naming it, and nothing is written', async () => {
    const { set, blobs } = await testImages();
    const { fileOf } = await localFiles();
    const root = set.images.appB;
    const bytes = await readFile(fileOf(root));
    bytes[10] = (bytes[10] as number) ^ 1;
    await writeFile(fileOf(root), bytes);
    const dir = await outDir();
    await expectIntegrity(
      writeBundle({ images: [imageInput(set, 'appB')], fetch: fetchFrom(blobs).fetch, localFile: fileOf, out: join(dir, 'b.tar'), toolVersion: 't' }),
      ErrorCode.digestMismatch,
      root.digest,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('a config file longer than its descriptor is a size mismatch, naming it', async () => {
    const { set, blobs } = await testImages();
    const { fileOf } = await localFiles();
    const config = set.images.appA.blobs.find((b) => b.mediaType === MediaType.ociConfig) as Descriptor;
    await appendFile(fileOf(config), Buffer.alloc(1 << 20));
    await expectIntegrity(
      writeBundle({ images: [imageInput(set, 'appA')], fetch: fetchFrom(blobs).fetch, localFile: fileOf, out: join(await outDir(), 'b.tar'), toolVersion: 't' }),
      ErrorCode.sizeMismatch,
      `${fullName(set.images.appA)} config: size mismatch: expected ${config.size} bytes, got more`,
    );
  });

  it('a manifest past the metadata limit is refused as too large, as a streamed one is', async () => {
    const { blobs } = await testImages();
    const dir = join(work.dir, `huge-${(seq += 1)}`);
    await mkdir(dir);
    const huge = join(dir, 'manifest');
    await writeFile(huge, Buffer.alloc(MAX_MANIFEST_BYTES + 10, 0x20));
    const root: Descriptor = { mediaType: MediaType.ociManifest, digest: `sha256:${'ab'.repeat(32)}` as Digest, size: MAX_MANIFEST_BYTES + 10 };
    await expectIntegrity(
      writeBundle({ images: [{ name: 'registry.example:5000/huge:1', root }], fetch: fetchFrom(blobs).fetch, localFile: () => huge, out: join(await outDir(), 'b.tar'), toolVersion: 't' }),
      ErrorCode.manifestTooLarge,
      'registry.example:5000/huge:1',
    );
  });

  it('a manifest with no file, or a file that is gone, is streamed from the source', async () => {
    const { set, blobs } = await testImages();
    const { fileOf } = await localFiles();
    const multi = set.images.multi;
    const child = multi.manifests[1] as Descriptor;
    const source = fetchFrom(blobs);
    const localFile = (desc: Descriptor): string | undefined => (desc.digest === multi.digest ? undefined : desc.digest === child.digest ? join(work.dir, 'gone') : fileOf(desc));
    const out = join(await outDir(), 'b.tar');
    await writeBundle({ images: [imageInput(set, 'multi')], fetch: source.fetch, localFile, out, toolVersion: 't' });
    expect(Object.fromEntries(source.calls)).toEqual({ [multi.digest]: 1, [child.digest]: 1 });
  });
});
