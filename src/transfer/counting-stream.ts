import { pipeline, type Readable } from 'node:stream';
import { ByteTap } from '../core/byte-tap.js';
import type { Descriptor } from '../core/descriptor.js';
import { inheritVerification } from '../core/verified-stream.js';
import type { EventSink } from './events.js';

/**
 * Pipes `body` through a pass-through that reports bytes as they flow, and
 * forwards the body's errors. pipeline, not pipe(): a bundle reader can fail
 * ahead of the consumer (read-ahead crossing a damaged volume) while the push is
 * still in its HEAD/POST, before it listens; pipe() would rethrow that as an
 * unhandled 'error' and crash the process. `moved()` is the total.
 */
export function countingStream(body: Readable, desc: Descriptor, emit: EventSink): { stream: Readable; moved: () => number } {
  let moved = 0;
  const counter = new ByteTap((n) => {
    moved += n;
    emit({ type: 'bytes', descriptor: desc, bytes: n });
  });
  const stream = pipeline(body, counter, () => undefined);
  // Same bytes, same failures: a verified body stays verified for the consumer.
  inheritVerification(body, stream);
  return { stream, moved: () => moved };
}
