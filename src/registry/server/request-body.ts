import type { IncomingMessage } from 'node:http';

// Small request bodies (manifests, token forms) read into memory through a cap.
// core readCapped destroys the stream on overflow, which for a request means the
// socket, and the client would never see the 413. Here an oversized body is
// drained and dropped so the answer can be sent; only a body far past the cap
// (a client that will not stop) gets the connection cut.

const DRAIN_FACTOR = 16;

/** The body, or undefined when it is larger than `limit` bytes. */
export function readSmallBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    req.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit * DRAIN_FACTOR) {
        req.destroy();
        return;
      }
      if (total <= limit) chunks.push(chunk);
      else chunks.length = 0;
    });
    req.once('end', () => resolve(total > limit ? undefined : Buffer.concat(chunks, total)));
    req.once('error', reject);
    req.once('close', () => {
      if (!req.complete) reject(Object.assign(new Error('request body cut short'), { code: 'ECONNRESET' }));
    });
  });
}
