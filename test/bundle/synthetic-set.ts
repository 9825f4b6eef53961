import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Descriptor } from '../../src/core/descriptor.js';
import type { BundleImageInput, FetchBlob } from '../../src/bundle/index.js';

// N generated images for scale tests (the TypeScript twin of
// bench/lib/synthetic-bundle.mjs): two shared base layers and one own layer
// each, every 4th a two-platform OCI index, every 10th with an OCI referrer,
// every 25th with a foreign layer. Tiny JSON blobs: the shape is what counts.

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const FOREIGN = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip';

export function syntheticImages(n: number): { images: BundleImageInput[]; fetch: FetchBlob } {
  const blobs = new Map<string, Buffer>();
  const put = (mediaType: string, text: string): Descriptor => {
    const bytes = Buffer.from(text);
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Descriptor['digest'];
    blobs.set(digest, bytes);
    return { mediaType, digest, size: bytes.length };
  };
  const bases = [put(LAYER, 'base 0'), put(LAYER, 'base 1')];
  const manifest = (i: number, arch: string): Descriptor => {
    const config = put('application/vnd.oci.image.config.v1+json', JSON.stringify({ architecture: arch, os: 'linux', n: i }));
    const layers: Descriptor[] = [...bases, put(LAYER, `own ${i} ${arch}`)];
    if (i % 25 === 0) layers.push({ ...put(FOREIGN, `foreign ${i}`), urls: [`https://foreign.example/${i}`] });
    return put(OCI_MANIFEST, JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers }));
  };
  const images: BundleImageInput[] = [];
  for (let i = 0; i < n; i++) {
    const root =
      i % 4 === 0
        ? put(
            OCI_INDEX,
            JSON.stringify({
              schemaVersion: 2,
              mediaType: OCI_INDEX,
              manifests: [
                { ...manifest(i, 'amd64'), platform: { os: 'linux', architecture: 'amd64' } },
                { ...manifest(i, 'arm64'), platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
              ],
            }),
          )
        : manifest(i, 'amd64');
    const input: BundleImageInput = { name: `registry.example:5000/scale/app${String(i).padStart(5, '0')}:1.0`, root };
    if (i % 10 === 0) {
      const empty = put('application/vnd.oci.empty.v1+json', '{}');
      const sbom = put('application/vnd.example.sbom', `sbom ${i}`);
      const subject = { mediaType: root.mediaType, digest: root.digest, size: root.size };
      input.referrers = [put(OCI_MANIFEST, JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.example.sbom', config: empty, layers: [sbom], subject }))];
    }
    images.push(input);
  }
  const fetch: FetchBlob = async (desc) => {
    const bytes = blobs.get(desc.digest);
    if (!bytes) throw new Error(`no blob ${desc.digest}`);
    return Readable.from([bytes]);
  };
  return { images, fetch };
}
