import type { ContentSource } from '../core/content.js';
import type { Descriptor } from '../core/descriptor.js';
import { formatReference, type Reference } from '../core/reference.js';
import { UntrustedImagesError, type TrustPolicy } from '../trust/index.js';
import { readManifestBytes } from './read-manifest.js';
import { gatherAttachments, readFrom } from './signature-evidence.js';
import { judge, TRUST_HINT, type SignedBy } from './trust-judge.js';

// Export and copy, before a single layer moves: is the root about to be copied
// signed by a trusted key? The signatures are the referrers export's discovery
// found for that root. A refused image throws UntrustedImagesError (exit 5).

export interface SourceCheck {
  /** The reference as asked: named in the message, and the identity signatures must match. */
  reference: Reference;
  /** The root that will be copied (after --platform). */
  root: Descriptor;
  /** Set when --platform replaced the tag's root. */
  rewrittenFrom?: Descriptor['digest'];
  source: ContentSource;
  rootBytes: () => Promise<Buffer>;
  referrers: readonly Descriptor[];
  policy: TrustPolicy;
  signal?: AbortSignal;
}

export async function checkAtSource(c: SourceCheck): Promise<SignedBy> {
  const judged = await judge(
    { display: formatReference(c.reference), name: c.reference, manifest: c.rootBytes, attachments: () => gatherAttachments(c.referrers, readFrom(c.source, c.signal)) },
    c.policy,
  );
  if (judged.ok) return judged.signedBy;
  const { refusal } = judged;
  if (c.rewrittenFrom) {
    // Signatures are checked on what is carried; a publisher usually signs the index only.
    refusal.rejection = {
      ...refusal.rejection,
      detail: `${refusal.rejection.detail}; --platform replaced the tag's ${c.rewrittenFrom.slice(0, 19)}… with this manifest, which is what must be signed (export every platform, or have the publisher sign each one: cosign sign --recursive)`,
    };
  }
  throw new UntrustedImagesError([refusal], TRUST_HINT);
}

/** Export's referrer discovery (pull-image.ts collectReferrers), or a lookup it already started. */
export type FindReferrers = (source: ContentSource, root: Descriptor, rootBytes: () => Promise<Buffer>) => Promise<Descriptor[]>;

/** copyImage's beforeCopy for a policy: finds the root's signatures and checks them; `accepted` gets the key that signed. */
export function signatureCheck(
  reference: Reference,
  policy: TrustPolicy,
  findReferrers: FindReferrers,
  accepted: (signedBy: SignedBy) => void,
  signal?: AbortSignal,
): (source: ContentSource, root: Descriptor, written: Map<string, Buffer>, rewrittenFrom?: Descriptor['digest']) => Promise<void> {
  return async (source, root, written, rewrittenFrom) => {
    const rootBytes = async (): Promise<Buffer> => written.get(root.digest) ?? readManifestBytes(source, root, signal);
    const referrers = await findReferrers(source, root, rootBytes);
    accepted(await checkAtSource({ reference, root, source, rootBytes, referrers, policy, ...(rewrittenFrom ? { rewrittenFrom } : {}), ...(signal ? { signal } : {}) }));
  };
}
