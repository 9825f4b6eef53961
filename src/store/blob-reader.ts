import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { ErrorCode, NotFoundError, UsageError, type Digest } from '../core/index.js';
import type { StoredBlob } from './db/blobs.js';
import { isErrno } from './durable-fs.js';
import type { StoreContext } from './store-context.js';

export interface ReadRange {
  /** First byte, default 0. */
  start?: number;
  /** Last byte, INCLUSIVE (as in HTTP Range and fs.createReadStream); default the last byte. */
  end?: number;
}

export function blobUnknown(digest: Digest, where = 'the store'): NotFoundError {
  return new NotFoundError(`blob ${digest} is not in ${where}`, { code: ErrorCode.blobUnknown });
}

/** Reads committed blobs only: a blob is visible once its index row exists, which is after its rename into blobs/. */
export class BlobReader {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  has(digest: Digest): boolean {
    return this.ctx.index.blobs.get(digest) !== undefined;
  }

  /** Size and media type (a manifest's own type when it is one); NotFoundError when absent. */
  stat(digest: Digest): StoredBlob {
    const blob = this.ctx.index.blobs.get(digest);
    if (!blob) throw blobUnknown(digest);
    const manifest = this.ctx.index.manifests.get(digest);
    return manifest ? { ...blob, mediaType: manifest.mediaType } : blob;
  }

  /** The file of a committed blob, for servers that stream files and answer Range themselves. */
  path(digest: Digest): string {
    if (!this.has(digest)) throw blobUnknown(digest);
    return this.ctx.layout.blobPath(digest);
  }

  /**
   * A stream of the blob's bytes (or of a range). The file is opened before this
   * resolves, so a missing blob is a NotFoundError here and never a stream error;
   * a GC that removes the blob later does not cut an open read short.
   */
  async open(digest: Digest, range: ReadRange = {}): Promise<Readable> {
    const blob = this.stat(digest);
    const start = range.start ?? 0;
    const end = range.end ?? blob.size - 1;
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || start > blob.size || end < start - 1 || end >= blob.size) {
      throw new UsageError(`range ${start}-${end} is outside blob ${digest} of ${blob.size} bytes`, { code: ErrorCode.usage });
    }
    try {
      const fh = await open(this.ctx.layout.blobPath(digest), 'r');
      if (end < start) {
        // An empty range (start == size, or an empty blob): createReadStream cannot express it.
        await fh.close();
        return Readable.from([]);
      }
      return fh.createReadStream({ start, end, highWaterMark: 1 << 20 });
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw blobUnknown(digest);
      throw err;
    }
  }
}
