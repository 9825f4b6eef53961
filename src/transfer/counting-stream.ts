import { pipeline, type Readable } from 'node:stream';
import { ByteTap } from '../core/byte-tap.js';
import { offerChunks, takeChunks, type Chunks } from '../core/chunk-source.js';
import type { Descriptor } from '../core/descriptor.js';
import { inheritVerification } from '../core/verified-stream.js';
import type { EventSink } from './events.js';

/**
 * Pipes `body` through a pass-through that reports bytes as they flow, and
 * forwards the body's errors. pipeline, not pipe(): a bundle reader can fail
 * ahead of the consumer (read-ahead crossing a damaged volume) while the push is
 * still in its HEAD/POST, before it listens; pipe() would rethrow that as an
 * unhandled 'error' and crash the process. `lazy` (import's uploads): the pipe
 * is laid when the consumer first reads, not before, so a body that starts its
 * source when first read (a bundle range) is not read and hashed while its
 * upload waits for the POST (at the start of an import, four lanes' read-ahead
 * held up the first PUTs). A lazy counter offers the body's chunks (core/chunk-source.ts), counted
 * as they go, while it has not been read. `moved()` is the total.
 */
export function countingStream(body: Readable, desc: Descriptor, emit: EventSink, { lazy = false }: { lazy?: boolean } = {}): { stream: Readable; moved: () => number } {
  let moved = 0;
  const counter = new ByteTap((n) => {
    moved += n;
    emit({ type: 'bytes', descriptor: desc, bytes: n });
  });
  // Same bytes, same failures: a verified body stays verified for the consumer.
  inheritVerification(body, counter);
  if (!lazy) return { stream: pipeline(body, counter, () => undefined), moved: () => moved };
  let piped = false;
  // Until the pipe is laid, a failing body fails the counter (never an unhandled 'error'), and a counter
  // given up before its first read ends the body.
  const early = (err: Error): void => void counter.destroy(err);
  body.on('error', early);
  counter.once('close', () => {
    if (!piped) body.destroy();
  });
  async function* counted(chunks: Chunks): AsyncGenerator<Buffer> {
    for await (const chunk of chunks) {
      moved += chunk.length;
      emit({ type: 'bytes', descriptor: desc, bytes: chunk.length });
      yield chunk;
    }
  }
  offerChunks(counter, () => {
    if (piped) return undefined;
    const chunks = takeChunks(body);
    if (!chunks) return undefined;
    // Taken: the counter is never read, and the body (its bytes given as chunks) has nothing to close.
    piped = true;
    return counted(chunks);
  });
  const read = counter._read.bind(counter);
  counter._read = (size: number): void => {
    if (!piped) {
      piped = true;
      body.off('error', early);
      pipeline(body, counter, () => undefined);
    }
    read(size);
  };
  return { stream: counter, moved: () => moved };
}
