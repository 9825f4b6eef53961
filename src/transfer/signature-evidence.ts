import type { ContentSource } from '../core/content.js';
import type { Descriptor } from '../core/descriptor.js';
import { isImageManifest } from '../core/media-types.js';
import { attachmentsOf, type Attachment } from '../trust/index.js';
import { readManifestBytes } from './read-manifest.js';

// The signatures that came with an image, as bytes for src/trust: every
// referrer and cosign tag that export's discovery found (pull-image.ts
// collectReferrers: the referrers API or its tag schema, then the
// `sha256-<hex>.sig|.att|.sbom` tags). Only signature layers are read (capped
// at the metadata limit, digest-checked); an SBOM's layers never are.

/** Reads a small blob, capped and checked against its descriptor. */
export type ReadSmall = (desc: Descriptor) => Promise<Buffer>;

export async function gatherAttachments(candidates: readonly Descriptor[], read: ReadSmall): Promise<Attachment[]> {
  const out: Attachment[] = [];
  for (const candidate of candidates) {
    if (!isImageManifest(candidate.mediaType)) continue;
    out.push(...(await attachmentsOf(await read(candidate), candidate, read)));
  }
  return out;
}

/** Reading from a registry (or any content source). */
export function readFrom(source: ContentSource, signal?: AbortSignal): ReadSmall {
  return (desc) => readManifestBytes(source, desc, signal);
}
