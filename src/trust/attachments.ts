import type { Descriptor } from '../core/descriptor.js';
import type { Digest } from '../core/digest.js';
import { parseManifest } from '../core/manifest.js';
import { MediaType } from '../core/media-types.js';
import type { Attachment } from './verdict.js';

// The signatures a signature manifest carries. The `.sig` layout
// (cosign's SIGNATURE_SPEC; containers/image docker_image_src.go): one
// `simplesigning` layer per signature, the layer bytes the signed payload, the
// layer annotations the signature (and optional Rekor SET / certificate). A
// Sigstore bundle referrer: one layer holding the bundle JSON. Other layers
// are attachments that are not signatures (counted, never trusted).

/** Sigstore bundle media types: `application/vnd.dev.sigstore.bundle.v0.3+json`, `…bundle+json;version=0.2`. */
export function isSigstoreBundle(mediaType: string | undefined): boolean {
  return typeof mediaType === 'string' && mediaType.startsWith('application/vnd.dev.sigstore.bundle');
}

/** A layer a verifier may need to read: signature payloads and bundles (small, capped by the reader). */
export function isSignatureLayer(mediaType: string): boolean {
  return mediaType === MediaType.cosignSimpleSigning || isSigstoreBundle(mediaType);
}

export async function attachmentsOf(
  manifest: Buffer,
  desc: Pick<Descriptor, 'mediaType' | 'digest'>,
  readLayer: (layer: Descriptor) => Promise<Buffer>,
): Promise<Attachment[]> {
  const parsed = parseManifest(manifest, desc.mediaType, desc.digest);
  if (parsed.kind !== 'manifest') return [];
  const carrier: Digest = desc.digest;
  const out: Attachment[] = [];
  for (const layer of parsed.layers) {
    if (layer.mediaType === MediaType.cosignSimpleSigning) {
      out.push({ kind: 'simple-signing', payload: await readLayer(layer), annotations: layer.annotations ?? {}, carrier });
    } else if (isSigstoreBundle(layer.mediaType)) {
      out.push({ kind: 'sigstore-bundle', bundle: await readLayer(layer), carrier });
    } else {
      out.push({ kind: 'other', mediaType: layer.mediaType, carrier });
    }
  }
  return out;
}
