import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBundle } from '../../src/bundle/index.js';
import { requireCapability, requirePeer } from '../rig/peers.js';
import { startContainerd, type Containerd } from '../server/containerd-daemon.js';
import { ALL_IMAGES, fetchFrom, fullName, imageInput, tempDir, testImages } from './fixtures.js';

// The real containerd (peers.md: its own config, root, state and socket under a
// temp dir) imports a ferry bundle as a plain OCI-layout tar: the ferry/*
// entries are ignored, images are named from io.containerd.image.name, and the
// content store ends up holding the exact blobs.

const haveContainerd = requirePeer('containerd', 'containerd') && requirePeer('ctr', 'containerd');
const isRoot = requireCapability('root (containerd runs as root)', process.getuid?.() === 0, 'run the tests as root');

describe.skipIf(!haveContainerd || !isRoot)('ctr images import of a ferry bundle', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let containerd: Containerd | undefined;
  const ctr = (...args: string[]) => containerd!.ctr(args);

  beforeAll(async () => {
    work = await tempDir('ferry-ctr-');
    containerd = await startContainerd();
  });

  afterAll(async () => {
    await containerd?.stop();
    await work.cleanup();
  });

  it('imports every image under its full reference, with the exact digests', async () => {
    const { set, blobs } = await testImages();
    const bundle = join(work.dir, 'bundle.tar');
    await writeBundle({
      images: ALL_IMAGES.map((k) => imageInput(set, k)),
      fetch: fetchFrom(blobs).fetch,
      out: bundle,
      created: new Date('2024-01-01T00:00:00Z'),
      toolVersion: '0.1.0-test',
    });
    const imported = await ctr('images', 'import', '--no-unpack', '--all-platforms', bundle);
    expect(imported.code, imported.stderr).toBe(0);
    const list = await ctr('images', 'ls');
    expect(list.code, list.stderr).toBe(0);
    for (const key of ALL_IMAGES) {
      const image = set.images[key];
      const line = list.stdout.split('\n').find((l) => l.startsWith(`${fullName(image)} `));
      expect(line, `${fullName(image)} in:\n${list.stdout}`).toBeDefined();
      expect(line).toContain(image.digest);
    }
    // The content store holds every blob of every image, the foreign layer and shared base included.
    const content = await ctr('content', 'ls', '-q');
    const held = new Set(content.stdout.split('\n').map((l) => l.trim()).filter(Boolean));
    for (const key of ALL_IMAGES) {
      for (const d of [...set.images[key].manifests, ...set.images[key].blobs]) expect(held.has(d.digest), `${key} ${d.digest}`).toBe(true);
    }
  });
});
