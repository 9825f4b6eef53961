import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReference } from '../../src/core/reference.js';
import { pullImages } from '../../src/transfer/export.js';
import { gatedExport, type GatedExport } from '../helpers/gated-export.js';
import { rigContext, seededRig } from '../rig/context.js';

// An export walks an image's graph (an index's child manifests) while that
// image's referrers are still looked up: the lookups' round trips (referrers API,
// tag listing, signature tags) are not on the walk's path. A proxy in front of the
// real registry holds the index's tag listing (the referrers fallback) until a
// child manifest is asked for (or 10 s pass, so a build that looks the referrers
// up before it walks still finishes and fails the assertion instead of hanging).

describe.skipIf(!rigContext().available)('export plans an image while its referrers are looked up', () => {
  let gated: GatedExport;

  beforeAll(async () => {
    const rig = seededRig();
    const multi = rig.images.images.multi;
    const children = new Set<string>(multi.manifests.slice(1).map((m) => m.digest));
    gated = await gatedExport('ferry-export-plan-referrers-', {
      hold: (path) => path.startsWith(`/v2/${multi.repository}/tags/list`),
      opens: (path) => path.startsWith(`/v2/${multi.repository}/manifests/sha256:`) && children.has(path.slice(path.lastIndexOf('/') + 1)),
    });
  });

  afterAll(async () => {
    await gated?.close();
  });

  it("asks for the index's child manifests while its tag listing is still unanswered", async () => {
    const rig = seededRig();
    const multi = rig.images.images.multi;
    const images = [{ reference: parseReference(`${gated.proxy.host}/${multi.reference}`), platforms: [], withReferrers: true }];
    const { pulled, failed } = await pullImages({ images, registries: gated.pool, store: gated.store, concurrency: 4 });
    expect(failed).toEqual([]);
    expect(pulled.map((p) => p.root.digest)).toEqual([multi.digest]);
    expect(gated.openedWhileHeld()).toBe(true);
  });
});
