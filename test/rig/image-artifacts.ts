import { createHash } from 'node:crypto';
import { MediaType } from '../../src/core/media-types.js';
import type { BlobSet, RigDescriptor } from './image-blobs.js';
import { FIXED_MTIME } from './layer-tar.js';

// Artifacts that point at an image: an SBOM referrer (OCI 1.1 `subject`), the
// referrers tag-schema index that stands in for the referrers API on registries
// without it (distribution 2.8), and a cosign-style simple-signing signature.

export const SBOM_ARTIFACT_TYPE = 'application/spdx+json';
export const COSIGN_SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';

const CREATED = FIXED_MTIME.toISOString();

/** An OCI artifact manifest (empty config, one SBOM layer) whose subject is `subject`. */
export function addSbomReferrer(blobs: BlobSet, subject: RigDescriptor, imageName: string): RigDescriptor {
  const empty = blobs.add(MediaType.ociEmpty, Buffer.from('{}'));
  const sbom = {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: imageName,
    documentNamespace: `https://ferry.test/spdx/${subject.digest}`,
    creationInfo: { created: CREATED, creators: ['Tool: ferry-test-rig'] },
    packages: [{ SPDXID: 'SPDXRef-app', name: 'app', versionInfo: '1.0', downloadLocation: 'NOASSERTION' }],
  };
  const layer = blobs.addJson(SBOM_ARTIFACT_TYPE, sbom, {
    annotations: { 'org.opencontainers.image.title': 'sbom.spdx.json' },
  });
  const annotations = { 'org.opencontainers.image.created': CREATED };
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    artifactType: SBOM_ARTIFACT_TYPE,
    config: { mediaType: MediaType.ociEmpty, digest: empty.digest, size: empty.size },
    layers: [layer],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations,
  };
  return blobs.addJson(MediaType.ociManifest, manifest, { artifactType: SBOM_ARTIFACT_TYPE, annotations });
}

/** The OCI referrers tag schema: an index tagged `sha256-<hex of subject>` listing the referrers. */
export function addReferrersTagIndex(blobs: BlobSet, referrers: readonly RigDescriptor[]): RigDescriptor {
  const manifests = referrers.map((r) => ({
    mediaType: r.mediaType,
    digest: r.digest,
    size: r.size,
    ...(r.artifactType ? { artifactType: r.artifactType } : {}),
    ...(r.annotations ? { annotations: r.annotations } : {}),
  }));
  return blobs.addJson(MediaType.ociIndex, { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests });
}

/** A cosign signature manifest (tag `sha256-<hex>.sig`): one simple-signing layer. */
export function addCosignSignature(blobs: BlobSet, subject: RigDescriptor, dockerReference: string): RigDescriptor {
  const payload = {
    critical: {
      identity: { 'docker-reference': dockerReference },
      image: { 'docker-manifest-digest': subject.digest },
      type: 'cosign container image signature',
    },
    optional: null,
  };
  // Not a verifiable signature: tests check that it is carried, not what it proves.
  const fakeSignature = createHash('sha512').update(JSON.stringify(payload)).digest('base64');
  const layer = blobs.addJson(MediaType.cosignSimpleSigning, payload, {
    annotations: { [COSIGN_SIGNATURE_ANNOTATION]: fakeSignature },
  });
  const config = blobs.addJson(MediaType.ociConfig, {
    architecture: '',
    created: '0001-01-01T00:00:00Z',
    history: [{ created: '0001-01-01T00:00:00Z' }],
    os: '',
    rootfs: { type: 'layers', diff_ids: [layer.digest] },
    config: {},
  });
  const manifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: [layer] };
  return blobs.addJson(MediaType.ociManifest, manifest);
}
