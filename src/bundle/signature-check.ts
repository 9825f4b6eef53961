import { ErrorCode, IntegrityError, UsageError } from '../core/errors.js';
import { keyIdOf, parsePublicKey, verify } from './sign.js';

// One rule for bundle.json and for the volume sidecar: a document that names a
// signer must carry a signature; a signature must be by the given key and
// verify; with requireSignature (the default when a key is given) an unsigned
// document is refused.

export interface TrustOptions {
  /** Ed25519 public key PEM (`NAME.pub`). */
  key?: string;
  /** Refuse unsigned bundles; defaults to true when `key` is given. */
  requireSignature?: boolean;
}

/** verified: checked with the key; unchecked: signed, but no key was given; none: unsigned. */
export type SignatureState = 'verified' | 'unchecked' | 'none';

export interface SignedDocument {
  /** The signed file's name, e.g. ferry/bundle.json. */
  name: string;
  /** The signature file's name, e.g. ferry/bundle.json.sig. */
  sigName: string;
  bytes: Uint8Array;
  signerKeyId: string | undefined;
  signature: Uint8Array | undefined;
}

export function checkSignature(doc: SignedDocument, trust: TrustOptions): SignatureState {
  const required = trust.requireSignature ?? trust.key !== undefined;
  if (doc.signature === undefined) {
    if (doc.signerKeyId !== undefined) {
      throw new IntegrityError(`${doc.sigName} is missing although ${doc.name} names signer ${doc.signerKeyId}`, {
        code: ErrorCode.signatureMissing,
        subject: doc.sigName,
      });
    }
    if (required) {
      throw new IntegrityError(`${doc.name} is not signed, and a signature is required`, {
        code: ErrorCode.signatureMissing,
        subject: doc.name,
        hint: 'ask the sender for a bundle exported with --sign KEY, or drop --key to accept unsigned bundles',
      });
    }
    return 'none';
  }
  if (doc.signerKeyId === undefined) {
    throw new IntegrityError(`${doc.sigName} is present but ${doc.name} names no signer`, { code: ErrorCode.bundleInvalid, subject: doc.sigName });
  }
  if (trust.key === undefined) {
    if (required) throw new UsageError(`${doc.name} is signed by ${doc.signerKeyId}; a public key is needed to check it`, { code: ErrorCode.keyInvalid, hint: 'pass --key NAME.pub' });
    return 'unchecked';
  }
  const key = parsePublicKey(trust.key);
  const given = keyIdOf(key);
  if (given !== doc.signerKeyId) {
    throw new IntegrityError(`${doc.name} is signed by key ${doc.signerKeyId}, not by the given key ${given}`, {
      code: ErrorCode.signatureInvalid,
      subject: doc.sigName,
      expected: given,
      actual: doc.signerKeyId,
      hint: 'check that --key is the public half of the key the bundle was exported with',
    });
  }
  if (!verify(doc.bytes, doc.signature, key)) {
    throw new IntegrityError(`${doc.sigName} does not verify: ${doc.name} was changed after signing`, {
      code: ErrorCode.signatureInvalid,
      subject: doc.sigName,
    });
  }
  return 'verified';
}
