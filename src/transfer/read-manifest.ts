import type { ContentSource } from '../core/content.js';
import type { Descriptor } from '../core/descriptor.js';
import { verifyBytes } from '../core/hashing.js';
import { MAX_MANIFEST_BYTES } from '../core/limits.js';
import { parseManifest, type Manifest } from '../core/manifest.js';
import { readCapped } from '../core/read-capped.js';

/** Fetches a manifest's bytes from a source, capped and verified against its descriptor. */
export async function readManifestBytes(source: ContentSource, desc: Descriptor, signal?: AbortSignal): Promise<Buffer> {
  const stream = await source.fetch(desc, signal ? { signal } : {});
  const bytes = await readCapped(stream, MAX_MANIFEST_BYTES, desc.digest);
  verifyBytes(bytes, desc, desc.digest);
  return bytes;
}

export async function readManifest(source: ContentSource, desc: Descriptor, signal?: AbortSignal): Promise<{ bytes: Buffer; manifest: Manifest }> {
  const bytes = await readManifestBytes(source, desc, signal);
  return { bytes, manifest: parseManifest(bytes, desc.mediaType, desc.digest) };
}
