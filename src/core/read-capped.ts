import { closeSync, openSync, readSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { ErrorCode, IntegrityError } from './errors.js';

/** The refusal of metadata larger than `limit` (readCapped's, and a reader's that knows the size before it reads). */
export function tooLarge(limit: number, subject: string): IntegrityError {
  return new IntegrityError(`${subject}: larger than the ${limit}-byte limit for metadata`, { code: ErrorCode.manifestTooLarge, subject });
}

/**
 * Reads a small stream (a manifest, a config, a JSON document) into memory,
 * refusing it as soon as it grows past `limit`. Never use this for layers.
 */
export async function readCapped(stream: Readable, limit: number, subject: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    total += buf.length;
    if (total > limit) {
      stream.destroy();
      throw tooLarge(limit, subject);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks, total);
}

/**
 * A small local file (a stored manifest or config) read at once, on this thread: refused past
 * `limit` as readCapped refuses a stream, and at most `expected` + 1 bytes read, so a file longer
 * than its descriptor shows as a size mismatch without being read whole. Undefined when it cannot
 * be opened: the caller's stream of it then says why.
 */
export function readFileCapped(path: string, expected: number, limit: number, subject: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const room = Math.min(expected, limit) + 1;
    const buf = Buffer.allocUnsafe(room);
    let n = 0;
    while (n < room) {
      const got = readSync(fd, buf, n, room - n, n);
      if (got === 0) break;
      n += got;
    }
    if (n > limit) throw tooLarge(limit, subject);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}
