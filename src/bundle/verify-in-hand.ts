import { basename } from 'node:path';
import { ErrorCode, IntegrityError, NotFoundError, UsageError } from '../core/errors.js';
import type { EventSink } from '../core/progress-events.js';
import { openVolumeSet } from './bundle-source.js';
import type { SignatureState, TrustOptions } from './signature-check.js';
import { verifyBundle, type VerifyReport } from './verify.js';
import { checkVolumesInFolder, isPresent, unlistedVolumes, type VolumeStatus } from './volume-check.js';
import { baseNameOfSidecar, type VolumeInfo } from './volume-sidecar.js';

// `ferry verify --present` / `--volume N`: the one stick in hand. The volume
// list's signature is checked, then each volume there (or each one asked for)
// against the size and sha256 the list signs. When every volume is there, this
// is the full verify; otherwise the report says which volumes were not checked.

export interface InHandOptions extends TrustOptions {
  /** --volume: only these volumes (1, 001 or NAME.001); else every volume present. */
  only?: readonly string[];
  /** Progress: the verify phase (the bytes of the volumes to check), then `bytes` as they are hashed. */
  onEvent?: EventSink;
}

export interface InHandReport {
  /** The volume list. */
  source: string;
  /** Some volumes were not checked, and the bundle's content was not read. */
  complete: false;
  id: string;
  created: string;
  /** The volume list's signature: what vouches for each volume's sha256. */
  signature: SignatureState;
  keyId: string | null;
  /** Volumes checked, and their bytes. */
  checked: number;
  checkedBytes: number;
  volumes: { list: VolumeStatus[]; signature: SignatureState };
  /** Files beside the list named like its volumes that it does not name: reported, not checked (its signature covers none of them). */
  stray: string[];
}

export type VerifyOutcome = VerifyReport | InHandReport;

/** The indexes `--volume` names, each a listed volume. */
function selectVolumes(volumes: readonly VolumeInfo[], asked: readonly string[]): Set<number> {
  const picked = new Set<number>();
  for (const a of asked) {
    const index = /^\d+$/.test(a) ? Number(a) : volumes.findIndex((v) => v.name === basename(a));
    if (index < 0 || index >= volumes.length) {
      throw new UsageError(`--volume ${a}: the volume list has volumes 0 to ${volumes.length - 1} (${volumes[0]?.name} … ${volumes.at(-1)?.name})`);
    }
    picked.add(index);
  }
  return picked;
}

export async function verifyVolumesInHand(path: string, opts: InHandOptions = {}): Promise<VerifyOutcome> {
  const { only: asked, onEvent, ...trust } = opts;
  const full = (): Promise<VerifyReport> => verifyBundle(path, { ...trust, ...(onEvent ? { onEvent } : {}) });
  const set = await openVolumeSet(path, trust);
  if (!set) {
    if (asked) throw new UsageError(`--volume is for a split bundle; ${path} is one file`, { hint: `ferry verify ${path} checks it whole` });
    return full();
  }
  const { volumes } = set.sidecar;
  const only = asked ? selectVolumes(volumes, asked) : undefined;
  const present = await Promise.all(volumes.map((v) => isPresent(set.dir, v)));
  const here = volumes.filter((_, i) => present[i]).map((v) => v.name);
  for (const i of only ?? []) {
    if (!present[i]) {
      throw new NotFoundError(`volume ${volumes[i]?.name} is not in ${set.dir} (${here.length ? `here: ${here.join(', ')}` : 'no volume is there'})`, {
        hint: 'put that stick in, or check the volumes that are there with --present',
      });
    }
  }
  if (here.length === 0) {
    throw new NotFoundError(`no volume of ${set.sidecarPath} is in ${set.dir}: nothing to check`, { hint: `copy the volumes (${volumes[0]?.name} …) beside the volume list` });
  }
  // Every volume in hand and asked for: the full verify reads them all anyway (and the content too);
  // it refuses a stray volume, as import would, since the set in that folder is then in doubt.
  if (present.every(Boolean) && (!only || only.size === volumes.length)) return full();

  const checking = volumes.filter((_, i) => present[i] && (!only || only.has(i)));
  onEvent?.({ type: 'phase', phase: 'verify', total: checking.reduce((n, v) => n + v.size, 0) });
  const list = await checkVolumesInFolder(set.dir, volumes, only, onEvent && ((bytes) => onEvent({ type: 'bytes', bytes })));
  const failed = list.filter((v) => v.status === 'failed');
  if (failed.length > 0) {
    throw new IntegrityError(failed.map((v) => `volume ${v.name} ${v.problem}`).join('\n'), {
      code: ErrorCode.bundleInvalid,
      subject: failed[0]?.name,
      hint: failed.length === 1 ? `copy ${failed[0]?.name} again, or re-make it on the connected side: the same ferry export with --only-volume ${list.indexOf(failed[0] as VolumeStatus)}` : 'copy those volumes again, or re-make each on the connected side: the same ferry export with --only-volume N',
      details: { complete: false, volumes: list },
    });
  }
  const checked = list.filter((v) => v.status === 'checked');
  const stray = await unlistedVolumes(set.dir, baseNameOfSidecar(set.sidecarPath), volumes);
  return {
    source: set.sidecarPath,
    complete: false,
    id: set.sidecar.bundle.id,
    created: set.sidecar.created,
    signature: set.signature,
    keyId: set.sidecar.signer?.keyId ?? null,
    checked: checked.length,
    checkedBytes: checked.reduce((n, v) => n + v.size, 0),
    volumes: { list, signature: set.signature },
    stray,
  };
}
