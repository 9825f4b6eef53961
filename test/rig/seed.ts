import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BuiltTestImages } from './images.js';
import type { RigImage, RigImageKey } from './image-set.js';
import { writeDirTransport, writeOciLayout } from './oci-layout.js';
import type { Registry } from './registry.js';
import { RegistryHttp } from './registry-http.js';
import { skopeoCopyTo } from './skopeo.js';

// Pushes the test images into a rig registry, with real skopeo wherever skopeo
// 1.9 can do it, and the rig's monolithic pusher where it cannot:
//   multi, appA, appB, signature, sbom   skopeo  oci:LAYOUT:NAME → docker://
//   docker, windows                      skopeo  dir:DIR → docker:// (Docker media types; the
//                                                foreign blob is not in DIR and skopeo skips it)
//   referrersIndex                       http    skopeo 1.9 refuses an index whose entries
//                                                carry artifactType ("must be converted")

export type SeedPath = 'skopeo-oci' | 'skopeo-dir' | 'http';
export const SEED_PATH: Readonly<Record<RigImageKey, SeedPath>> = {
  multi: 'skopeo-oci',
  appA: 'skopeo-oci',
  appB: 'skopeo-oci',
  signature: 'skopeo-oci',
  sbom: 'skopeo-oci',
  docker: 'skopeo-dir',
  windows: 'skopeo-dir',
  referrersIndex: 'http',
};
/** Subjects before their artifacts, and the SBOM before the index that lists it. */
const ORDER: readonly RigImageKey[] = ['multi', 'docker', 'appA', 'appB', 'windows', 'sbom', 'signature', 'referrersIndex'];

export interface SeedOptions {
  /** Seed only these (default: all). Artifacts of appA need appA. */
  readonly only?: readonly RigImageKey[];
}

export async function seedRegistry(registry: Registry, built: BuiltTestImages, opts: SeedOptions = {}): Promise<void> {
  const keys = ORDER.filter((k) => !opts.only || opts.only.includes(k));
  const { images } = built.set;
  const work = await mkdtemp(join(tmpdir(), 'ferry-rig-seed-'));
  const http = new RegistryHttp(registry);
  try {
    const layout = join(work, 'layout');
    const ociKeys = keys.filter((k) => SEED_PATH[k] === 'skopeo-oci');
    await writeOciLayout(layout, built.blobs, ociKeys.map((k) => ({ descriptor: images[k], refName: layoutName(images[k]) })));
    for (const key of keys) {
      const image = images[key];
      const dest = `${registry.host}/${image.reference}`;
      if (SEED_PATH[key] === 'skopeo-oci') {
        await skopeoCopyTo(registry, `oci:${layout}:${layoutName(image)}`, dest);
      } else if (SEED_PATH[key] === 'skopeo-dir') {
        const dir = join(work, key);
        await writeDirTransport(dir, built.blobs, image);
        await skopeoCopyTo(registry, `dir:${dir}`, dest);
      } else {
        await pushByHttp(http, built, image);
      }
    }
  } finally {
    await http.close();
    await rm(work, { recursive: true, force: true });
  }
}

/** skopeo's oci: reference is `NAME` in `oci:DIR:NAME`; untagged roots get a made-up one. */
function layoutName(image: RigImage): string {
  return image.tag !== undefined ? image.reference : `${image.repository}:untagged-${image.key}`;
}

async function pushByHttp(http: RegistryHttp, built: BuiltTestImages, image: RigImage): Promise<void> {
  for (const blob of image.blobs) await http.pushBlob(image.repository, blob.digest, built.blobs.get(blob.digest));
  // Children first (the registry checks an index's manifests exist), the root last.
  for (const m of [...image.manifests].reverse()) {
    const reference = m.digest === image.digest ? (image.tag ?? m.digest) : m.digest;
    await http.pushManifest(image.repository, reference, m.mediaType, built.blobs.get(m.digest));
  }
}
