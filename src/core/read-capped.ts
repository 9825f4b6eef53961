import type { Readable } from 'node:stream';
import { ErrorCode, IntegrityError } from './errors.js';

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
      throw new IntegrityError(`${subject}: larger than the ${limit}-byte limit for metadata`, {
        code: ErrorCode.manifestTooLarge,
        subject,
      });
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks, total);
}
