import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReference } from '../../src/core/reference.js';
import type { TransferEvent } from '../../src/transfer/events.js';
import { pullImages } from '../../src/transfer/export.js';
import { gatedExport, type GatedExport } from '../helpers/gated-export.js';
import { rigContext, seededRig } from '../rig/context.js';

// An export pulls an image as soon as it is planned, while the others still
// resolve (their round trips are not bytes): no serial wait between the phases.
// The progress channel still reads resolve → pull with the whole plan as the
// pull's total before any of its bytes (what a pull reports early is held).
// A proxy in front of the real registry holds the second image's manifest until
// a blob of the first is asked for (or 10 s pass, so a build that waits for every
// resolve still finishes and fails the assertion instead of hanging).

describe.skipIf(!rigContext().available)('export overlaps resolving and pulling', () => {
  let gated: GatedExport;

  beforeAll(async () => {
    gated = await gatedExport('ferry-export-overlap-', {
      hold: (path) => path.startsWith('/v2/ferry-test/app-b/manifests/1.0'),
      opens: (path) => path.startsWith('/v2/ferry-test/app-a/blobs/'),
    });
  });

  afterAll(async () => {
    await gated?.close();
  });

  it("pulls the first image's blobs while the second still resolves; the pull total still covers what moved", async () => {
    const rig = seededRig();
    const keys = ['appA', 'appB'] as const;
    const images = keys.map((k) => ({ reference: parseReference(`${gated.proxy.host}/${rig.images.images[k].reference}`), platforms: [], withReferrers: false }));
    let total = 0;
    let moved = 0;
    let maxAhead = 0;
    const phases: string[] = [];
    const onEvent = (e: TransferEvent): void => {
      if (e.type === 'phase') phases.push(e.phase);
      if (e.type === 'bytes' && !phases.includes('pull')) phases.push('bytes before the pull phase');
      if (e.type === 'phase' && e.phase === 'pull') total = e.total ?? 0;
      if (e.type === 'phase-grows') total += e.bytes;
      if (e.type === 'bytes') moved += e.bytes;
      maxAhead = Math.max(maxAhead, moved - total);
    };
    const { pulled, failed } = await pullImages({ images, registries: gated.pool, store: gated.store, concurrency: 2, onEvent });
    expect(failed).toEqual([]);
    expect(pulled.map((p) => p.root.digest).sort()).toEqual(keys.map((k) => rig.images.images[k].digest).sort());
    expect(gated.openedWhileHeld()).toBe(true);
    // Progress never passed its total, and ended on it.
    expect(phases).toEqual(['resolve', 'pull']);
    expect(maxAhead).toBe(0);
    expect(moved).toBe(total);
  });
});
