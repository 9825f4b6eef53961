import type { Readable } from 'node:stream';

// A stream whose bytes can also be taken as an async iterable of chunks read
// into a few REUSED buffers (a bundle range: bundle/blob-ranges.ts). A fresh
// 1 MiB buffer per read cost import a tenth of its CPU in page faults and most
// of its garbage collections (one import of the bench's 12-image bundle, 6
// pairs at load 6-8: CPU 1.87 → 1.33 s, page faults 39-45k → 22-23k,
// Mark-Compacts 10-13 → 1). The contract: a chunk
// stays untouched only until the consumer asks for the next one, so only a
// consumer that is done with a chunk by then may take them (the registry
// client's upload body: registry/client/push-blob.ts says why it is). Once
// taken, the stream itself gives no data.

export type Chunks = AsyncIterable<Buffer>;

const offers = new WeakMap<Readable, () => Chunks | undefined>();

/** `stream` can give its bytes as `take()`'s chunks instead, while nothing has read it (take answers undefined after). */
export function offerChunks(stream: Readable, take: () => Chunks | undefined): void {
  offers.set(stream, take);
}

/** The stream's bytes as reused-buffer chunks, or undefined when it offers none (or was read already). */
export function takeChunks(stream: Readable): Chunks | undefined {
  const take = offers.get(stream);
  if (!take) return undefined;
  offers.delete(stream);
  return take();
}

/** Chunks watched by their consumer's owner: `ended` settles when they end (their verdict passed) or fail; `onError` hears a failure first. */
export interface WatchedChunks {
  chunks: Chunks;
  /** Resolves once the source ended cleanly; rejects when it failed or was given up before its end. */
  ended: Promise<void>;
  /** The source's failure so far, if any (none while it was never asked for a chunk). */
  failure(): unknown;
}

export function watchChunks(source: Chunks, onError: (error: unknown) => void): WatchedChunks {
  let settle: (error?: unknown) => void = () => undefined;
  let failed: unknown;
  const ended = new Promise<void>((resolve, reject) => {
    settle = (error) => (error === undefined ? resolve() : reject(error));
  });
  ended.catch(() => undefined);
  async function* run(): AsyncGenerator<Buffer> {
    let done = false;
    try {
      yield* source;
      done = true;
      settle();
    } catch (e) {
      failed ??= e;
      onError(e);
      settle(e);
      throw e;
    } finally {
      if (!done) settle(new Error('the upload body was given up before its end'));
    }
  }
  return { chunks: run(), ended, failure: () => failed };
}
