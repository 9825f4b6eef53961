import type { Digest } from '../core/digest.js';

// What one signature, and then one image, came to. The reasons are ranked:
// when every signature of an image fails, the one that got furthest explains
// the refusal (a signature by a trusted key for another manifest says more
// than a stranger's signature).

/** A signature found with an image: a `.sig` layer, a Sigstore bundle, or something else attached. */
export type Attachment =
  | { kind: 'simple-signing'; payload: Buffer; annotations: Readonly<Record<string, string>>; carrier: Digest }
  | { kind: 'sigstore-bundle'; bundle: Buffer; carrier: Digest }
  | { kind: 'other'; mediaType: string; carrier: Digest };

export type SignatureFormat = 'cosign-sig' | 'sigstore-bundle';

export interface Acceptance {
  ok: true;
  /** ferry's id of the trusted key that made it. */
  keyId: string;
  format: SignatureFormat;
  /** The manifest that carries the signature (the `.sig` manifest, the bundle referrer). */
  carrier: Digest;
  /** The identity it was signed under (`critical.identity.docker-reference`), when it names one. */
  signedIdentity?: string;
}

export const REFUSAL_REASONS = [
  'no-signature',
  'keyless',
  'unknown-key',
  'transparency-log',
  'bad-payload',
  'other-manifest',
  'identity-mismatch',
  'unreadable-manifest',
  'no-rule',
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export interface Rejection {
  ok: false;
  reason: RefusalReason;
  detail: string;
}

export type Verdict = Acceptance | Rejection;

/** The rejection that got furthest (REFUSAL_REASONS order); ties keep the first. */
export function furthest(rejections: readonly Rejection[]): Rejection | undefined {
  let best: Rejection | undefined;
  for (const r of rejections) if (!best || REFUSAL_REASONS.indexOf(r.reason) > REFUSAL_REASONS.indexOf(best.reason)) best = r;
  return best;
}

export function reject(reason: RefusalReason, detail: string): Rejection {
  return { ok: false, reason, detail };
}
