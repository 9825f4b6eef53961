import { digestHex, digestOf, type Digest } from '../core/digest.js';
import type { Reference } from '../core/reference.js';
import { describeExpectation, identityMatches, type IdentityRule } from './identity-rule.js';
import { checkRekorSet } from './rekor-set.js';
import { checkSigstoreBundle } from './sigstore-bundle.js';
import { parseSimpleSigning } from './simple-signing.js';
import { decodeBase64, signerOf, type TrustedKey } from './trusted-key.js';
import { furthest, reject, type Acceptance, type Attachment, type Rejection, type Verdict } from './verdict.js';

// Is this image signed by a key we trust? Every signature found with it is
// tried; one accepted is enough (containers/image's prSigstoreSigned). A
// `.sig` signature is checked in containers/image's order: the cryptographic
// signature first, then the payload, then the digest it names, then the
// identity. Pure: the caller brings the bytes (from a registry or a bundle).

export const COSIGN_SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
export const COSIGN_SET_ANNOTATION = 'dev.sigstore.cosign/bundle';
export const COSIGN_CERTIFICATE_ANNOTATION = 'dev.sigstore.cosign/certificate';

export interface TrustRule {
  /** Any one of these suffices. */
  keys: TrustedKey[];
  identity: IdentityRule;
  /** With Rekor keys, a `.sig` signature must carry a Rekor SET signed by one of them. */
  rekorKeys: TrustedKey[];
}

export interface ImageToCheck {
  /** The name it is checked under: the reference asked for (export, copy), the bundle's name for it (import). */
  name: Reference;
  /** The manifest's bytes (its sha256 is the digest signatures must name). */
  manifest: () => Promise<Buffer>;
  attachments: readonly Attachment[];
}

export interface ImageVerdict {
  /** The digest checked, when the manifest could be read. */
  digest?: Digest;
  verdict: Verdict;
}

const short = (d: string) => `${d.slice(0, 19)}…`;
const keyList = (rule: TrustRule) => rule.keys.map((k) => k.id).join(', ');

function checkSimpleSigning(a: Extract<Attachment, { kind: 'simple-signing' }>, digest: Digest, name: Reference, rule: TrustRule): Verdict {
  const b64 = a.annotations[COSIGN_SIGNATURE_ANNOTATION];
  const signature = decodeBase64(b64);
  const key = signature && b64 ? signerOf(rule.keys, a.payload, signature) : undefined;
  if (!key || !b64) {
    if (a.annotations[COSIGN_CERTIFICATE_ANNOTATION]) return reject('keyless', 'a keyless (certificate) signature; ferry checks key-based signatures only, offline');
    return reject('unknown-key', signature ? 'signed by an unknown key' : 'a signature layer without a valid signature annotation');
  }
  if (rule.rekorKeys.length > 0) {
    const set = a.annotations[COSIGN_SET_ANNOTATION];
    if (set === undefined) return reject('transparency-log', `no Rekor SET (${COSIGN_SET_ANNOTATION}) although --rekor-key requires one`);
    const checked = checkRekorSet(rule.rekorKeys, set, key, b64, a.payload);
    if (!checked.ok) return reject('transparency-log', checked.why);
  }
  const parsed = parseSimpleSigning(a.payload);
  if (!parsed.ok) return reject('bad-payload', `signed by ${key.id}, but ${parsed.why}`);
  const { manifestDigest, dockerReference } = parsed.payload;
  if (manifestDigest !== digest) return reject('other-manifest', `a trusted key (${key.id}) signed ${short(manifestDigest)}, this image is ${short(digest)}`);
  if (!identityMatches(rule.identity, name, dockerReference)) {
    return reject('identity-mismatch', `signed as '${dockerReference}', expected ${describeExpectation(rule.identity, name)} (${rule.identity})`);
  }
  return { ok: true, keyId: key.id, format: 'cosign-sig', carrier: a.carrier, signedIdentity: dockerReference };
}

function checkBundle(a: Extract<Attachment, { kind: 'sigstore-bundle' }>, digest: Digest, manifest: Buffer, name: Reference, rule: TrustRule): Verdict | undefined {
  const checked = checkSigstoreBundle(a.bundle, digest, manifest, rule.keys, rule.rekorKeys);
  if (checked.kind === 'not-a-signature') return undefined;
  if (checked.kind === 'refused') return reject(checked.reason, checked.why);
  const accepted: Acceptance = { ok: true, keyId: checked.key.id, format: 'sigstore-bundle', carrier: a.carrier };
  if (checked.identity === undefined) {
    // A bundle binds a digest, not a name: only a rule that asks for no more than the repository can pass it.
    if (rule.identity === 'matchRepository') return accepted;
    return reject('identity-mismatch', `a Sigstore bundle names no image, expected ${describeExpectation(rule.identity, name)} (${rule.identity})`);
  }
  if (!identityMatches(rule.identity, name, checked.identity)) {
    return reject('identity-mismatch', `signed as '${checked.identity}', expected ${describeExpectation(rule.identity, name)} (${rule.identity})`);
  }
  return { ...accepted, signedIdentity: checked.identity };
}

function unreadable(err: unknown): Rejection {
  return reject('unreadable-manifest', `cannot read the image manifest (${err instanceof Error ? err.message : String(err)})`);
}

/** Why these bytes cannot be an image whose digest a signature names, if they cannot. */
function manifestProblem(manifest: Buffer): string | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(manifest.toString('utf8'));
  } catch {
    return 'the manifest is not JSON';
  }
  // Docker schema1 digests are taken over the manifest minus its JWS signatures: ferry refuses schema1 everywhere.
  if (typeof doc === 'object' && doc !== null && (doc as { schemaVersion?: unknown }).schemaVersion === 1) return 'a Docker schema1 manifest, whose digest ferry does not compute';
  return undefined;
}

export async function verifyImage(image: ImageToCheck, rule: TrustRule): Promise<ImageVerdict> {
  let manifest: Buffer;
  try {
    manifest = await image.manifest();
  } catch (err) {
    return { verdict: unreadable(err) };
  }
  const digest = digestOf(manifest);
  const problem = manifestProblem(manifest);
  if (problem) return { digest, verdict: reject('unreadable-manifest', problem) };
  const rejections: Rejection[] = [];
  const others: string[] = [];
  for (const a of image.attachments) {
    const verdict = a.kind === 'simple-signing' ? checkSimpleSigning(a, digest, image.name, rule) : a.kind === 'sigstore-bundle' ? checkBundle(a, digest, manifest, image.name, rule) : undefined;
    if (verdict?.ok) return { digest, verdict };
    if (verdict) rejections.push(verdict);
    else others.push(a.kind === 'other' ? a.mediaType : 'an attestation');
  }
  const best = furthest(rejections);
  if (best?.reason === 'unknown-key') return { digest, verdict: reject('unknown-key', `${best.detail} (${rejections.length} signature${rejections.length === 1 ? '' : 's'}; trusted: ${keyList(rule)})`) };
  if (best) return { digest, verdict: best };
  const ignored = others.length ? `; ignored ${others.length} attachment${others.length === 1 ? '' : 's'} that ${others.length === 1 ? 'is' : 'are'} no signature (${[...new Set(others)].join(', ')})` : '';
  return { digest, verdict: reject('no-signature', `no cosign signature found (checked sha256-${digestHex(digest)}.sig and referrers${ignored})`) };
}
