import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReference } from '../../src/core/reference.js';
import type { TransferEvent } from '../../src/transfer/events.js';
import { pullImages } from '../../src/transfer/export.js';
import { inLanes } from '../../src/transfer/lanes.js';
import { exportSide, type ExportSide } from '../helpers/gated-export.js';
import { rigContext, seededRig } from '../rig/context.js';

// An export of many images holds what its pulls in progress hold: at most
// 2 × concurrency images are in progress at once, not every image of the list
// (1,000 started at once were most of the peak memory at 1,000 images).

describe('inLanes', () => {
  it('runs every item, never more than `lanes` at once', async () => {
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    await inLanes(
      Array.from({ length: 50 }, (_, i) => i),
      3,
      async (i) => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setImmediate(resolve));
        running -= 1;
        done.push(i);
      },
    );
    expect(done.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(peak).toBe(3);
  });

  it('starts nothing after the first error, and throws it once the started items settled', async () => {
    const started: number[] = [];
    let settled = 0;
    const run = inLanes([0, 1, 2, 3, 4, 5, 6, 7], 2, async (i) => {
      started.push(i);
      await new Promise((resolve) => setImmediate(resolve));
      settled += 1;
      if (i === 1) throw new Error('boom 1');
    });
    await expect(run).rejects.toThrow('boom 1');
    expect(started).toEqual([0, 1, 2]);
    expect(settled).toBe(3);
  });
});

describe.skipIf(!rigContext().available)('export pulls in lanes', () => {
  let side: ExportSide;

  beforeAll(async () => {
    side = await exportSide('ferry-export-lanes-');
  });

  afterAll(async () => {
    await side?.close();
  });

  it('has at most 2 × concurrency images in progress, and pulls them all', async () => {
    const rig = seededRig();
    const keys = ['appA', 'appB', 'multi', 'docker'] as const;
    const images = keys.map((k) => ({ reference: parseReference(`${rig.source.host}/${rig.images.images[k].reference}`), platforms: [], withReferrers: false }));
    let inProgress = 0;
    let peak = 0;
    const onEvent = (e: TransferEvent): void => {
      if (e.type !== 'image') return;
      inProgress += e.state === 'start' ? 1 : -1;
      peak = Math.max(peak, inProgress);
    };
    const { pulled, failed } = await pullImages({ images, registries: side.pool, store: side.store, concurrency: 1, onEvent });
    expect(failed).toEqual([]);
    expect(pulled.map((p) => p.root.digest).sort()).toEqual(keys.map((k) => rig.images.images[k].digest).sort());
    expect(peak).toBe(2);
  });
});
