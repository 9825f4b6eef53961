import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { ErrorCode, IntegrityError } from '../core/errors.js';
import { MAX_METADATA_BYTES } from '../core/limits.js';
import { readCapped } from '../core/read-capped.js';
import { isPresent, problemOf, shaProblem, unlistedVolumes, volumeError } from './volume-check.js';
import { checkSignature, type SignatureState, type TrustOptions } from './signature-check.js';
import { baseNameOfSidecar, parseSidecar, type VolumeInfo, type VolumeSidecar } from './volume-sidecar.js';

// Reads a split bundle as one stream: NAME.000, NAME.001, … concatenated, each
// volume hashed as it streams and checked against the sidecar at its end, so
// the error names the stick ("volume app.002 is damaged: sha256 mismatch").
// Only on an error path does diagnose() finish hashing the current volume, to
// tell a damaged volume from damaged content.

const CHUNK = 64 * 1024;

export interface VolumeSet {
  sidecarPath: string;
  dir: string;
  sidecar: VolumeSidecar;
  signature: SignatureState;
}

export async function loadVolumeSet(sidecarPath: string, trust: TrustOptions): Promise<VolumeSet> {
  const name = basename(sidecarPath);
  const bytes = await readCapped(createReadStream(sidecarPath), MAX_METADATA_BYTES, name);
  const sidecar = parseSidecar(bytes, name, baseNameOfSidecar(sidecarPath));
  let signature: Buffer | undefined;
  try {
    signature = await readCapped(createReadStream(`${sidecarPath}.sig`), 1024, `${name}.sig`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const state = checkSignature({ name, sigName: `${name}.sig`, bytes, signerKeyId: sidecar.signer?.keyId, signature }, trust);
  return { sidecarPath, dir: dirname(sidecarPath), sidecar, signature: state };
}

/** Every listed volume present with its listed size, and no unlisted NAME.NNN beside them. */
export async function checkVolumeFiles(set: VolumeSet): Promise<void> {
  const { volumes } = set.sidecar;
  const present = new Set<string>();
  for (const v of volumes) if (await isPresent(set.dir, v)) present.add(v.name);
  if (present.size < volumes.length) throw missingVolumes(set, present);
  for (const v of volumes) {
    const size = (await stat(join(set.dir, v.name))).size;
    if (size !== v.size) throw volumeError(v, `is damaged: ${size} bytes, ${volumes.length > 1 ? 'the volume list says' : 'expected'} ${v.size}`);
  }
  const [stray] = await unlistedVolumes(set.dir, baseNameOfSidecar(set.sidecarPath), volumes);
  if (stray) throw new IntegrityError(`volume ${stray} is not listed in ${basename(set.sidecarPath)}`, { code: ErrorCode.bundleInvalid, subject: stray });
}

/** Names every missing volume, and how to check the ones in hand. */
function missingVolumes(set: VolumeSet, present: ReadonlySet<string>): IntegrityError {
  const { volumes } = set.sidecar;
  const missing = volumes.filter((v) => !present.has(v.name)).map((v) => v.name);
  const here = volumes.filter((v) => present.has(v.name)).map((v) => v.name);
  const what = missing.length === 1 ? `volume ${missing[0]} is missing` : `volumes ${missing.join(', ')} are missing`;
  const found = here.length === 0 ? `none of the ${volumes.length} is in ${set.dir}` : `${here.length} of ${volumes.length} in ${set.dir}: ${here.join(', ')}`;
  return new IntegrityError(`${what} (${found})`, {
    code: ErrorCode.bundleInvalid,
    subject: missing[0] as string,
    hint: `to check only the volumes in hand: ferry verify ${set.sidecarPath} --present (or --volume N); verifying or importing the bundle needs all ${volumes.length} in one folder`,
    details: { missing, present: here },
  });
}

interface Cursor {
  index: number;
  offset: number;
  hash: Hash;
  finished: boolean;
}

export class JoinedVolumes {
  private readonly set: VolumeSet;
  private cursor: Cursor | undefined;
  bytesRead = 0;

  constructor(set: VolumeSet) {
    this.set = set;
  }

  stream(): Readable {
    return Readable.from(this.chunks(), { objectMode: false, highWaterMark: CHUNK });
  }

  private async *chunks(): AsyncGenerator<Buffer> {
    const { volumes } = this.set.sidecar;
    for (const [index, v] of volumes.entries()) {
      const handle = await open(join(this.set.dir, v.name), 'r').catch(() => {
        // Only inspect reads without checking every volume first: it needs the head, in volume 000.
        throw new IntegrityError(`volume ${v.name} is missing${index === 0 ? ": it holds the bundle's head" : ''}`, {
          code: ErrorCode.bundleInvalid,
          subject: v.name,
          hint: `to check the volumes in ${this.set.dir} alone: ferry verify ${this.set.sidecarPath} --present`,
        });
      });
      const cursor: Cursor = { index, offset: 0, hash: createHash('sha256'), finished: false };
      this.cursor = cursor;
      try {
        for (;;) {
          const buf = Buffer.allocUnsafe(CHUNK);
          const { bytesRead } = await handle.read(buf, 0, CHUNK, null);
          if (bytesRead === 0) break;
          if (cursor.offset + bytesRead > v.size) throw volumeError(v, `is damaged: longer than the listed ${v.size} bytes`);
          const chunk = buf.subarray(0, bytesRead);
          cursor.hash.update(chunk);
          cursor.offset += bytesRead;
          this.bytesRead += bytesRead;
          yield chunk;
        }
      } finally {
        await handle.close();
      }
      cursor.finished = true;
      if (cursor.offset !== v.size) throw volumeError(v, `is damaged: ${cursor.offset} bytes, the volume list says ${v.size}`);
      const error = this.mismatch(index, cursor.hash.digest('hex'));
      if (error) throw error;
    }
  }

  /** The error for volume `index` hashing to `actual`, naming a swapped volume when that is what happened. */
  private mismatch(index: number, actual: string): IntegrityError | undefined {
    const { volumes } = this.set.sidecar;
    const problem = shaProblem(volumes, index, actual);
    return problem ? volumeError(volumes[index] as VolumeInfo, problem) : undefined;
  }

  /**
   * After a blob read by its byte range failed: hashes each volume holding tar bytes [start, end) whole
   * and returns the first one's volume-level error (damaged, or another set's), else undefined.
   */
  async diagnoseSpan(start: number, end: number): Promise<IntegrityError | undefined> {
    const { volumes } = this.set.sidecar;
    let at = 0;
    for (const [index, v] of volumes.entries()) {
      const from = at;
      at += v.size;
      if (at <= start || from >= end) continue;
      const problem = await problemOf(this.set.dir, volumes, index);
      if (problem) return volumeError(v, problem);
    }
    return undefined;
  }

  /**
   * After a read failed: hashes the rest of the volume being read and returns the
   * volume-level error if that volume is damaged, else undefined (the damage is
   * in content the volume list vouches for).
   */
  async diagnose(): Promise<IntegrityError | undefined> {
    const c = this.cursor;
    if (!c || c.finished) return undefined;
    c.finished = true;
    const v = this.set.sidecar.volumes[c.index] as VolumeInfo;
    const hash = c.hash.copy();
    let offset = c.offset;
    const stream = createReadStream(join(this.set.dir, v.name), { start: c.offset });
    try {
      for await (const chunk of stream) {
        hash.update(chunk as Buffer);
        offset += (chunk as Buffer).length;
      }
    } catch {
      return volumeError(v, 'cannot be read to the end');
    }
    if (offset !== v.size) return volumeError(v, `is damaged: ${offset} bytes, the volume list says ${v.size}`);
    return this.mismatch(c.index, hash.digest('hex'));
  }
}
