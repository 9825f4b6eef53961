import { join } from 'node:path';
import { writeBundle } from '../../src/bundle/index.js';
import type { RigImageKey } from '../rig/image-set.js';
import { descriptorOf, fetchFrom, testImages } from '../bundle/fixtures.js';

// A bundle of the rig's test images under upstream names no test machine can
// reach: Docker Hub (no internet here), a made-up domain that does not resolve,
// and a loopback port nothing listens on. Whatever containerd pulls under these
// names can only have come from the mirror.

export const UPSTREAM_IMAGES: ReadonlyArray<{ key: RigImageKey; name: string }> = [
  { key: 'appA', name: 'docker.io/library/app-a:1.0' },
  { key: 'multi', name: 'registry.example.invalid/team/multi:1.0' },
  { key: 'docker', name: '127.0.0.1:9/ferry-test/docker:1.0' },
  { key: 'windows', name: 'registry.example.invalid/windows/servercore:ltsc2022' },
];

export async function writeUpstreamBundle(dir: string): Promise<{ path: string; digests: Record<string, string> }> {
  const { set, blobs } = await testImages();
  const path = join(dir, 'upstream.tar');
  await writeBundle({
    images: UPSTREAM_IMAGES.map((i) => ({ name: i.name, root: descriptorOf(set.images[i.key]) })),
    fetch: fetchFrom(blobs).fetch,
    out: path,
    created: new Date('2024-01-01T00:00:00Z'),
    toolVersion: '0.1.0-test',
  });
  return { path, digests: Object.fromEntries(UPSTREAM_IMAGES.map((i) => [i.name, set.images[i.key].digest])) };
}
