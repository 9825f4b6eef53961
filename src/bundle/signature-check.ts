import type { KeyObject } from 'node:crypto';
import { ErrorCode, IntegrityError, UsageError } from '../core/errors.js';
import { keyIdOf, parsePublicKey, verify } from './sign.js';

// One rule for bundle.json and for the volume sidecar: a document that names a
// signer must carry a signature; a signature must be by the key it names, that
// key must be among the given ones, and it must verify; with requireSignature
// (the default when a key is given) an unsigned document is refused. A
// signature that fails under the named key is tried under the other given
// keys, to tell "signed by another key" from "changed after signing".

export interface TrustOptions {
  /** Ed25519 public key PEM (`NAME.pub`), or several: the keys trusted (and known) here. */
  key?: string | readonly string[];
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
  const keys = knownKeys(trust);
  if (keys.length === 0) {
    if (required) throw new UsageError(`${doc.name} is signed by ${doc.signerKeyId}; a public key is needed to check it`, { code: ErrorCode.keyInvalid, hint: 'pass --key NAME.pub' });
    return 'unchecked';
  }
  const signature = doc.signature;
  const named = keys.find((k) => k.id === doc.signerKeyId);
  if (named && verify(doc.bytes, signature, named.key)) return 'verified';
  const other = keys.find((k) => k !== named && verify(doc.bytes, signature, k.key));
  if (other) {
    throw new IntegrityError(`${doc.sigName}: ${doc.name} is signed by another key (id ${other.id}), expected ${doc.signerKeyId}, the signer it names`, {
      code: ErrorCode.signatureInvalid,
      subject: doc.sigName,
      expected: doc.signerKeyId,
      actual: other.id,
      hint: 'the signer named inside the document was changed, or it was signed with the wrong key: ask the sender to export it again',
    });
  }
  if (!named) {
    const given = keys.map((k) => k.id).join(', ');
    throw new IntegrityError(`${doc.name} is signed by key ${doc.signerKeyId}, not by the given key ${given}`, {
      code: ErrorCode.signatureInvalid,
      subject: doc.sigName,
      expected: given,
      actual: doc.signerKeyId,
      hint: 'check that --key is the public half of the key the bundle was exported with',
    });
  }
  throw new IntegrityError(`${doc.sigName} does not verify: ${doc.name} was changed after signing`, {
    code: ErrorCode.signatureInvalid,
    subject: doc.sigName,
    hint: 'if another key may have signed it, give that key too (--key may be repeated) and the message names it',
  });
}

/** The given public keys with their ids, in the order given. */
function knownKeys(trust: TrustOptions): { key: KeyObject; id: string }[] {
  const pems = trust.key === undefined ? [] : typeof trust.key === 'string' ? [trust.key] : trust.key;
  return pems.map((pem) => {
    const key = parsePublicKey(pem);
    return { key, id: keyIdOf(key) };
  });
}
