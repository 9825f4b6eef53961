import { createHash } from 'node:crypto';
import { ErrorCode, UsageError } from './errors.js';

// A Digest is a validated "sha256:<64 lowercase hex>" string. The brand means it
// went through parseDigest (or was computed by us) exactly once.
declare const digestBrand: unique symbol;
export type Digest = string & { readonly [digestBrand]: true };

export const DIGEST_ALGORITHM = 'sha256';
const HEX64 = /^[a-f0-9]{64}$/;
const GRAMMAR = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export function parseDigest(value: string): Digest {
  if (typeof value !== 'string' || !GRAMMAR.test(value)) {
    throw new UsageError(`invalid digest '${String(value).slice(0, 100)}': expected sha256:<64 hex characters>`, {
      code: ErrorCode.digestInvalid,
    });
  }
  const [algorithm, hex] = value.split(':', 2) as [string, string];
  if (algorithm !== DIGEST_ALGORITHM) {
    throw new UsageError(`unsupported digest algorithm '${algorithm}' in '${value.slice(0, 100)}': ferry supports sha256 only`, {
      code: ErrorCode.digestAlgorithm,
    });
  }
  if (!HEX64.test(hex)) {
    throw new UsageError(`invalid digest '${value.slice(0, 100)}': sha256 needs 64 lowercase hex characters`, {
      code: ErrorCode.digestInvalid,
    });
  }
  return value as Digest;
}

export function isDigest(value: unknown): value is Digest {
  return typeof value === 'string' && value.startsWith('sha256:') && HEX64.test(value.slice(7));
}

export function digestFromHex(hex: string): Digest {
  return parseDigest(`${DIGEST_ALGORITHM}:${hex}`);
}

export function digestHex(digest: Digest): string {
  return digest.slice(DIGEST_ALGORITHM.length + 1);
}

/** Digest of bytes already in memory (manifests, configs, metadata only). */
export function digestOf(bytes: Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest;
}
