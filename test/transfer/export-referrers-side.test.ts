import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReference } from '../../src/core/reference.js';
import { pullImages } from '../../src/transfer/export.js';
import { gatedExport, type GatedExport } from '../helpers/gated-export.js';
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
