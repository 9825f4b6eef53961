import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// A file system may answer a pread with fewer bytes than asked before the end
// of the file (FUSE, which mounts a FAT32 stick where the kernel has no vfat,
// passes on what its daemon returns). The positional readers must take that
// for "more to come", not for the end: taken for the end, every manifest read
// by range was a size mismatch. The reads here answer at most 7 bytes a call.

const short = vi.hoisted(() => ({ on: false }));
vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  const readSync = (fd: number, buf: NodeJS.ArrayBufferView, offset: number, length: number, position: number | null): number =>
    actual.readSync(fd, buf, offset, short.on ? Math.min(length, 7) : length, position);
  return { ...actual, default: { ...actual, readSync }, readSync };
});

const { openBundle, readSmallRange, writeBundle } = await import('../../src/bundle/index.js');
const { ALL_IMAGES, fetchFrom, imageInput, tempDir, testImages } = await import('./fixtures.js');

let work: Awaited<ReturnType<typeof tempDir>>;
let path: string;

beforeAll(async () => {
  work = await tempDir('ferry-short-reads-');
  const { set, blobs } = await testImages();
  path = `${work.dir}/b.tar`;
  await writeBundle({ images: ALL_IMAGES.map((k) => imageInput(set, k)), fetch: fetchFrom(blobs).fetch, created: new Date('2024-05-01T12:00:00Z'), toolVersion: '0.1.0-test', out: path });
});

afterAll(async () => {
  short.on = false;
  await work?.cleanup();
});

describe('short positional reads', () => {
  it('locate every blob header and read every manifest whole and verified', async () => {
    const bundle = await openBundle(path);
    try {
      short.on = true;
      const ranges = (await bundle.locate())!;
      expect(ranges.length).toBeGreaterThan(3);
      const reader = bundle.tarSpan!.openSync();
      try {
        for (const range of ranges.filter((r) => r.blob.kind === 'manifest')) expect(readSmallRange(reader, range, 1 << 20).length).toBe(range.blob.descriptor.size);
      } finally {
        reader.close();
      }
    } finally {
      short.on = false;
      await bundle.close();
    }
  });
});
