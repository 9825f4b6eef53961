import { Transform, type TransformCallback } from 'node:stream';

/** A pass-through that reports each chunk's length as it flows (progress, byte counts); a Transform, so backpressure holds. */
export class ByteTap extends Transform {
  private readonly onBytes: (n: number) => void;

  constructor(onBytes: (n: number) => void) {
    super();
    this.onBytes = onBytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.onBytes(chunk.length);
    callback(null, chunk);
  }
}
