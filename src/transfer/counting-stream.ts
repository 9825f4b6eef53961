import { Transform, type Readable } from 'node:stream';
import type { Descriptor } from '../core/descriptor.js';
import type { EventSink } from './events.js';

/**
 * Pipes `body` through a pass-through that reports bytes as they flow, and
 * forwards the body's errors (pipe() alone would not). `moved()` is the total.
 */
export function countingStream(body: Readable, desc: Descriptor, emit: EventSink): { stream: Readable; moved: () => number } {
  let moved = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      moved += chunk.length;
      emit({ type: 'bytes', descriptor: desc, bytes: chunk.length });
      callback(null, chunk);
    },
  });
  body.on('error', (err) => counter.destroy(err));
  return { stream: body.pipe(counter), moved: () => moved };
}
