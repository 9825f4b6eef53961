import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import type { Digest } from './digest.js';
import { ErrorCode, IntegrityError } from './errors.js';

/**
 * A pass-through stream that hashes what flows through it. Read `digest()` and
 * `bytes` after the stream has ended. Hashing happens once, in the copy path.
 */
export class Digester extends Transform {
  private readonly hash: Hash = createHash('sha256');
  bytes = 0;
  private result: Digest | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }

  /** The digest of everything that passed; only valid after the stream ended. */
  digest(): Digest {
    this.result ??= `sha256:${this.hash.digest('hex')}` as Digest;
    return this.result;
  }
}

/** A fresh Digester. */
export function createDigester(): Digester {
  return new Digester();
}

export interface Expected {
  digest: Digest;
  size: number;
}

/**
 * A pass-through stream that refuses bytes that are not `expected`: it fails as
 * soon as more than `size` bytes arrive, and at the end if the size or digest
 * differ. `subject` names the culprit in the error (an entry name, a reference).
 * `offset` bytes already verified elsewhere may be fed to `seed()` first.
 */
export class VerifyStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  bytes = 0;

  private readonly expected: Expected;
  private readonly subject: string;

  constructor(expected: Expected, subject: string) {
    super();
    this.expected = expected;
    this.subject = subject;
  }

  /** Hash bytes that precede this stream's input (a resumed download's existing prefix). */
  seed(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.bytes += chunk.byteLength;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.expected.size) {
      callback(this.sizeError());
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    callback(mismatch(this.expected, this.bytes, this.hash, this.subject));
  }

  private sizeError(): IntegrityError {
    return sizeMismatch(this.expected, this.bytes, this.subject);
  }
}

function sizeMismatch(expected: Expected, bytes: number, subject: string): IntegrityError {
  const got = bytes > expected.size ? `more than ${expected.size}` : String(bytes);
  return new IntegrityError(`${subject}: size mismatch: expected ${expected.size} bytes, got ${got}`, {
    code: ErrorCode.sizeMismatch,
    subject,
    expected: String(expected.size),
    actual: String(bytes),
  });
}

/** The error for a finished hash that is not `expected`, or null when it is. */
function mismatch(expected: Expected, bytes: number, hash: Hash, subject: string): IntegrityError | null {
  return checkHashed(expected, bytes, hash.digest('hex'), subject);
}

/**
 * The verdict on bytes hashed elsewhere (another thread): `bytes` counted,
 * `hex` their sha256 (undefined: only their count is checked). An IntegrityError
 * worded like VerifyStream's, or null.
 */
export function checkHashed(expected: Expected, bytes: number, hex: string | undefined, subject: string): IntegrityError | null {
  if (bytes !== expected.size) return sizeMismatch(expected, bytes, subject);
  return hex === undefined ? null : hashMismatch(expected, hex, subject);
}

function hashMismatch(expected: Expected, hex: string, subject: string): IntegrityError | null {
  const actual = `sha256:${hex}`;
  if (actual === expected.digest) return null;
  return new IntegrityError(`${subject}: digest mismatch: expected ${expected.digest}, got ${actual}`, {
    code: ErrorCode.digestMismatch,
    subject,
    expected: expected.digest,
    actual,
  });
}

export function verifyStream(expected: Expected, subject: string): VerifyStream {
  return new VerifyStream(expected, subject);
}

/** Checks bytes already in memory (capped metadata) against a descriptor. */
export function verifyBytes(bytes: Uint8Array, expected: Expected, subject: string): void {
  const error = mismatch(expected, bytes.byteLength, createHash('sha256').update(bytes), subject);
  if (error) throw error;
}

/** sha256 and size of a file, read once as a stream. */
export async function digestFile(path: string): Promise<Expected> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { digest: `sha256:${hash.digest('hex')}` as Digest, size };
}
