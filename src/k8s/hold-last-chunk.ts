import { Transform, type TransformCallback } from 'node:stream';

// A bundle blob's stream is verified as it flows, and the verdict comes only
// after its last byte. Holding that last chunk back until the source ends
// cleanly means a consumer (ctr, writing containerd's content store) never
// receives all of a blob whose digest did not match: its entry stays short,
// and nothing is committed from it.

export class HoldLastChunk extends Transform {
  private held: Buffer | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const previous = this.held;
    this.held = chunk;
    callback(null, previous);
  }

  override _flush(callback: TransformCallback): void {
    callback(null, this.held);
  }
}
