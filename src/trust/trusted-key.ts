import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ErrorCode, UsageError } from '../core/errors.js';
import { spkiKeyId } from '../core/key-id.js';

// A publisher's public key, trusted to sign images (`--require-signed-by
// KEY.pub`, cosign's `cosign.pub`): SPKI PEM. cosign signs with ECDSA P-256 and
// SHA-256 by default; RSA and Ed25519 keys are accepted too, as sigstore's
// verifiers do. Node 20's crypto does all of it: no network, no dependency.

export interface TrustedKey {
  /** ferry's key id: `sha256:` + 16 hex of the SPKI DER digest (as in bundle.json). */
  id: string;
  /** The SPKI PEM, re-exported (what policy.json's keyData carries). */
  pem: string;
  /** Where it came from, for messages: a file path. */
  source: string;
  key: KeyObject;
}

const MAX_KEY_FILE_BYTES = 64 * 1024;
const KEY_HINT = 'give the publisher\'s public key in PEM form (cosign.pub from `cosign generate-key-pair`, or `cosign public-key`)';

/** A public key from PEM; `source` names it in errors. */
export function parseTrustedKey(pem: string, source: string): TrustedKey {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw new UsageError(`${source} is not a public key in PEM form`, { code: ErrorCode.keyInvalid, hint: KEY_HINT, cause: err });
  }
  if (key.asymmetricKeyType !== 'ec' && key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'ed25519') {
    throw new UsageError(`${source} is a ${String(key.asymmetricKeyType)} key; cosign keys are ECDSA, RSA or Ed25519`, { code: ErrorCode.keyInvalid, hint: KEY_HINT });
  }
  const spki = key.export({ type: 'spki', format: 'pem' }).toString();
  return { id: spkiKeyId(key), pem: spki, source, key };
}

export async function readTrustedKeyFile(path: string): Promise<TrustedKey> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`key ${path} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})`}`, { code: ErrorCode.keyInvalid, hint: KEY_HINT, cause: err });
  }
  if (bytes.length > MAX_KEY_FILE_BYTES) throw new UsageError(`key ${path} is too large to be a public key`, { code: ErrorCode.keyInvalid, hint: KEY_HINT });
  return parseTrustedKey(bytes.toString('utf8'), path);
}

/**
 * True when `signature` (ASN.1 DER for ECDSA, PKCS#1 v1.5 for RSA, raw for
 * Ed25519) signs `data` with this key, SHA-256 where a hash applies.
 * Malformed signatures are simply not valid.
 */
export function signs(trusted: TrustedKey, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    return verify(trusted.key.asymmetricKeyType === 'ed25519' ? null : 'sha256', data, trusted.key, signature);
  } catch {
    return false;
  }
}

/** The first key that made `signature` over `data`, if any. */
export function signerOf(keys: readonly TrustedKey[], data: Uint8Array, signature: Uint8Array): TrustedKey | undefined {
  return keys.find((k) => signs(k, data, signature));
}

/** Strict base64 (cosign's annotations and bundles): undefined when it is not. */
export function decodeBase64(text: unknown): Buffer | undefined {
  if (typeof text !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  return Buffer.from(text, 'base64');
}
