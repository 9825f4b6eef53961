import { digestOf, type Digest } from '../core/digest.js';
import { repositoryName, type Reference } from '../core/reference.js';
import { reject, ruleFor, verifyImage, type Attachment, type ImageRefusal, type SignatureFormat, type TrustPolicy } from '../trust/index.js';

// One image against the signature policy, the same way on both sides of the
// gap: export and copy judge what the registry serves, import judges the
// bundle's bytes. An image no policy entry covers is refused too.

/** Which key verified an image, and with what: recorded in bundle.json and the reports. */
export interface SignedBy {
  keyId: string;
  format: SignatureFormat;
  /** The manifest carrying the accepted signature (the `.sig` manifest, the bundle referrer). */
  signature: Digest;
  /** The identity it was signed under, when it names one. */
  signedIdentity?: string;
}

export type Judgement = { ok: true; digest: Digest; signedBy: SignedBy } | { ok: false; refusal: ImageRefusal };

export const TRUST_HINT = "only images signed by a trusted key cross: check --require-signed-by KEY.pub (or the spec's policy) against the publisher's key, e.g. `cosign verify --key KEY.pub IMAGE`";

export interface JudgeInput {
  /** As the user knows it, for the message. */
  display: string;
  /** The name the signature's identity is checked against. */
  name: Reference;
  manifest: () => Promise<Buffer>;
  attachments: () => Promise<Attachment[]>;
}

export async function judge(input: JudgeInput, policy: TrustPolicy): Promise<Judgement> {
  const rule = ruleFor(policy, input.name);
  if (!rule) {
    const rejection = reject('no-rule', `no key in the signature policy covers ${repositoryName(input.name)}; add it to the spec's policy or give --require-signed-by`);
    const digest = await input.manifest().then(digestOf, () => undefined);
    return { ok: false, refusal: { image: input.display, ...(digest ? { digest } : {}), rejection } };
  }
  const { digest, verdict } = await verifyImage({ name: input.name, manifest: input.manifest, attachments: await input.attachments() }, rule);
  if (!verdict.ok || !digest) {
    const rejection = verdict.ok ? reject('unreadable-manifest', 'no digest') : verdict;
    return { ok: false, refusal: { image: input.display, ...(digest ? { digest } : {}), rejection } };
  }
  const signedBy: SignedBy = { keyId: verdict.keyId, format: verdict.format, signature: verdict.carrier };
  if (verdict.signedIdentity !== undefined) signedBy.signedIdentity = verdict.signedIdentity;
  return { ok: true, digest, signedBy };
}
