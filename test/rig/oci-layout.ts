import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { digestHex } from '../../src/core/digest.js';
import type { BlobSet, RigDescriptor } from './image-blobs.js';

// The two on-disk forms skopeo reads the rig's images from: an OCI image layout
// (OCI-typed images; skopeo 1.9's oci: transport cannot read Docker media types)
// and containers/image's dir: transport (one image, any media types).

export const REF_NAME = 'org.opencontainers.image.ref.name';

export interface LayoutRoot {
  readonly descriptor: RigDescriptor;
  /** index.json `org.opencontainers.image.ref.name`; skopeo finds `oci:DIR:NAME` by it. */
  readonly refName?: string | undefined;
}

/** An OCI image layout holding every blob of `blobs` and one index.json entry per root. */
export async function writeOciLayout(dir: string, blobs: BlobSet, roots: readonly LayoutRoot[]): Promise<void> {
  const blobDir = join(dir, 'blobs', 'sha256');
  await mkdir(blobDir, { recursive: true });
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  for (const [digest, bytes] of blobs.bytes) await writeFile(join(blobDir, digestHex(digest)), bytes);
  const manifests = roots.map(({ descriptor: d, refName }) => ({
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    ...(d.artifactType ? { artifactType: d.artifactType } : {}),
    ...(refName ? { annotations: { [REF_NAME]: refName } } : {}),
  }));
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
}

/**
 * One image in skopeo's dir: format (version 1.1: `manifest.json`, blobs named by hex).
 * Foreign layers are left out unless asked for: skopeo does not read them when the
 * destination is docker://, which is how a registry ends up without them, as MCR.
 */
export async function writeDirTransport(
  dir: string,
  blobs: BlobSet,
  manifest: RigDescriptor,
  opts: { includeForeign?: boolean } = {},
): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'version'), 'Directory Transport Version: 1.1\n');
  await writeFile(join(dir, 'manifest.json'), blobs.get(manifest.digest));
  for (const blob of blobs.graph(manifest).blobs) {
    if (blob.urls !== undefined && !opts.includeForeign) continue;
    await writeFile(join(dir, digestHex(blob.digest)), blobs.get(blob.digest));
  }
}
