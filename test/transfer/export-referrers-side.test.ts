import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReference } from '../../src/core/reference.js';
import { openStore, type Store } from '../../src/store/index.js';
import { pullImages } from '../../src/transfer/export.js';
import { RegistryPool } from '../../src/transfer/registry-pool.js';
import { startFixture, type FixtureServer } from '../client/fixture-server.js';
import { workDir, type WorkDir } from '../helpers/transfer-kit.js';
import { rigContext, seededRig } from '../rig/context.js';

// An image's referrers (appA's SBOM and cosign signature) are copied side by
// side, not one after the other: each is a small graph whose blobs are round
// trips more than bytes. A proxy in front of the real registry holds the SBOM's
// blobs until a blob only the signature has is asked for (or 10 s pass, so a
// build that copies them in turn still finishes and fails the assertion).

describe.skipIf(!rigContext().available)('export copies the referrers of an image side by side', () => {
  let work: WorkDir;
  let store: Store;
  let pool: RegistryPool;
  let proxy: FixtureServer;
  let release: () => void = () => undefined;
  let otherWhileHeld = false;
  let held = false;

  beforeAll(async () => {
    const rig = seededRig();
    const upstream = new URL(rig.source.url);
    const { sbom, signature } = rig.images.images;
    const sbomOnly = new Set<string>(sbom.blobs.map((b) => b.digest).filter((d) => !signature.blobs.some((b) => b.digest === d)));
    const signatureOnly = new Set<string>(signature.blobs.map((b) => b.digest).filter((d) => !sbom.blobs.some((b) => b.digest === d)));
    const blobOf = (path: string): string | undefined => (path.startsWith(`/v2/${sbom.repository}/blobs/sha256:`) ? path.slice(path.lastIndexOf('/') + 1) : undefined);
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
      const blob = blobOf(req.url ?? '');
      if (blob !== undefined && sbomOnly.has(blob)) {
        held = true;
        await gate;
        held = false;
      } else if (blob !== undefined && signatureOnly.has(blob)) {
        if (held) otherWhileHeld = true;
        release();
        clearTimeout(fallback);
      }
      forward(req, res);
    });
    work = await workDir('ferry-export-referrers-side-');
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

  it("asks for the signature's blobs while the SBOM's are still unanswered; both land", async () => {
    const rig = seededRig();
    const { appA, sbom, signature } = rig.images.images;
    const images = [{ reference: parseReference(`${proxy.host}/${appA.reference}`), platforms: [], withReferrers: true }];
    const { pulled, failed } = await pullImages({ images, registries: pool, store, concurrency: 4 });
    expect(failed).toEqual([]);
    expect(pulled.map((p) => p.referrers.map((r) => r.digest).sort())).toEqual([[sbom.digest, signature.digest].sort()]);
    expect(otherWhileHeld).toBe(true);
  });
});
