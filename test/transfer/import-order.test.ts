import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushBigImage, type BigImage } from '../helpers/big-image.js';
import { ferry } from '../helpers/ferry-cli.js';
import { forwardTo, startFixture, type FixtureServer } from '../client/fixture-server.js';
import { expectOk, TargetView, workDir, type WorkDir } from '../helpers/transfer-kit.js';
import { rigContext } from '../rig/context.js';
import { startRegistry, type Registry } from '../rig/registry.js';

// Issue 16 (import against the floor): the order in which `ferry import`
// starts its uploads, as a proxy in front of a real docker-registry sees them
// arrive (each blob's PUT ?digest=). Large blobs (over 1 MiB) go largest first,
// so the longest upload never starts last; blobs of 1 MiB or less (configs,
// small layers: round trips, not bandwidth) follow, largest first too, and once
// the last large upload has started more lanes join for them, so they go beside
// it instead of after it. In tar order the bench's 12 configs went before the
// first layer. --concurrency 1 makes the order exact; the proxy holds the last
// large upload until a small one arrives (2 s at most): on one lane none can.

const KiB = 1024;
const MiB = 1024 * KiB;
/** Layers not in size order (the tar may hold them in any order: the small-beside-large check holds either way). */
const LAYER_SIZES = [2 * MiB, 5 * MiB, 300 * KiB, 3 * MiB, 100 * KiB];
const HOLD_MS = 2_000;

interface UploadProxy extends FixtureServer {
  /** Digests of the blob PUTs in the order they arrived. */
  readonly puts: string[];
  /** Small blob PUTs that arrived while the last large one was held. */
  smallBesideLarge(): number;
}

async function startUploadProxy(upstream: URL, sizeOf: (digest: string) => number, last: string): Promise<UploadProxy> {
  const puts: string[] = [];
  let held: (() => void) | undefined;
  let holding = false;
  let beside = 0;
  const server = await startFixture(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const digest = req.method === 'PUT' && url.pathname.includes('/blobs/uploads/') ? url.searchParams.get('digest') : null;
    if (digest !== null) {
      puts.push(digest);
      if (sizeOf(digest) <= MiB) {
        if (holding) beside += 1;
        held?.();
      } else if (digest === last) {
        holding = true;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, HOLD_MS);
          held = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        holding = false;
        held = undefined;
      }
    }
    await forwardTo(upstream, url, req, res);
  });
  return Object.assign(server, { puts, smallBesideLarge: () => beside });
}

describe.skipIf(!rigContext().available)('the order of an import’s uploads', () => {
  let work: WorkDir;
  let source: Registry;
  let target: Registry;
  let proxy: UploadProxy;
  let image: BigImage;
  const sizes = new Map<string, number>();

  beforeAll(async () => {
    work = await workDir('ferry-import-order-');
    [source, target] = await Promise.all([startRegistry({}), startRegistry({})]);
    image = await pushBigImage(source, 'ferry-test/sizes', '1.0', LAYER_SIZES);
    for (const blob of [image.config, ...image.layers]) sizes.set(blob.digest, blob.size);
    const smallestLarge = image.layers.filter((l) => l.size > MiB).sort((a, b) => a.size - b.size)[0]?.digest ?? '';
    proxy = await startUploadProxy(new URL(target.url), (digest) => sizes.get(digest) ?? 0, smallestLarge);
    expectOk(await ferry(['export', `${source.host}/ferry-test/sizes:1.0`, '-o', work.path('sizes.tar'), '--plain-http', '--store', work.path('store')], { timeoutMs: 120_000 }));
  });

  afterAll(async () => {
    await proxy?.stop();
    await Promise.all([source?.stop(), target?.stop()]);
    await work?.cleanup();
  });

  it('starts the large uploads largest first and the small ones beside the last of them, and the image lands', async () => {
    expectOk(await ferry(['import', work.path('sizes.tar'), '--to', `${proxy.host}/mirror`, '--plain-http', '--concurrency', '1'], { timeoutMs: 120_000 }));
    const sizesOf = (large: boolean) => proxy.puts.map((d) => sizes.get(d) ?? 0).filter((size) => size > MiB === large);
    expect(sizesOf(true), 'large uploads in the order they started').toEqual([5 * MiB, 3 * MiB, 2 * MiB]);
    expect(sizesOf(false), 'small uploads in the order they started').toEqual([300 * KiB, 100 * KiB, image.config.size]);
    expect(proxy.smallBesideLarge(), 'small uploads that arrived while the last large one was held').toBeGreaterThan(0);

    const view = new TargetView(target);
    try {
      expect((await view.manifest('mirror/ferry-test/sizes', '1.0'))?.digest).toBe(image.digest);
      for (const blob of [image.config, ...image.layers]) expect(await view.blobStatus('mirror/ferry-test/sizes', blob.digest), blob.digest).toBe(200);
    } finally {
      await view.close();
    }
  });
});
