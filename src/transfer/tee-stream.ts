import { PassThrough, type Readable } from 'node:stream';

// One stream read once, consumed by several: the bytes of a blob read from a
// stick in one pass, pushed into several repositories of a registry that will
// not mount. Copies flow at the pace of the slowest (the source pauses while
// any copy is full), so nothing piles up in memory. The source failing, or any
// copy ending early (its consumer gave up), fails every copy: one push cannot
// finish on bytes another one saw to be bad.

export function teeStream(source: Readable, count: number): Readable[] {
  const copies = Array.from({ length: count }, () => new PassThrough());
  let full = 0;
  const fail = (err: Error): void => {
    source.destroy(err);
    for (const copy of copies) copy.destroy(err);
  };
  source.on('data', (chunk: Buffer) => {
    for (const copy of copies) {
      if (copy.write(chunk)) continue;
      full += 1;
      copy.once('drain', () => {
        full -= 1;
        if (full === 0) source.resume();
      });
    }
    if (full > 0) source.pause();
  });
  source.once('end', () => {
    for (const copy of copies) copy.end();
  });
  source.on('error', (err) => {
    for (const copy of copies) copy.destroy(err);
  });
  for (const copy of copies) {
    // Each consumer sees its copy's error through its own pipeline; none may go unhandled meanwhile.
    copy.on('error', () => undefined);
    copy.once('close', () => {
      if (!copy.writableFinished) fail(copy.errored ?? new Error('a copy of the stream was closed before its end'));
    });
  }
  return copies;
}
