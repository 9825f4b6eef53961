import type { Readable } from 'node:stream';
import { verifyStream, type Expected, type VerifyStream } from './hashing.js';

// Which streams already prove their bytes: a VerifyStream made here, or a
// pass-through piped from one with its errors forwarded (stream.pipeline). Such
// a stream fails, at the latest at its end, unless its bytes are exactly the
// expected digest and size. A consumer about to verify the same digest again
// may rely on that instead of hashing a second time: on import, the bundle
// reader proves each blob against SHA256SUMS, so the registry push need not
// (bench: one of two sha256 passes over every imported byte).

const proven = new WeakMap<Readable, Expected>();

/** A verifyStream whose proof later consumers can see (isVerifiedAs). */
export function verifyingStream(expected: Expected, subject: string): VerifyStream {
  const stream = verifyStream(expected, subject);
  proven.set(stream, { digest: expected.digest, size: expected.size });
  return stream;
}

/** `through` carries exactly `from`'s bytes and fails when `from` fails: it proves what `from` proves. */
export function inheritVerification(from: Readable, through: Readable): void {
  const expected = proven.get(from);
  if (expected) proven.set(through, expected);
}

/** The stream fails unless its bytes hash to `expected.digest` and number `expected.size`. */
export function isVerifiedAs(stream: Readable, expected: Expected): boolean {
  const known = proven.get(stream);
  return known !== undefined && known.digest === expected.digest && known.size === expected.size;
}
