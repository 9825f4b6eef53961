import { close, closeSync, open, openSync, read, readSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { VolumeSet } from './volume-join.js';

// Where a bundle's tar lies on disk: one file, or a set's volumes end to end
// (NAME.000 holds tar bytes [0, split), NAME.001 the next `split`, …, exactly
// as volume-split.ts cut them). Reads by tar offset, across a volume's end when
// a header or a blob straddles it, so a set of volumes is read by byte ranges
// as one file is (bundle/blob-locate.ts, blob-ranges.ts).

/** Tar bytes [start, start + size) lie at [offset, offset + size) of `path`. */
export interface TarPiece {
  path: string;
  /** Offset in the tar. */
  start: number;
  /** Offset in the file. */
  offset: number;
  size: number;
}

export class TarSpan {
  /** Each file's share of the tar, in tar order, with `offset` 0. */
  readonly files: readonly TarPiece[];
  /** Bytes of tar: what the files' sizes add up to. */
  readonly size: number;

  private constructor(files: readonly TarPiece[]) {
    this.files = files;
    this.size = files.reduce((n, f) => n + f.size, 0);
  }

  /** One file of `size` bytes holding the whole tar. */
  static file(path: string, size: number): TarSpan {
    return new TarSpan([{ path, start: 0, offset: 0, size }]);
  }

  /** A set's volumes, with the sizes its list gives (checkVolumeFiles compared them with the files). */
  static volumes(set: Pick<VolumeSet, 'dir' | 'sidecar'>): TarSpan {
    let start = 0;
    return new TarSpan(
      set.sidecar.volumes.map((v) => {
        const file = { path: join(set.dir, v.name), start, offset: 0, size: v.size };
        start += v.size;
        return file;
      }),
    );
  }

  /** The pieces of files holding tar bytes [at, at + size), in order; a range past the end gets the part there is. */
  pieces(at: number, size: number): TarPiece[] {
    const end = at + size;
    const out: TarPiece[] = [];
    for (let i = this.fileAt(at); i < this.files.length; i++) {
      const f = this.files[i] as TarPiece;
      if (f.start >= end) break;
      const from = Math.max(at, f.start);
      out.push({ path: f.path, start: from, offset: from - f.start, size: Math.min(end, f.start + f.size) - from });
    }
    return out;
  }

  /** The file holding all of tar bytes [at, at + size) and the offset of `at` in it; undefined when they straddle two files (or pass the end). */
  within(at: number, size: number): { path: string; offset: number } | undefined {
    const f = this.files[this.fileAt(at)];
    return f && at >= f.start && at + size <= f.start + f.size ? { path: f.path, offset: at - f.start } : undefined;
  }

  /** The index of the first file ending after tar offset `at` (binary search: a set of 100 GiB cut at 4 GiB has 25); files.length past the end. */
  private fileAt(at: number): number {
    let lo = 0;
    let hi = this.files.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const f = this.files[mid] as TarPiece;
      if (f.start + f.size <= at) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Synchronous positional reads by tar offset; each file opened on first need. Close it. */
  openSync(): SpanReaderSync {
    return new SpanReaderSync(this);
  }

  /** Positional reads by tar offset, asynchronous; each file opened on first need. Close it. */
  open(): SpanReader {
    return new SpanReader(this);
  }
}

export class SpanReaderSync {
  private readonly span: TarSpan;
  private readonly fds = new Map<string, number>();

  constructor(span: TarSpan) {
    this.span = span;
  }

  /** Reads up to `length` bytes at tar offset `position` into `buf`; fewer only where the tar (or a file) ends. */
  read(buf: Buffer, length: number, position: number): number {
    let got = 0;
    for (const piece of this.span.pieces(position, length)) {
      let fd = this.fds.get(piece.path);
      if (fd === undefined) {
        fd = openSync(piece.path, 'r');
        this.fds.set(piece.path, fd);
      }
      // pread may answer short before the end (a FUSE-mounted stick); 0 is the end.
      let done = 0;
      while (done < piece.size) {
        const n = readSync(fd, buf, got + done, piece.size - done, piece.offset + done);
        if (n === 0) break;
        done += n;
      }
      got += done;
      if (done < piece.size) break;
    }
    return got;
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}

// node:fs, not node:fs/promises: the reader loads this module, and fs/promises (with the readline and stream
// modules it requires) was ~4 M instructions of a small inspect (bundle-source.ts).
const openFile = promisify(open);
const readAt = promisify(read);
const closeFile = promisify(close);

export class SpanReader {
  private readonly span: TarSpan;
  private readonly fds = new Map<string, Promise<number>>();

  constructor(span: TarSpan) {
    this.span = span;
  }

  /** Fills `buf` from tar offset `position`: fewer bytes only where the tar (or a file) ends (pread may answer short). */
  async fill(buf: Buffer, position: number): Promise<number> {
    let got = 0;
    for (const piece of this.span.pieces(position, buf.length)) {
      let fd = this.fds.get(piece.path);
      if (!fd) {
        fd = openFile(piece.path, 'r');
        this.fds.set(piece.path, fd);
      }
      const file = await fd;
      let done = 0;
      while (done < piece.size) {
        const { bytesRead } = await readAt(file, buf, got + done, piece.size - done, piece.offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      got += done;
      if (done < piece.size) break;
    }
    return got;
  }

  async close(): Promise<void> {
    const fds = [...this.fds.values()];
    this.fds.clear();
    await Promise.all(
      fds.map(async (opening) => {
        const fd = await opening.catch(() => undefined);
        if (fd !== undefined) await closeFile(fd);
      }),
    );
  }
}
