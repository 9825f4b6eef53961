import { createHash, type Hash } from 'node:crypto';
import { open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { UsageError } from '../core/errors.js';
import { HashThread, type ThreadHash } from './offthread-hash.js';
import { MAX_VOLUMES } from './split-size.js';
import { volumeName, type VolumeInfo } from './volume-sidecar.js';

// Where the tar stream goes: one file, or volumes NAME.000, NAME.001, … of
// exactly `split` bytes (the last one shorter). Each chunk is written straight
// to the current file while it is hashed (per volume and for the whole tar);
// nothing is buffered. Files are written under `.partial` names, fsynced, and
// renamed into place only by commit(): a half-written bundle never looks complete.

interface OpenFile {
  handle: FileHandle;
  tempPath: string;
  finalPath: string;
  size: number;
  /** Per-volume hash; a single file's hash is the whole tar's, computed once. */
  hash: Hash | undefined;
}

export class BundleOutput extends Writable {
  private readonly path: string;
  private readonly split: number | undefined;
  private current: OpenFile | undefined;
  private readonly done: { info: VolumeInfo; tempPath: string; finalPath: string }[] = [];
  /** The whole tar's sha256, on another thread (see offthread-hash.ts). */
  private readonly whole: ThreadHash;
  /** The thread, when this output made its own (closed with it). */
  private readonly ownThread: HashThread | undefined;
  private wholeHex: string | undefined;
  /** Bytes of tar written so far. */
  bytes = 0;

  /** `path` is the bundle file, or with `split` the base of the volume names. */
  constructor(path: string, split?: number, hashes?: HashThread) {
    super({ highWaterMark: 1 << 20 });
    this.path = path;
    this.split = split;
    this.ownThread = hashes ? undefined : new HashThread();
    this.whole = (hashes ?? (this.ownThread as HashThread)).open();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.writeChunk(chunk).then(() => callback(), callback);
  }

  // tar-stream hands out 512-byte headers and the source's chunks one by one;
  // what queued while a write was on disk goes down in one writev.
  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    this.writeChunks(chunks.map((c) => c.chunk)).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    (async () => {
      if (!this.current && this.done.length === 0) await this.openNext();
      this.wholeHex = await this.whole.digest();
      await this.ownThread?.close();
      await this.closeCurrent();
    })().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const file = this.current;
    this.current = undefined;
    Promise.all([file ? file.handle.close() : undefined, this.ownThread?.close()]).then(
      () => callback(error),
      () => callback(error),
    );
  }

  private async writeChunks(chunks: Buffer[]): Promise<void> {
    if (this.split !== undefined || chunks.length === 1) {
      for (const chunk of chunks) await this.writeChunk(chunk);
      return;
    }
    const file = this.current ?? (await this.openNext());
    let length = 0;
    for (const chunk of chunks) {
      await this.whole.update(chunk);
      length += chunk.length;
    }
    let done = (await file.handle.writev(chunks)).bytesWritten;
    // A short writev (rare on regular files): the rest chunk by chunk.
    for (const chunk of chunks) {
      if (done >= chunk.length) {
        done -= chunk.length;
        continue;
      }
      for (let off = done; off < chunk.length; ) off += (await file.handle.write(chunk, off, chunk.length - off)).bytesWritten;
      done = 0;
    }
    this.bytes += length;
    file.size += length;
  }

  private async writeChunk(chunk: Buffer): Promise<void> {
    await this.whole.update(chunk);
    this.bytes += chunk.length;
    let rest = chunk;
    while (rest.length > 0) {
      const file = this.current ?? (await this.openNext());
      const room = this.split === undefined ? rest.length : this.split - file.size;
      const part = rest.subarray(0, room);
      for (let off = 0; off < part.length; ) off += (await file.handle.write(part, off, part.length - off)).bytesWritten;
      file.hash?.update(part);
      file.size += part.length;
      rest = rest.subarray(part.length);
      if (this.split !== undefined && file.size === this.split) await this.closeCurrent();
    }
  }

  private async openNext(): Promise<OpenFile> {
    const index = this.done.length;
    if (index >= MAX_VOLUMES) {
      throw new UsageError(`--split ${this.split} would need more than ${MAX_VOLUMES} volumes`, { hint: 'choose a larger --split size' });
    }
    const finalPath = this.split === undefined ? this.path : join(dirname(this.path), volumeName(basename(this.path), index));
    const tempPath = `${finalPath}.partial`;
    const handle = await open(tempPath, 'w', 0o644).catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot write the bundle to ${finalPath}: ${err.code === 'ENOENT' ? 'its directory does not exist' : err.message}`, { cause: err });
    });
    this.current = { handle, tempPath, finalPath, size: 0, hash: this.split === undefined ? undefined : createHash('sha256') };
    return this.current;
  }

  private async closeCurrent(): Promise<void> {
    const file = this.current;
    if (!file) return;
    this.current = undefined;
    await file.handle.sync();
    await file.handle.close();
    const sha256 = file.hash ? file.hash.digest('hex') : this.sha256();
    this.done.push({ info: { name: basename(file.finalPath), size: file.size, sha256 }, tempPath: file.tempPath, finalPath: file.finalPath });
  }

  /** Each file written, with its size and sha256; complete after 'finish'. */
  volumes(): VolumeInfo[] {
    return this.done.map((d) => d.info);
  }

  /** sha256 hex of the whole tar; valid after 'finish'. */
  sha256(): string {
    if (this.wholeHex === undefined) throw new Error('the bundle sha256 is known only once the tar is finished');
    return this.wholeHex;
  }

  /** Renames every finished file into place (and, for volumes, removes stale higher-numbered ones). */
  async commit(): Promise<string[]> {
    for (const d of this.done) await rename(d.tempPath, d.finalPath);
    if (this.split !== undefined) await this.removeStaleVolumes();
    await syncDir(dirname(this.path));
    return this.done.map((d) => d.finalPath);
  }

  /** Deletes every partial file; after a failure. */
  async abort(): Promise<void> {
    this.destroy();
    const temps = [...this.done.map((d) => d.tempPath), ...(this.current ? [this.current.tempPath] : [])];
    const pending = this.split === undefined ? [`${this.path}.partial`] : [];
    for (const p of [...temps, ...pending]) await rm(p, { force: true });
    if (this.split !== undefined) {
      const base = basename(this.path);
      const dir = dirname(this.path);
      for (const name of await readdir(dir)) {
        if (name.startsWith(`${base}.`) && /\.\d{3}\.partial$/.test(name)) await rm(join(dir, name), { force: true });
      }
    }
  }

  /** Volumes NAME.NNN left over from an earlier, longer write of the same name would break `cat NAME.0*`. */
  private async removeStaleVolumes(): Promise<void> {
    const base = basename(this.path);
    const dir = dirname(this.path);
    const pattern = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d{3})$`);
    for (const name of await readdir(dir)) {
      const m = pattern.exec(name);
      if (m && Number(m[1]) >= this.done.length) await rm(join(dir, name), { force: true });
    }
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
