import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestHex, parseDigest } from '../../src/core/digest.js';
import { buildSampleImages, type SampleSet } from '../../src/demo/index.js';
import { requirePeer, run } from '../rig/peers.js';

// The demo's sample images are real images: gzip'd tar layers whose
// uncompressed digests are the configs' diff_ids, platform manifests under an
// OCI index, one base layer shared — and the same bytes on every build.

let work: string;
let a: SampleSet;
let b: SampleSet;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ferry-samples-test-'));
  a = await buildSampleImages(join(work, 'a'));
  b = await buildSampleImages(join(work, 'b'));
});
afterAll(async () => rm(work, { recursive: true, force: true }));

async function json(set: SampleSet, digest: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(set.layout.blobPath({ digest: parseDigest(digest) }), 'utf8')) as Record<string, unknown>;
}

async function gunzippedDigest(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), createGunzip(), async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) hash.update(chunk);
  });
  return `sha256:${hash.digest('hex')}`;
}

type Desc = { digest: string; size: number; mediaType: string; platform?: { os: string; architecture: string } };

describe('demo sample images', () => {
  it('are byte-identical on every build', async () => {
    expect(b.images).toEqual(a.images);
    expect([b.blobs, b.bytes]).toEqual([a.blobs, a.bytes]);
    const index = await readFile(join(a.layout.dir, 'index.json'), 'utf8');
    expect(await readFile(join(b.layout.dir, 'index.json'), 'utf8')).toBe(index);
  });

  it('form a linux/amd64 + linux/arm64 index and a single-platform image on one shared base layer', async () => {
    const [hello, tools] = a.images;
    const index = await json(a, hello!.root.digest);
    const children = index.manifests as Desc[];
    expect(children.map((c) => `${c.platform?.os}/${c.platform?.architecture}`)).toEqual(['linux/amd64', 'linux/arm64']);
    const layerSets = await Promise.all([...children.map((c) => c.digest), tools!.root.digest].map(async (d) => ((await json(a, d)).layers as Desc[]).map((l) => l.digest)));
    const base = layerSets[0]![0];
    expect(layerSets.every((layers) => layers.length === 2 && layers[0] === base)).toBe(true);
    expect(new Set(layerSets.map((l) => l[1])).size).toBe(3);
    expect(a.blobs).toBe(11);
    expect(a.bytes).toBeGreaterThan(2_000_000);
    expect(a.bytes).toBeLessThan(4_000_000);
  });

  it('have configs whose diff_ids are the digests of the gunzipped layers, and platforms that match the index', async () => {
    const index = await json(a, a.images[0]!.root.digest);
    for (const child of index.manifests as Desc[]) {
      const manifest = await json(a, child.digest);
      const config = await json(a, (manifest.config as Desc).digest);
      expect([config.os, config.architecture]).toEqual([child.platform?.os, child.platform?.architecture]);
      const layers = manifest.layers as Desc[];
      const diffIds = await Promise.all(layers.map((l) => gunzippedDigest(a.layout.blobPath({ digest: parseDigest(l.digest) }))));
      expect((config.rootfs as { diff_ids: string[] }).diff_ids).toEqual(diffIds);
      for (const l of layers) expect(l.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
    }
  });

  it.skipIf(!requirePeer('tar', 'tar'))('have layers GNU tar lists with directories first and fixed owners and times', async () => {
    const manifest = await json(a, ((await json(a, a.images[0]!.root.digest)).manifests as Desc[])[0]!.digest);
    const app = (manifest.layers as Desc[])[1]!;
    const listing = await run('tar', ['-tvzf', join(a.layout.dir, 'blobs', 'sha256', digestHex(parseDigest(app.digest)))]);
    expect(listing.code, listing.stderr).toBe(0);
    const lines = listing.stdout.trim().split('\n');
    expect(lines.map((l) => l.split(/\s+/).slice(-1)[0])).toEqual(['usr/', 'usr/bin/', 'usr/share/', 'usr/share/ferry-demo/', 'usr/bin/hello', 'usr/share/ferry-demo/hello-amd64.bin']);
    expect(lines.every((l) => l.includes('root/root') && l.includes('2024-01-01'))).toBe(true);
    expect(lines[4]).toMatch(/^-rwxr-xr-x/);
  });
});
