import { close, open, read, statSync, type Stats } from 'node:fs';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { IntegrityError, NotFoundError, UsageError } from '../core/errors.js';
import { TarSpan } from './tar-span.js';
import { checkVolumeFiles, JoinedVolumes, loadVolumeSet, type VolumeSet } from './volume-join.js';
import type { TrustOptions } from './signature-check.js';
import { baseOfVolumePath, sidecarPathFor } from './volume-sidecar.js';

// What a reader reads: a bundle file, a volume set (named by NAME, NAME.000 or
// NAME.volumes.json), or any byte stream. It counts the bytes it hands out, so
// callers (and tests) can see that inspect stopped at the head.

export type BundleInput = string | { stream: Readable; name?: string };

export interface BundleSource {
  /** For messages: the path, or the stream's name. */
  readonly name: string;
  readonly volumes: VolumeSet | undefined;
  /** Where the tar lies on disk (a bundle file, or a set's volumes): undefined for a stream. */
  readonly tarSpan: TarSpan | undefined;
  /** The tar bytes; call once (this or `chunks`). */
  stream(): Readable;
  /**
   * The tar bytes as the chunks read, without a stream around them, where the source has them so
   * (a bundle file): the head reader takes them directly (a Readable's machinery, compiled on first
   * use, was a measurable part of a small inspect). Call once, instead of `stream`.
   */
  chunks?(): AsyncGenerator<Buffer>;
  /** Bytes handed to the reader so far. */
  bytesRead(): number;
  /**
   * After a failure: a volume-level explanation, if one volume is the culprit. Given the tar bytes
   * [start, end) whose check failed (a blob read by its range), the volumes holding them are hashed;
   * else the rest of the volume the stream was reading.
   */
  diagnose(span?: { start: number; end: number }): Promise<IntegrityError | undefined>;
}

// 256 KiB reads: a quarter of the per-chunk stream hops of 64 KiB (verify ~20% faster); inspect's read-ahead (two chunks) stays under 1 MiB.
const CHUNK = 256 * 1024;

// A bundle's file is stat'ed, opened and read with node:fs, not node:fs/promises: loading
// fs/promises (and the readline and stream modules it requires) was ~4 M instructions of a
// small inspect, which makes two or three stats and one open.
const openFile = promisify(open);
const readAt = promisify(read);
const closeFile = promisify(close);

/** The stat of `path`, or undefined when there is none to be had (missing, unreadable folder). */
export function statOf(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

const isFile = (path: string): boolean => statOf(path)?.isFile() ?? false;

/** Which sidecar, if any, a path names. */
function sidecarFor(path: string): string | undefined {
  if (path.endsWith('.volumes.json')) return path;
  const base = baseOfVolumePath(path);
  if (base !== undefined && isFile(sidecarPathFor(base))) return sidecarPathFor(base);
  if (!isFile(path) && isFile(sidecarPathFor(path))) return sidecarPathFor(path);
  return undefined;
}

class CountingFile implements BundleSource {
  readonly name: string;
  readonly volumes = undefined;
  readonly tarSpan: TarSpan;
  private count = 0;

  constructor(path: string, size: number) {
    this.name = path;
    this.tarSpan = TarSpan.file(path, size);
  }

  stream(): Readable {
    return Readable.from(this.chunks(), { objectMode: false, highWaterMark: CHUNK });
  }

  async *chunks(): AsyncGenerator<Buffer> {
    const fd = await openFile(this.name, 'r');
    const readChunk = async (): Promise<Buffer> => {
      const buf = Buffer.allocUnsafe(CHUNK);
      const { bytesRead } = await readAt(fd, buf, 0, CHUNK, null);
      this.count += bytesRead;
      return buf.subarray(0, bytesRead);
    };
    // One read always in flight while the consumer hashes the last chunk: reading
    // only when asked left verify idle ~35% of the time (profile, 2 GiB bundle).
    let next: Promise<Buffer> | undefined = readChunk();
    try {
      for (;;) {
        const chunk: Buffer = await next;
        if (chunk.length === 0) return;
        next = readChunk();
        yield chunk;
      }
    } finally {
      await next?.catch(() => undefined);
      await closeFile(fd);
    }
  }

  bytesRead(): number {
    return this.count;
  }

  async diagnose(): Promise<undefined> {
    return undefined;
  }
}

class VolumeSource implements BundleSource {
  readonly name: string;
  readonly volumes: VolumeSet;
  readonly tarSpan: TarSpan;
  private readonly joined: JoinedVolumes;

  constructor(set: VolumeSet) {
    this.name = set.sidecarPath;
    this.volumes = set;
    this.tarSpan = TarSpan.volumes(set);
    this.joined = new JoinedVolumes(set);
  }

  stream(): Readable {
    return this.joined.stream();
  }

  bytesRead(): number {
    return this.joined.bytesRead;
  }

  diagnose(span?: { start: number; end: number }): Promise<IntegrityError | undefined> {
    return span ? this.joined.diagnoseSpan(span.start, span.end) : this.joined.diagnose();
  }
}

class StreamSource implements BundleSource {
  readonly name: string;
  readonly volumes = undefined;
  readonly tarSpan = undefined;
  private readonly input: Readable;
  private count = 0;

  constructor(input: Readable, name: string) {
    this.input = input;
    this.name = name;
  }

  stream(): Readable {
    const counted = async function* (this: StreamSource): AsyncGenerator<Buffer> {
      for await (const chunk of this.input) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
        this.count += buf.length;
        yield buf;
      }
    };
    return Readable.from(counted.call(this), { objectMode: false });
  }

  bytesRead(): number {
    return this.count;
  }

  async diagnose(): Promise<undefined> {
    return undefined;
  }
}

export interface SourceOptions extends TrustOptions {
  /** Stat every volume up front (missing, wrong size, unlisted): import and verify do; inspect reads only the first. */
  checkVolumes?: boolean;
}

/** The volume set a path names (NAME, NAME.NNN or NAME.volumes.json), its list's signature checked; undefined for a single-file bundle. */
export async function openVolumeSet(path: string, trust: TrustOptions): Promise<VolumeSet | undefined> {
  const sidecar = sidecarFor(path);
  if (!sidecar) return undefined;
  return loadVolumeSet(sidecar, trust).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`volume list ${sidecar} not found`);
    throw err;
  });
}

export async function openBundleSource(input: BundleInput, opts: SourceOptions = {}): Promise<BundleSource> {
  if (typeof input !== 'string') return new StreamSource(input.stream, input.name ?? 'bundle stream');
  if (input.length === 0) throw new UsageError('no bundle path given');
  const set = await openVolumeSet(input, opts);
  if (set) {
    if (opts.checkVolumes ?? true) await checkVolumeFiles(set);
    return new VolumeSource(set);
  }
  const info = statOf(input);
  if (!info) throw new NotFoundError(`bundle ${input} not found`, { hint: 'for a split bundle, name NAME, NAME.000 or NAME.volumes.json' });
  // A folder or a device is a slip of the hand, not a damaged bundle: a usage error (exit 2).
  if (!info.isFile()) {
    throw new UsageError(`bundle ${input} is ${info.isDirectory() ? 'a directory' : 'not a regular file'}: name the bundle file`, {
      hint: 'a bundle is one file (NAME.tar); a split bundle is named by NAME, NAME.000 or NAME.volumes.json',
    });
  }
  return new CountingFile(input, info.size);
}
