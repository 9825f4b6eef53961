import { createHash, type KeyObject } from 'node:crypto';

/**
 * ferry's id for any public key it names (its own Ed25519 bundle keys, a
 * publisher's cosign keys): `sha256:` + the first 16 hex characters of the
 * sha256 of the key's SPKI DER. `openssl pkey -pubin -outform DER | sha256sum`.
 */
export function spkiKeyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(der).digest('hex').slice(0, 16)}`;
}
