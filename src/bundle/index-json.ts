import { ANNOTATION_CONTAINERD_NAME, ANNOTATION_REF_NAME, parseDescriptor, type Descriptor } from '../core/descriptor.js';
import { parseBoundedJsonObject } from '../core/bounded-json.js';
import { ErrorCode, IntegrityError } from '../core/errors.js';
import { MAX_METADATA_BYTES } from '../core/limits.js';
import { MediaType } from '../core/media-types.js';
import type { GraphImage } from './bundle-graph.js';
import { BundleEntry, type BundleImageSummary } from './format.js';

// The bundle's OCI `index.json`: one descriptor per exported image, named by
// both annotations with the full reference, because skopeo matches
// `oci-archive:PATH:REF` against org.opencontainers.image.ref.name and
// `ctr images import` names images from io.containerd.image.name (peers.md).
// Referrers are not listed: they have no name, and live in index.db.

export interface OciIndexJson {
  schemaVersion: 2;
  mediaType: string;
  manifests: Descriptor[];
}

/** The descriptors index.json lists: one per image, named for skopeo (ref.name) and `ctr images import` (containerd name). */
function indexManifests(images: readonly Pick<GraphImage, 'name' | 'root'>[]): Descriptor[] {
  return images.map((i) => ({
    mediaType: i.root.mediaType,
    digest: i.root.digest,
    size: i.root.size,
    annotations: { [ANNOTATION_CONTAINERD_NAME]: i.name, [ANNOTATION_REF_NAME]: i.name },
  }));
}

function serialize(manifests: readonly Descriptor[]): Buffer {
  return Buffer.from(`${JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests })}\n`);
}

/** index.json naming each image for skopeo (ref.name) and `ctr images import` (containerd name). */
export function buildIndexJson(images: readonly Pick<GraphImage, 'name' | 'root'>[]): Buffer {
  return serialize(indexManifests(images));
}

/**
 * index.json is a pure function of bundle.json's images: when `bytes` are
 * exactly what ferry writes for them, that index (without parsing 300 KB of
 * JSON at 1,000 images); undefined for any other bytes, which parseIndexJson
 * then checks as before. bundle.json's images are already validated (names,
 * digests, media types within bounds), so the derived descriptors are too.
 */
export function indexJsonOf(bytes: Uint8Array, images: readonly BundleImageSummary[]): OciIndexJson | undefined {
  const manifests = indexManifests(images.map((i) => ({ name: i.name, root: { mediaType: i.mediaType, digest: i.digest, size: i.size } })));
  if (!serialize(manifests).equals(bytes)) return undefined;
  return { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests };
}

function bad(what: string): IntegrityError {
  return new IntegrityError(`${BundleEntry.indexJson}: ${what}`, { code: ErrorCode.bundleInvalid, subject: BundleEntry.indexJson });
}

/** Parses the bundle's index.json (bytes already digest-checked; size and nesting bounded here too); every entry must carry a name. */
export function parseIndexJson(bytes: Uint8Array): OciIndexJson {
  const d = parseBoundedJsonObject(bytes, { subject: BundleEntry.indexJson, maxBytes: MAX_METADATA_BYTES, code: ErrorCode.bundleInvalid });
  if (d.schemaVersion !== 2 || !Array.isArray(d.manifests)) throw bad('not an OCI image index (schemaVersion 2 with manifests)');
  const manifests = d.manifests.map((m, i) => {
    const desc = parseDescriptor(m, `${BundleEntry.indexJson} manifests[${i}]`);
    if (!desc.annotations?.[ANNOTATION_REF_NAME]) throw bad(`manifests[${i}] has no ${ANNOTATION_REF_NAME}`);
    return desc;
  });
  return { schemaVersion: 2, mediaType: typeof d.mediaType === 'string' ? d.mediaType : MediaType.ociIndex, manifests };
}

/** The full reference index.json gives an entry. */
export function indexEntryName(desc: Descriptor): string {
  return desc.annotations?.[ANNOTATION_REF_NAME] ?? '';
}
