import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushBigImage, type BigImage } from '../helpers/big-image.js';
import { ferry } from '../helpers/ferry-cli.js';
import { forwardTo, startFixture, type FixtureServer } from '../client/fixture-server.js';
import { expectOk, TargetView, workDir, type WorkDir } from '../helpers/transfer-kit.js';
import { rigContext } from '../rig/context.js';
import { startRegistry, type Registry } from '../rig/registry.js';

// Issue 16 (import against the floor): the order in which `ferry import`
// starts its uploads, as a proxy in front of a real docker-registry sees them
// arrive (each blob's PUT ?digest=). The `--concurrency` largest uploads go
// first, so the longest never starts last; then the small ones (configs, layers
// of up to 1 MiB: round trips more than bytes), carried by the first lanes to
// free up beside the large uploads still under way, not left for the tail; then
// the other large ones, largest first. In tar order the bench's 12 configs went
// before the first layer. --concurrency 1 makes the order exact.

const KiB = 1024;
const MiB = 1024 * KiB;
/** Layers not in size order (the tar holds them in this order). */
const LAYER_SIZES = [2 * MiB, 5 * MiB, 300 * KiB, 3 * MiB, 100 * KiB];

interface UploadProxy extends FixtureServer {
  /** Digests of the blob PUTs in the order they arrived. */
  readonly puts: string[];
}

async function startUploadProxy(upstream: URL): Promise<UploadProxy> {
  const puts: string[] = [];
  const server = await startFixture(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const digest = req.method === 'PUT' && url.pathname.includes('/blobs/uploads/') ? url.searchParams.get('digest') : null;
    if (digest !== null) puts.push(digest);
    await forwardTo(upstream, url, req, res);
  });
  return Object.assign(server, { puts });
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
    proxy = await startUploadProxy(new URL(target.url));
    expectOk(await ferry(['export', `${source.host}/ferry-test/sizes:1.0`, '-o', work.path('sizes.tar'), '--plain-http', '--store', work.path('store')], { timeoutMs: 120_000 }));
  });

  afterAll(async () => {
    await proxy?.stop();
    await Promise.all([source?.stop(), target?.stop()]);
    await work?.cleanup();
  });

  it('starts the largest upload first, then the small ones, then the other large ones, and the image lands', async () => {
    expectOk(await ferry(['import', work.path('sizes.tar'), '--to', `${proxy.host}/mirror`, '--plain-http', '--concurrency', '1'], { timeoutMs: 120_000 }));
    expect(proxy.puts.map((d) => sizes.get(d)), 'uploads in the order they started').toEqual([5 * MiB, 300 * KiB, 100 * KiB, image.config.size, 3 * MiB, 2 * MiB]);

    const view = new TargetView(target);
    try {
      expect((await view.manifest('mirror/ferry-test/sizes', '1.0'))?.digest).toBe(image.digest);
      for (const blob of [image.config, ...image.layers]) expect(await view.blobStatus('mirror/ferry-test/sizes', blob.digest), blob.digest).toBe(200);
    } finally {
      await view.close();
    }
  });
});
