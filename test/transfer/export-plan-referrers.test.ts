import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReference } from '../../src/core/reference.js';
import { openStore, type Store } from '../../src/store/index.js';
import { pullImages } from '../../src/transfer/export.js';
import { RegistryPool } from '../../src/transfer/registry-pool.js';
import { startFixture, type FixtureServer } from '../client/fixture-server.js';
import { workDir, type WorkDir } from '../helpers/transfer-kit.js';
import { rigContext, seededRig } from '../rig/context.js';

// An export walks an image's graph (an index's child manifests) while that
// image's referrers are still looked up: the lookups' round trips (referrers API,
// tag listing, signature tags) are not on the walk's path. A proxy in front of the
// real registry holds the index's tag listing (the referrers fallback) until a
// child manifest is asked for (or 10 s pass, so a build that looks the referrers
// up before it walks still finishes and fails the assertion instead of hanging).

describe.skipIf(!rigContext().available)('export plans an image while its referrers are looked up', () => {
  let work: WorkDir;
  let store: Store;
  let pool: RegistryPool;
  let proxy: FixtureServer;
  let release: () => void = () => undefined;
  let childWhileHeld = false;
  let held = false;

  beforeAll(async () => {
    const rig = seededRig();
    const upstream = new URL(rig.source.url);
    const multi = rig.images.images.multi;
    const children = new Set<string>(multi.manifests.slice(1).map((m) => m.digest));
    const gate = new Promise<void>((resolve) => (release = resolve));
    const fallback = setTimeout(() => release(), 10_000);
    const forward = (req: IncomingMessage, res: ServerResponse): void => {
      const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      out.on('error', () => res.destroy());
      req.pipe(out);
    };
    proxy = await startFixture(async (req, res) => {
      const path = req.url ?? '';
      if (path.startsWith(`/v2/${multi.repository}/tags/list`)) {
        held = true;
        await gate;
        held = false;
      } else if (path.startsWith(`/v2/${multi.repository}/manifests/sha256:`) && children.has(path.slice(path.lastIndexOf('/') + 1))) {
        if (held) childWhileHeld = true;
        release();
        clearTimeout(fallback);
      }
      forward(req, res);
    });
    work = await workDir('ferry-export-plan-referrers-');
    store = await openStore(work.path('store'));
    pool = new RegistryPool({ plainHttp: true, env: {}, homeDir: work.path('home') });
  });

  afterAll(async () => {
    release();
    await pool?.close();
    store?.close();
    await proxy?.stop();
    await work?.cleanup();
  });

  it("asks for the index's child manifests while its tag listing is still unanswered", async () => {
    const rig = seededRig();
    const multi = rig.images.images.multi;
    const images = [{ reference: parseReference(`${proxy.host}/${multi.reference}`), platforms: [], withReferrers: true }];
    const { pulled, failed } = await pullImages({ images, registries: pool, store, concurrency: 4 });
    expect(failed).toEqual([]);
    expect(pulled.map((p) => p.root.digest)).toEqual([multi.digest]);
    expect(childWhileHeld).toBe(true);
  });
});
