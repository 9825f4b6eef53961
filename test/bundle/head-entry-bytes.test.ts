import { Readable } from 'node:stream';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { inspectBundle, writeBundle } from '../../src/bundle/index.js';
import { ALL_IMAGES, fetchFrom, imageInput, tempDir, testImages } from './fixtures.js';

// The head's files (oci-layout, bundle.json, index.json, index.db, SHA256SUMS)
// are small and read whole: inspect takes each entry's bytes straight from the
// head reader, with no Readable and async iterator per entry, and the head
// reader takes the file's chunks as read, with no Readable around them
// (node:stream's machinery was a measurable part of a small inspect's start-up). The
// checks on those bytes are the head tests' (inspect*, hostile*).

let work: Awaited<ReturnType<typeof tempDir>>;
let bundle: string;

beforeAll(async () => {
  work = await tempDir('ferry-head-entry-bytes-');
  const { set, blobs } = await testImages();
  bundle = join(work.dir, 'b.tar');
  await writeBundle({ images: ALL_IMAGES.map((k) => imageInput(set, k)), fetch: fetchFrom(blobs).fetch, out: bundle, toolVersion: '0.1.0-test' });
});

afterAll(async () => {
  await work.cleanup();
});

describe('the head of a bundle', () => {
  it('is read by inspect without a stream per head file, or around the file', async () => {
    const from = vi.spyOn(Readable, 'from');
    try {
      const report = await inspectBundle(bundle);
      expect(report.images.length).toBe(ALL_IMAGES.length);
      // None per head file, and none around a bundle file's own bytes (BundleSource.chunks).
      expect(from).not.toHaveBeenCalled();
    } finally {
      from.mockRestore();
    }
  });
});
