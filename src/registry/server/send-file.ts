import type { FileHandle } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';

// A file range onto a response through two reused buffers: one is read into
// while the other is on its way to the socket. A read stream allocates a new
// buffer per chunk; at pull rates of 1-2 GB/s that is 1-2 GB/s of garbage, and
// the profile of `ferry serve` under 8 pullers showed a quarter of the CPU in
// the garbage collector. Buffers come back to a small free list once their
// write has completed, so a busy server allocates none per request.

const CHUNK = 1 << 20;
const FREE_MAX = 64;
const free: Buffer[] = [];

const ignore = (): void => undefined;

function take(): Buffer {
  return free.pop() ?? Buffer.allocUnsafe(CHUNK);
}

function give(buf: Buffer): void {
  if (free.length < FREE_MAX) free.push(buf);
}

/** Resolves when `chunk` has been handed to the socket; rejects if the response is gone first. */
function write(res: ServerResponse, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const gone = (): void => reject(new Error('the client went away'));
    res.once('close', gone);
    res.write(chunk, (err) => {
      res.off('close', gone);
      if (err) reject(err);
      else resolve();
    });
  });
}

/**
 * Writes bytes `start`..`end` (inclusive) of `file` to `res` and ends it; the
 * headers must be set. Closes `file`. Rejects when the client goes away or
 * the file ends early (a truncated blob: the response is cut, never padded).
 */
export async function sendFileRange(res: ServerResponse, file: FileHandle, start: number, end: number): Promise<void> {
  const buffers = [take(), take()] as const;
  let reusable = true;
  try {
    let pending: Promise<void> | undefined;
    for (let pos = start, turn = 0; pos <= end; turn ^= 1) {
      const buf = buffers[turn] as Buffer;
      const { bytesRead } = await file.read(buf, 0, Math.min(CHUNK, end - pos + 1), pos);
      if (bytesRead === 0) throw new Error(`blob file ended at byte ${pos} of ${end + 1}`);
      // The other buffer's write must be done before this one goes out (and before it is read into again).
      await pending;
      if (res.destroyed) throw new Error('the client went away');
      pending = write(res, buf.subarray(0, bytesRead));
      // Awaited on the next turn; until then a hang-up must not count as an unhandled rejection.
      pending.catch(ignore);
      pos += bytesRead;
    }
    await pending;
    res.end();
  } catch (err) {
    // A write may still hold a buffer: let the collector have both.
    reusable = false;
    throw err;
  } finally {
    if (reusable) for (const b of buffers) give(b);
    await file.close();
  }
}
