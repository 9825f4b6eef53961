import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReference } from '../../src/core/reference.js';
import { pullImages } from '../../src/transfer/export.js';
import { forwardTo, startFixture, type FixtureServer } from '../client/fixture-server.js';
import { exportSide, gatedExport, type ExportSide, type GatedExport } from '../helpers/gated-export.js';
import { rigContext, seededRig } from '../rig/context.js';

// An image's referrers (appA's SBOM and cosign signature) are copied side by
// side, not one after the other: each is a small graph whose blobs are round
// trips more than bytes. A proxy in front of the real registry holds the SBOM's
// blobs until a blob only the signature has is asked for (or 10 s pass, so a
// build that copies them in turn still finishes and fails the assertion).

describe.skipIf(!rigContext().available)('export copies the referrers of an image side by side', () => {
  let gated: GatedExport;

  beforeAll(async () => {
    const rig = seededRig();
    const { sbom, signature } = rig.images.images;
    const sbomOnly = new Set<string>(sbom.blobs.map((b) => b.digest).filter((d) => !signature.blobs.some((b) => b.digest === d)));
    const signatureOnly = new Set<string>(signature.blobs.map((b) => b.digest).filter((d) => !sbom.blobs.some((b) => b.digest === d)));
    const blobOf = (path: string): string | undefined => (path.startsWith(`/v2/${sbom.repository}/blobs/sha256:`) ? path.slice(path.lastIndexOf('/') + 1) : undefined);
    gated = await gatedExport('ferry-export-referrers-side-', {
      hold: (path) => sbomOnly.has(blobOf(path) ?? ''),
      opens: (path) => signatureOnly.has(blobOf(path) ?? ''),
    });
  });

  afterAll(async () => {
    await gated?.close();
  });

  it("asks for the signature's blobs while the SBOM's are still unanswered; both land", async () => {
    const rig = seededRig();
    const { appA, sbom, signature } = rig.images.images;
    const images = [{ reference: parseReference(`${gated.proxy.host}/${appA.reference}`), platforms: [], withReferrers: true }];
    const { pulled, failed } = await pullImages({ images, registries: gated.pool, store: gated.store, concurrency: 4 });
    expect(failed).toEqual([]);
    expect(pulled.map((p) => p.referrers.map((r) => r.digest).sort())).toEqual([[sbom.digest, signature.digest].sort()]);
    expect(gated.openedWhileHeld()).toBe(true);
  });
});

// Side by side, but none outlives the pull: when one referrer's copy fails, the
// others settle before the failure is thrown (a copy still running after
// pullImages returned would write into the store behind the caller's back).
describe.skipIf(!rigContext().available)('a referrer copy that fails', () => {
  let proxy: FixtureServer;
  let side: ExportSide;
  let open = 0;
  let held = 0;

  beforeAll(async () => {
    const rig = seededRig();
    const upstream = new URL(rig.source.url);
    const { sbom, signature } = rig.images.images;
    const sbomOnly = new Set<string>(sbom.blobs.map((b) => b.digest).filter((d) => !signature.blobs.some((b) => b.digest === d)));
    const signatureOnly = new Set<string>(signature.blobs.map((b) => b.digest).filter((d) => !sbom.blobs.some((b) => b.digest === d)));
    proxy = await startFixture(async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://proxy');
      const blob = url.pathname.startsWith(`/v2/${sbom.repository}/blobs/sha256:`) ? url.pathname.slice(url.pathname.lastIndexOf('/') + 1) : '';
      if (sbomOnly.has(blob)) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}');
        return;
      }
      if (signatureOnly.has(blob)) {
        held += 1;
        open += 1;
        await new Promise((resolve) => setTimeout(resolve, 800));
        res.on('close', () => (open -= 1));
      }
      await forwardTo(upstream, url, req, res);
    });
    side = await exportSide('ferry-export-referrer-fails-');
  });

  afterAll(async () => {
    await side?.close();
    await proxy?.stop();
  });

  it('fails the pull only once the other referrer copies have settled', async () => {
    const { appA } = seededRig().images.images;
    const images = [{ reference: parseReference(`${proxy.host}/${appA.reference}`), platforms: [], withReferrers: true }];
    await expect(pullImages({ images, registries: side.pool, store: side.store, concurrency: 4 })).rejects.toThrow(/blob unknown/);
    expect(held, "the signature's blobs were asked for").toBeGreaterThan(0);
    expect(open, "signature blob requests still open when the pull returned").toBe(0);
  });
});
