// A synthetic N-image bundle, written by ferry's own writeBundle from blobs
// held in memory (no registry): per image a config and three layers (two
// shared bases, one own), every 4th image a two-platform OCI index, every
// 10th with an OCI referrer, every 25th with a foreign layer URL. Enough shape
// for inspect/verify curves at N = 1,000 in seconds.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const CONFIG = 'application/vnd.oci.image.config.v1+json';
const LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const FOREIGN = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip';

export function syntheticImages(n) {
  const blobs = new Map();
  const put = (mediaType, text) => {
    const bytes = Buffer.from(text);
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    blobs.set(digest, bytes);
    return { mediaType, digest, size: bytes.length };
  };
  const bases = [put(LAYER, 'base 0'), put(LAYER, 'base 1')];
  const manifest = (i, arch, extra = {}) => {
    const config = put(CONFIG, JSON.stringify({ architecture: arch, os: 'linux', n: i }));
    const layers = [...bases, put(LAYER, `own ${i} ${arch}`)];
    if (i % 25 === 0) layers.push({ mediaType: FOREIGN, digest: put(FOREIGN, `foreign ${i}`).digest, size: `foreign ${i}`.length, urls: [`https://foreign.example/${i}`] });
    return put(OCI_MANIFEST, JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers, ...extra }));
  };
  const images = [];
  for (let i = 0; i < n; i++) {
    let root;
    if (i % 4 === 0) {
      const amd = { ...manifest(i, 'amd64'), platform: { os: 'linux', architecture: 'amd64' } };
      const arm = { ...manifest(i, 'arm64'), platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } };
      root = put(OCI_INDEX, JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [amd, arm] }));
    } else {
      root = manifest(i, 'amd64');
    }
    const input = { name: `registry.example:5000/scale/app${String(i).padStart(5, '0')}:1.0`, root };
    if (i % 10 === 0) {
      const sbom = put('application/vnd.example.sbom', `sbom ${i}`);
      const empty = put('application/vnd.oci.empty.v1+json', '{}');
      input.referrers = [put(OCI_MANIFEST, JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.example.sbom', config: empty, layers: [sbom], subject: { mediaType: root.mediaType, digest: root.digest, size: root.size } }))];
    }
    images.push(input);
  }
  const fetch = async (desc) => {
    const bytes = blobs.get(desc.digest);
    if (!bytes) throw new Error(`no blob ${desc.digest}`);
    return Readable.from([bytes]);
  };
  return { images, fetch };
}
