import { digestHex, type Digest } from '../core/digest.js';
import { decodeBase64, signerOf, type TrustedKey } from './trusted-key.js';

// cosign 3's default: a Sigstore bundle (protobuf-specs `Bundle`, JSON form)
// attached as an OCI 1.1 referrer. Key-based bundles only, checked offline:
//   DSSE envelope   the signature covers PAE(payloadType, payload) (DSSE v1);
//                   the payload is an in-toto Statement whose predicateType is
//                   cosign's `https://sigstore.dev/cosign/sign/v1` and one of
//                   whose subjects has the image's sha256.
//   message         the signature covers the manifest bytes themselves and
//                   messageDigest is their SHA2_256.
// Not checked: certificates (Fulcio, any X.509 chain: the bundle is refused
// as keyless), transparency-log entries and RFC 3161 timestamps (need Rekor's
// and a TSA's keys; with --rekor-key a bundle is refused rather than waved
// through), the publicKey hint (every trusted key is tried).

export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';
const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const STATEMENT_TYPES = ['https://in-toto.io/Statement/v1', 'https://in-toto.io/Statement/v0.1'];

/** What a bundle proved, before the identity rule: undefined `identity` = it names no image. */
export type BundleCheck =
  | { kind: 'signed'; key: TrustedKey; identity?: string }
  | { kind: 'refused'; reason: 'keyless' | 'unknown-key' | 'bad-payload' | 'other-manifest' | 'transparency-log'; why: string }
  | { kind: 'not-a-signature'; why: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The DSSE v1 pre-authentication encoding: what a DSSE signature signs. */
export function dssePae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

/** The trusted key that made one of the envelope's signatures, if any. */
export function dsseSigner(envelope: unknown, keys: readonly TrustedKey[]): TrustedKey | undefined {
  if (!isRecord(envelope) || typeof envelope.payloadType !== 'string' || !Array.isArray(envelope.signatures)) return undefined;
  const payload = decodeBase64(envelope.payload);
  if (!payload) return undefined;
  const pae = dssePae(envelope.payloadType, payload);
  for (const s of envelope.signatures) {
    const sig = isRecord(s) ? decodeBase64(s.sig) : undefined;
    const key = sig ? signerOf(keys, pae, sig) : undefined;
    if (key) return key;
  }
  return undefined;
}

function checkDsse(envelope: Record<string, unknown>, digest: Digest, keys: readonly TrustedKey[]): BundleCheck {
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) return { kind: 'not-a-signature', why: `DSSE payload type ${String(envelope.payloadType).slice(0, 80)}` };
  let statement: unknown;
  try {
    statement = JSON.parse((decodeBase64(envelope.payload) ?? Buffer.alloc(0)).toString('utf8'));
  } catch {
    return { kind: 'refused', reason: 'bad-payload', why: 'the DSSE payload is not JSON' };
  }
  if (!isRecord(statement) || !STATEMENT_TYPES.includes(String(statement._type)) || !Array.isArray(statement.subject)) {
    return { kind: 'refused', reason: 'bad-payload', why: 'the DSSE payload is not an in-toto statement' };
  }
  // An attestation (SBOM, provenance) is not a signature of the image, whoever signed it.
  if (statement.predicateType !== COSIGN_SIGN_PREDICATE) return { kind: 'not-a-signature', why: `an attestation (${String(statement.predicateType).slice(0, 100)})` };
  const key = dsseSigner(envelope, keys);
  if (!key) return { kind: 'refused', reason: 'unknown-key', why: 'signed by an unknown key (a Sigstore bundle, DSSE)' };
  const subjects = statement.subject.filter(isRecord);
  const mine = subjects.find((s) => isRecord(s.digest) && s.digest.sha256 === digestHex(digest));
  if (!mine) {
    const named = subjects.map((s) => (isRecord(s.digest) && typeof s.digest.sha256 === 'string' ? `sha256:${s.digest.sha256}` : '?')).join(', ');
    return { kind: 'refused', reason: 'other-manifest', why: `a trusted key signed ${named || 'no digest'}` };
  }
  return typeof mine.name === 'string' && mine.name !== '' ? { kind: 'signed', key, identity: mine.name } : { kind: 'signed', key };
}

function checkMessage(signature: Record<string, unknown>, digest: Digest, manifest: Buffer, keys: readonly TrustedKey[]): BundleCheck {
  const md = signature.messageDigest;
  const claimed = isRecord(md) && md.algorithm === 'SHA2_256' ? decodeBase64(md.digest)?.toString('hex') : undefined;
  if (!claimed) return { kind: 'refused', reason: 'bad-payload', why: 'the message signature has no SHA2_256 messageDigest' };
  // Another manifest's bytes are not here to check the signature against: what it claims decides.
  if (claimed !== digestHex(digest)) return { kind: 'refused', reason: 'other-manifest', why: `a message signature over sha256:${claimed}` };
  const sig = decodeBase64(signature.signature);
  const key = sig ? signerOf(keys, manifest, sig) : undefined;
  return key ? { kind: 'signed', key } : { kind: 'refused', reason: 'unknown-key', why: 'signed by an unknown key (a Sigstore bundle, message signature)' };
}

/** Checks a Sigstore bundle against the image's manifest (bytes and digest) and the trusted keys. */
export function checkSigstoreBundle(bytes: Buffer, digest: Digest, manifest: Buffer, keys: readonly TrustedKey[], rekorKeys: readonly TrustedKey[]): BundleCheck {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { kind: 'refused', reason: 'bad-payload', why: 'a Sigstore bundle that is not JSON' };
  }
  if (!isRecord(doc) || typeof doc.mediaType !== 'string' || !doc.mediaType.startsWith('application/vnd.dev.sigstore.bundle')) {
    return { kind: 'refused', reason: 'bad-payload', why: 'a Sigstore bundle without a Sigstore bundle mediaType' };
  }
  const material = isRecord(doc.verificationMaterial) ? doc.verificationMaterial : {};
  if (material.certificate !== undefined || material.x509CertificateChain !== undefined) {
    return { kind: 'refused', reason: 'keyless', why: 'a certificate-based (keyless) Sigstore bundle; ferry checks key-based signatures only, offline' };
  }
  const checked = isRecord(doc.dsseEnvelope)
    ? checkDsse(doc.dsseEnvelope, digest, keys)
    : isRecord(doc.messageSignature)
      ? checkMessage(doc.messageSignature, digest, manifest, keys)
      : ({ kind: 'refused', reason: 'bad-payload', why: 'a Sigstore bundle with neither a DSSE envelope nor a message signature' } as const);
  if (checked.kind === 'signed' && rekorKeys.length > 0) {
    return { kind: 'refused', reason: 'transparency-log', why: 'ferry does not check the transparency-log entries of Sigstore bundles; --rekor-key applies to .sig signatures' };
  }
  return checked;
}
