import type { Descriptor } from '../core/descriptor.js';
import { digestOf, type Digest } from '../core/digest.js';
import { manifestJson } from '../core/manifest.js';
import { distributableLayerType, isForeignLayer, isIndex, isImageManifest } from '../core/media-types.js';

// --foreign-layers=localize (design §4, the default on import): the far side has
// no internet, and containerd tries a layer's `urls` first and fails when they are
// unreachable. So foreign layers become ordinary layers (same bytes, distributable
// media type, no urls); every manifest above them gets a new digest, and the
// mapping is reported, never silent.

export interface Localized {
  root: Descriptor;
  /** New manifests, keyed by their new digest. */
  written: Map<string, Buffer>;
  /** original manifest digest → new digest, for every manifest that changed. */
  mapping: Array<{ from: Digest; to: Digest }>;
}

type ManifestBytes = (digest: Digest) => Buffer | undefined;

interface Json {
  [key: string]: unknown;
}

function rewrite(desc: Descriptor, bytesOf: ManifestBytes, out: Localized): Descriptor {
  if (!isIndex(desc.mediaType) && !isImageManifest(desc.mediaType)) return desc;
  const bytes = bytesOf(desc.digest);
  // Not in the bundle: a delta left it out because the target holds it (import checked
  // that before landing anything), so it is already what the target serves — keep it.
  if (!bytes) return desc;
  const doc = manifestJson(bytes, desc.digest) as Json;
  let changed = false;
  if (Array.isArray(doc.manifests)) {
    for (const child of doc.manifests as Json[]) {
      const next = rewrite(child as unknown as Descriptor, bytesOf, out);
      if (next.digest !== child.digest) {
        child.digest = next.digest;
        child.size = next.size;
        changed = true;
      }
    }
  }
  if (Array.isArray(doc.layers)) {
    for (const layer of doc.layers as Json[]) {
      if (isForeignLayer(layer.mediaType as string)) {
        layer.mediaType = distributableLayerType(layer.mediaType as string);
        delete layer.urls;
        changed = true;
      }
    }
  }
  if (!changed) return desc;
  const newBytes = Buffer.from(JSON.stringify(doc));
  const next: Descriptor = { ...desc, digest: digestOf(newBytes), size: newBytes.length };
  out.written.set(next.digest, newBytes);
  out.mapping.push({ from: desc.digest, to: next.digest });
  return next;
}

export function localizeForeignLayers(root: Descriptor, bytesOf: ManifestBytes): Localized {
  const out: Localized = { root, written: new Map(), mapping: [] };
  out.root = rewrite(root, bytesOf, out);
  return out;
}
