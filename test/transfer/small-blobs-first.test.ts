import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaType } from '../../src/core/media-types.js';
import { pushBigImage, type BigImage } from '../helpers/big-image.js';
import { ferry } from '../helpers/ferry-cli.js';
import { forwardTo, startFixture, type FixtureServer } from '../client/fixture-server.js';
import { expectOk, sha256Hex, workDir, type WorkDir } from '../helpers/transfer-kit.js';
import { rigContext } from '../rig/context.js';
import { RegistryHttp } from '../rig/registry-http.js';
import { startRegistry, type Registry } from '../rig/registry.js';

// Issue 16 (export of the realistic mix): an export's small blobs (configs, a
// signature's blobs: round trips of a few hundred bytes) do not wait for its
// large layers' slots. A proxy in front of a real docker-registry holds the first
// large layer's GET until every small blob has been asked for (or 10 s pass, so
// a build that keeps them waiting still finishes and fails the assertion), and
// records the blob GETs in the order they arrived. --concurrency 1 leaves one
// slot for large layers: before, the config queued behind them (largest first)
// and the `.sig` tag's blobs were copied only once the image's copy had ended.

const KiB = 1024;
const MiB = 1024 * KiB;
const LAYER_SIZES = [3 * MiB, 2 * MiB, 1 * MiB];

interface BlobProxy extends FixtureServer {
  /** Digests of the blob GETs, in the order they arrived. */
  readonly gets: string[];
}

/** Forwards to `upstream`; the first GET of a `held` blob waits until every `awaited` blob has been asked for. */
async function startBlobProxy(upstream: URL, held: Set<string>, awaited: Set<string>): Promise<BlobProxy> {
  const gets: string[] = [];
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const fallback = setTimeout(() => open(), 10_000);
  let holding = false;
  const server = await startFixture(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const digest = req.method === 'GET' ? /\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url.pathname)?.[1] : undefined;
    if (digest !== undefined) {
      gets.push(digest);
      if ([...awaited].every((d) => gets.includes(d))) {
        clearTimeout(fallback);
        open();
      }
      if (held.has(digest) && !holding) {
        holding = true;
        await opened;
      }
    }
    await forwardTo(upstream, url, req, res);
  });
  const stop = server.stop.bind(server);
  return Object.assign(server, {
    gets,
    async stop() {
      open();
      clearTimeout(fallback);
      await stop();
    },
  });
}

/** Pushes a cosign-style signature of `image` (a `.sig` tag: a small config and one small payload layer); returns its blobs' digests. */
async function pushSignature(registry: Registry, image: BigImage): Promise<string[]> {
  const http = new RegistryHttp(registry);
  try {
    const payload = Buffer.from(JSON.stringify({ critical: { image: { 'docker-manifest-digest': image.digest }, type: 'cosign container image signature' } }));
    const config = Buffer.from(JSON.stringify({ architecture: '', os: '', rootfs: { type: 'layers', diff_ids: [`sha256:${sha256Hex(payload)}`] } }));
    const blobs = [config, payload].map((bytes) => ({ bytes, digest: `sha256:${sha256Hex(bytes)}` }));
    for (const blob of blobs) await http.pushBlob(image.repository, blob.digest, blob.bytes);
    const manifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: blobs[0]!.digest, size: config.length },
      layers: [{ mediaType: MediaType.cosignSimpleSigning, digest: blobs[1]!.digest, size: payload.length, annotations: { 'dev.cosignproject.cosign/signature': 'c2lnbmF0dXJl' } }],
    };
    await http.pushManifest(image.repository, `sha256-${image.digest.slice('sha256:'.length)}.sig`, MediaType.ociManifest, Buffer.from(JSON.stringify(manifest)));
    return blobs.map((b) => b.digest);
  } finally {
    await http.close();
  }
}

describe.skipIf(!rigContext().available)('the order of an export’s blob downloads', () => {
  let work: WorkDir;
  let source: Registry;
  let proxy: BlobProxy;
  let image: BigImage;
  let small: string[];

  beforeAll(async () => {
    work = await workDir('ferry-small-blobs-first-');
    source = await startRegistry({});
    image = await pushBigImage(source, 'ferry-test/signed', '1.0', LAYER_SIZES);
    small = [image.config.digest, ...(await pushSignature(source, image))];
    proxy = await startBlobProxy(new URL(source.url), new Set(image.layers.map((l) => l.digest)), new Set(small));
  });

  afterAll(async () => {
    await proxy?.stop();
    await source?.stop();
    await work?.cleanup();
  });

  it('asks for the config and the signature’s blobs before the last large layer, and carries them all', async () => {
    const out = work.path('signed.tar');
    expectOk(await ferry(['export', `${proxy.host}/${image.repository}:${image.tag}`, '-o', out, '--plain-http', '--concurrency', '1', '--store', work.path('store')], { timeoutMs: 120_000 }));
    const lastLarge = Math.max(...image.layers.map((l) => proxy.gets.indexOf(l.digest)));
    const late = small.filter((d) => proxy.gets.indexOf(d) > lastLarge);
    expect(late, `blob GETs in order: ${proxy.gets.join(' ')}`).toEqual([]);
    expect(new Set(proxy.gets)).toEqual(new Set([...small, ...image.layers.map((l) => l.digest)]));

    const inspected = await ferry(['inspect', out, '--json']);
    expectOk(inspected);
    expect(inspected.stdout).toContain(image.digest);
    // The image's manifest, config and layers; the signature's manifest, config and payload.
    expect((JSON.parse(inspected.stdout) as { blobs: { count: number } }).blobs.count).toBe(2 + LAYER_SIZES.length + 3);
  });
});
