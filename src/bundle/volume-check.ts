import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, IntegrityError } from '../core/errors.js';
import { baseOfVolumePath, type VolumeInfo } from './volume-sidecar.js';

// Checks volumes one by one against the signed volume list: each is signed
// through the list (its size and sha256), so the one stick in hand can be
// proven without the others. Also the home of the per-volume error wording
// the joined reader (volume-join.ts) shares.

/** checked: size and sha256 match the list; absent: not in the folder; failed: present and wrong; skipped: present, not asked for (--volume). */
export type VolumeState = 'checked' | 'absent' | 'failed' | 'skipped';

export interface VolumeStatus extends VolumeInfo {
  status: VolumeState;
  /** For a failed volume: what is wrong with it. */
  problem?: string;
}

export function volumeError(v: VolumeInfo, what: string): IntegrityError {
  return new IntegrityError(`volume ${v.name} ${what}`, { code: ErrorCode.bundleInvalid, subject: v.name });
}

/** What is wrong with volume `index` hashing to `actual` ('' when nothing), naming a swapped volume when that is what happened. */
export function shaProblem(volumes: readonly VolumeInfo[], index: number, actual: string): string {
  const v = volumes[index] as VolumeInfo;
  if (actual === v.sha256) return '';
  const other = volumes.find((o) => o.sha256 === actual);
  return other ? `holds the bytes of ${other.name}: volumes out of order` : 'is damaged: sha256 mismatch';
}

/** Whether a listed volume is in `dir` (a file of any size). */
export async function isPresent(dir: string, v: VolumeInfo): Promise<boolean> {
  return stat(join(dir, v.name)).then(
    (s) => s.isFile(),
    () => false,
  );
}

/**
 * Files in `dir` named like a volume of this set (`base`.NNN) that the volume
 * list does not name (another export's volume, or a number beyond the set),
 * sorted: the list's signature covers none of them.
 */
export async function unlistedVolumes(dir: string, base: string, volumes: readonly VolumeInfo[]): Promise<string[]> {
  const listed = new Set(volumes.map((v) => v.name));
  return (await readdir(dir)).filter((name) => baseOfVolumePath(name) === base && !listed.has(name)).sort();
}

/** Hashes one volume (reading at most one byte past its listed size) and returns what is wrong with it, or ''. */
export async function problemOf(dir: string, volumes: readonly VolumeInfo[], index: number, onBytes?: (bytes: number) => void): Promise<string> {
  const v = volumes[index] as VolumeInfo;
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of createReadStream(join(dir, v.name), { end: v.size, highWaterMark: 1024 * 1024 })) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
      onBytes?.((chunk as Buffer).length);
    }
  } catch (err) {
    return `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
  }
  if (size > v.size) return `is damaged: longer than the listed ${v.size} bytes`;
  if (size < v.size) return `is damaged: ${size} bytes, the volume list says ${v.size}`;
  return shaProblem(volumes, index, hash.digest('hex'));
}

/**
 * The status of every listed volume in `dir`: each present one whose index is
 * in `only` (every present one when `only` is undefined) is hashed and checked.
 */
export async function checkVolumesInFolder(dir: string, volumes: readonly VolumeInfo[], only?: ReadonlySet<number>, onBytes?: (bytes: number) => void): Promise<VolumeStatus[]> {
  const out: VolumeStatus[] = [];
  for (const [index, v] of volumes.entries()) {
    if (!(await isPresent(dir, v))) out.push({ ...v, status: 'absent' });
    else if (only && !only.has(index)) out.push({ ...v, status: 'skipped' });
    else {
      const problem = await problemOf(dir, volumes, index, onBytes);
      out.push(problem ? { ...v, status: 'failed', problem } : { ...v, status: 'checked' });
    }
  }
  return out;
}
