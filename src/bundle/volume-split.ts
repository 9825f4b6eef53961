import { createHash, type Hash } from 'node:crypto';
import { open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UsageError } from '../core/errors.js';
import { ThreadHash, type HashThread } from './offthread-hash.js';
import { baseOfVolumePath, volumeName, type VolumeInfo } from './volume-sidecar.js';

// Where the tar's bytes go, by tar offset: one file, or volumes NAME.000,
// NAME.001, … of exactly `split` bytes (the last one shorter), optionally only
// the bytes inside a window (re-making one volume). A write at tar offset `at`
// lands in whichever files hold [at, at + length). Written in order, the bytes
// are hashed on the way, per volume (the volume list) and, given a ThreadHash,
// for the whole tar: both on its thread from one copy of the bytes when given
// that thread too (a tar of one volume hashed once: that volume is the tar), else
// each volume on this thread. Files are `.partial` until finish() has fsynced them and
// commit() renamed them: a half-written bundle never looks complete.

interface OpenFile {
  handle: FileHandle;
  index: number;
  size: number;
  /** A volume written in order: its own sha256 goes in the volume list. */
  ownHash: boolean;
  /** That sha256: on this thread, or on `thread` (opened at its first write; none when the tar is one volume). */
  hash: Hash | ThreadHash | undefined;
}

/**
 * Every this many bytes written, the current file's writeback is started (a
 * datasync nobody waits for), so that the disk works while the copy goes on
 * and the closing fsync finds little left. 300 MiB from a warm store (bench
 * write set), 10 paired runs, load 12-13 on 2 cores: 3.06 → 2.51 s wall
 * (median; faster in 7 of 10 pairs), 0.91 → 0.93 s of CPU.
 */
const WRITEBACK_BYTES = 64 << 20;

export interface TarFilesOptions {
  /** The bundle file, or with `split` the base name of its volumes. */
  path: string;
  split?: number;
  /** Only tar bytes in [start, end) are written (one volume re-made); default: all of them. */
  window?: { start: number; end: number };
  /** Writes arrive in tar order: hash each volume (and, given, the whole tar) as they land. */
  inOrder: boolean;
  whole?: ThreadHash;
  /** The thread `whole` runs on: each volume is hashed there too. */
  thread?: HashThread;
}

export class TarFiles {
  private readonly opts: TarFilesOptions;
  private readonly start: number;
  private readonly end: number;
  private readonly done: VolumeInfo[] = [];
  private readonly paths: string[] = [];
  private current: OpenFile | undefined;
  /** Tar bytes written so far (in order), from the window's start. */
  private next: number;
  private unsynced = 0;
  private syncing: Promise<void> | undefined;
  /** The tar's size, once placeTar has laid it out (expectSize). */
  private size: number | undefined;

  private constructor(opts: TarFilesOptions) {
    this.opts = opts;
    this.start = opts.window?.start ?? 0;
    this.end = opts.window?.end ?? Number.MAX_SAFE_INTEGER;
    this.next = this.start;
  }

  /** Opens the first file now (a pool of threads opens a single file by name to place blobs in it). */
  static async open(opts: TarFilesOptions): Promise<TarFiles> {
    const files = new TarFiles(opts);
    await files.openFile(files.volumeOf(files.start));
    return files;
  }

  /** NAME.partial (or NAME.NNN.partial) of the file being written. */
  get partialPath(): string {
    return `${this.finalPath(this.current?.index ?? 0)}.partial`;
  }

  /** The whole tar's size, told before its first byte: a tar that fits one volume has that volume's sha256 taken once. */
  expectSize(size: number): void {
    this.size = size;
  }

  /** Whether any of tar bytes [from, to) is written here. */
  overlaps(from: number, to: number): boolean {
    return from < this.end && to > this.start;
  }

  /** Writes `bytes`, which sit at tar offset `at`: the part inside the window, into the files that hold it. */
  async write(bytes: Uint8Array, at: number): Promise<void> {
    let from = Math.max(at, this.start);
    const to = Math.min(at + bytes.length, this.end);
    if (from >= to) return;
    if (this.opts.inOrder && from !== this.next) throw new Error(`tar bytes at ${from} written out of order (expected ${this.next})`);
    while (from < to) {
      const index = this.volumeOf(from);
      const file = this.current?.index === index ? this.current : await this.openFile(index);
      const base = this.opts.split === undefined ? 0 : index * this.opts.split;
      const stop = this.opts.split === undefined ? to : Math.min(to, base + this.opts.split);
      const part = bytes.subarray(from - at, stop - at);
      for (let off = 0; off < part.length; ) off += (await file.handle.write(part, off, part.length - off, from - base + off)).bytesWritten;
      await this.hashIn(file, part);
      file.size = Math.max(file.size, stop - base);
      this.wrote(part.length);
      from = stop;
    }
    this.next = to;
  }

  /** Hashes `part` into the volume's sha256 and the whole tar's. */
  private async hashIn(file: OpenFile, part: Uint8Array): Promise<void> {
    const { whole, thread } = this.opts;
    if (whole && thread) {
      if (file.ownHash && file.hash === undefined && !this.oneVolume()) file.hash = thread.open();
      await whole.updateWith(file.hash as ThreadHash | undefined, part);
      return;
    }
    (file.hash as Hash | undefined)?.update(part);
    await whole?.update(part);
  }

  /** The tar is one volume: that volume's sha256 is the whole tar's. */
  private oneVolume(): boolean {
    return this.size !== undefined && this.opts.split !== undefined && this.opts.window === undefined && this.size <= this.opts.split;
  }

  private async sha256Of(file: OpenFile): Promise<string> {
    if (file.hash instanceof ThreadHash) return file.hash.digest();
    if (file.hash) return file.hash.digest('hex');
    return file.ownHash && this.oneVolume() && this.opts.whole ? this.opts.whole.digest() : '';
  }

  /** Counts `bytes` more written into the current file (by this or by other threads); see WRITEBACK_BYTES. */
  wrote(bytes: number): void {
    this.unsynced += bytes;
    const file = this.current;
    if (!file || this.syncing || this.unsynced < WRITEBACK_BYTES) return;
    this.unsynced = 0;
    this.syncing = file.handle
      .datasync()
      .catch(() => undefined)
      .finally(() => (this.syncing = undefined));
  }

  /** Fsyncs and closes the last file; each file written, with its size and (volumes written in order) sha256. */
  async finish(): Promise<VolumeInfo[]> {
    await this.closeCurrent();
    return this.done;
  }

  /** Renames every finished file into place. */
  async commit(): Promise<string[]> {
    const finals = this.done.map((d) => join(dirname(this.opts.path), d.name));
    for (const f of finals) await rename(`${f}.partial`, f);
    await syncDir(dirname(this.opts.path));
    return finals;
  }

  /** Volumes NAME.NNN from an earlier, longer write of the same name would break `cat NAME.0*`. */
  async removeStaleVolumes(): Promise<void> {
    const base = basename(this.opts.path);
    const dir = dirname(this.opts.path);
    for (const name of await readdir(dir)) {
      if (baseOfVolumePath(name) === base && Number(name.slice(base.length + 1)) >= this.done.length) await rm(join(dir, name), { force: true });
    }
  }

  /** Closes and deletes every partial file; after a failure. */
  async abort(): Promise<void> {
    await this.syncing;
    await this.current?.handle.close().catch(() => undefined);
    this.current = undefined;
    for (const p of this.paths) await rm(p, { force: true });
    // And those an earlier, killed write of the same volumes left.
    if (this.opts.split === undefined || this.opts.window) return;
    const base = basename(this.opts.path);
    for (const name of await readdir(dirname(this.opts.path)).catch(() => [])) {
      if (name.endsWith('.partial') && baseOfVolumePath(name.slice(0, -'.partial'.length)) === base) await rm(join(dirname(this.opts.path), name), { force: true });
    }
  }

  private volumeOf(at: number): number {
    return this.opts.split === undefined ? 0 : Math.floor(at / this.opts.split);
  }

  private finalPath(index: number): string {
    return this.opts.split === undefined ? this.opts.path : join(dirname(this.opts.path), volumeName(basename(this.opts.path), index));
  }

  private async openFile(index: number): Promise<OpenFile> {
    await this.closeCurrent();
    const finalPath = this.finalPath(index);
    const temp = `${finalPath}.partial`;
    this.paths.push(temp);
    const handle = await open(temp, 'w', 0o644).catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot write the bundle to ${finalPath}: ${err.code === 'ENOENT' ? 'its directory does not exist' : err.message}`, { cause: err });
    });
    // A single file's sha256 is the whole tar's, taken once (on `whole`'s thread).
    const ownHash = this.opts.inOrder && this.opts.split !== undefined;
    this.current = { handle, index, size: 0, ownHash, hash: ownHash && !this.opts.thread ? createHash('sha256') : undefined };
    return this.current;
  }

  private async closeCurrent(): Promise<void> {
    const file = this.current;
    if (!file) return;
    this.current = undefined;
    await this.syncing;
    this.unsynced = 0;
    await file.handle.sync();
    await file.handle.close();
    this.done.push({ name: basename(this.finalPath(file.index)), size: file.size, sha256: await this.sha256Of(file) });
  }
}

export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
