import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as cryptoSign,
  verify as cryptoVerify,
  type KeyObject,
} from 'node:crypto';
import { ErrorCode, UsageError } from '../core/errors.js';
import { spkiKeyId } from '../core/key-id.js';
import { SIGNATURE_BYTES } from './format.js';

// Ed25519 over the exact bytes of a file (bundle.json, volumes.json): the raw
// 64-byte signature is what `openssl pkeyutl -verify -pubin -rawin` checks, so
// a far side without ferry can verify a bundle with stock tools. Keys are PEM:
// PKCS#8 private, SPKI public.

export interface KeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
  keyId: string;
}

const KEYGEN_HINT = 'make a key pair with `ferry keygen -o NAME` (NAME.key signs, NAME.pub verifies)';

function keyInvalid(message: string, cause?: unknown): UsageError {
  return new UsageError(message, { code: ErrorCode.keyInvalid, hint: KEYGEN_HINT, cause });
}

function requireEd25519(key: KeyObject, source: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw keyInvalid(`${source} is a ${String(key.asymmetricKeyType ?? 'symmetric').toUpperCase()} key; ferry signs with Ed25519`);
  }
  return key;
}

/** A private key from PKCS#8 PEM; `source` names it (a file path) in errors. */
export function parsePrivateKey(pem: string, source = 'the signing key'): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    const isPublic = /-----BEGIN PUBLIC KEY-----/.test(pem);
    throw keyInvalid(`${source} is not a private key${isPublic ? ' (it is a public key: sign with NAME.key, verify with NAME.pub)' : ' in PEM form'}`, err);
  }
  return requireEd25519(key, source);
}

/** A public key from SPKI PEM (a private key PEM is accepted too: its public half is used). */
export function parsePublicKey(pem: string, source = 'the verification key'): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw keyInvalid(`${source} is not a public key in PEM form`, err);
  }
  return requireEd25519(key, source);
}

export function generateKeyPair(): KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { privateKeyPem, publicKeyPem, keyId: keyIdOf(publicKeyPem) };
}

/** `sha256:` + the first 16 hex characters of the SPKI DER digest; a private key gives its public key's id. */
export function keyIdOf(pem: string | KeyObject): string {
  return spkiKeyId(typeof pem === 'string' ? parsePublicKey(pem) : pem.type === 'private' ? createPublicKey(pem) : pem);
}

/** The raw 64-byte Ed25519 signature of `bytes`. */
export function sign(bytes: Uint8Array, privateKeyPem: string | KeyObject): Buffer {
  const key = typeof privateKeyPem === 'string' ? parsePrivateKey(privateKeyPem) : privateKeyPem;
  return cryptoSign(null, bytes, key);
}

/** True when `signature` is a valid Ed25519 signature of `bytes` by the key. */
export function verify(bytes: Uint8Array, signature: Uint8Array, publicKeyPem: string | KeyObject): boolean {
  const key = typeof publicKeyPem === 'string' ? parsePublicKey(publicKeyPem) : publicKeyPem;
  if (signature.byteLength !== SIGNATURE_BYTES) return false;
  return cryptoVerify(null, bytes, key, signature);
}
