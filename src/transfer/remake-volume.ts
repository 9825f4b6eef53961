import { access, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Descriptor } from '../core/descriptor.js';
import { ErrorCode, NotFoundError, UsageError } from '../core/errors.js';
import { keyIdOf, parsePrivateKey, parseSidecar, remakeBundleVolume, sidecarPathFor, type BundleImageInput, type ToolInput, type VolumeInfo, type VolumeSidecar } from '../bundle/index.js';
import type { BlobProvider, TransferRecords } from '../store/index.js';
import { findWritten } from './export-record.js';

// `ferry export … --only-volume N`: one lost or damaged volume made again, and
// only that one. What the bundle holds is pinned by the store's record of the
// export that wrote it (found by the bundle id in the volume list beside the
// output, else by the output path): no registry is needed, and a tag that
// moved upstream since cannot change the bytes. Without a record (a store that
// did not write it) the images are pulled again. The new volume is checked
// against the volume list (or the record's copy of it) before it takes its name.

const MAX_SIDECAR_BYTES = 4 * 1024 * 1024;

export interface RemakeOptions {
  store: BlobProvider & Pick<TransferRecords, 'bundles'>;
  /** The export's -o: the base name of the volumes. */
  output: string;
  split: number;
  volume: number;
  signingKey?: string;
  toolVersion: string;
  /** Releases given with --with-ferry on this command line: carried when the store has no record, else where to read a recorded one from. */
  tools?: ToolInput[];
  /** The writer's inputs from the registries, when the store has no record (needs the network). */
  pull: () => Promise<{ images: BundleImageInput[]; assumes: Descriptor[] }>;
  signal?: AbortSignal;
}

export interface RemakeReport {
  file: string;
  volume: VolumeInfo;
  bundleId: string;
  /** Where what the bundle holds was taken from. */
  pinnedBy: 'store' | 'registry';
  /** What the new volume's sha256 was checked against (null: nothing to check it against). */
  checkedAgainst: 'volume-list' | 'store' | null;
}

async function readSidecar(output: string): Promise<VolumeSidecar | undefined> {
  const path = sidecarPathFor(output);
  const info = await stat(path).catch(() => undefined);
  if (!info) return undefined;
  if (info.size > MAX_SIDECAR_BYTES) throw new UsageError(`${path} is not a volume list (${info.size} bytes)`);
  return parseSidecar(await readFile(path), basename(path), basename(output));
}

/**
 * The releases the bundle carries: the record's, each read from the file given
 * again on this command line when there is one (a release built into a scratch
 * directory is gone by now). They sit in volume 0, so only it needs the files.
 */
async function carriedTools(recorded: ToolInput[] | undefined, given: ToolInput[], volume: number): Promise<ToolInput[]> {
  const tools = (recorded ?? given).map((t) => given.find((g) => g.entry === t.entry && g.digest === t.digest) ?? t);
  if (volume !== 0) return tools;
  for (const t of tools) {
    await access(t.path).catch(() => {
      throw new UsageError(`volume 0 carries ${t.entry}, and the release it was read from (${t.path}) is gone`, { hint: 'give that release again: --with-ferry RELEASE.tar.gz' });
    });
  }
  return tools;
}

function checkKey(signer: string | null, signingKey: string | undefined): void {
  const given = signingKey === undefined ? null : keyIdOf(parsePrivateKey(signingKey));
  if (given === signer) return;
  if (signer === null) throw new UsageError('the bundle was written unsigned: leave out --sign to re-make its volume');
  throw new UsageError(`the bundle was signed by key ${signer}: give the same --sign key to re-make its volume${given ? ` (this one is ${given})` : ''}`);
}

export async function remakeVolume(options: RemakeOptions): Promise<RemakeReport> {
  const { store, output, split, volume } = options;
  const sidecar = await readSidecar(output);
  if (sidecar && sidecar.split !== split) throw new UsageError(`${sidecarPathFor(output)} lists volumes of --split ${sidecar.split}, not ${split}: give the split the bundle was written with`);
  if (sidecar && volume >= sidecar.volumes.length) throw new UsageError(`the bundle has no volume ${volume}: its volume list names ${sidecar.volumes.length} (numbered 0 to ${sidecar.volumes.length - 1})`);
  const record = findWritten(store, { ...(sidecar ? { id: sidecar.bundle.id } : {}), out: output, split });
  const signer = record?.keyId ?? sidecar?.signer?.keyId;
  if (signer !== undefined) checkKey(signer, options.signingKey);
  const inputs = record ?? (await options.pull());
  const tools = await carriedTools(record ? (record.tools ?? []) : undefined, options.tools ?? [], volume);
  const expected = sidecar?.volumes[volume]?.sha256 ?? record?.volumes?.[volume]?.sha256;
  const localFile = (desc: Descriptor): string => {
    if (store.hasBlob(desc.digest)) return store.blobPath(desc.digest);
    throw new NotFoundError(`blob ${desc.digest} of the bundle is no longer in the store (garbage-collected?), so volume ${volume} cannot be made from it`, {
      code: ErrorCode.blobUnknown,
      hint: 'export the whole bundle again (without --only-volume), with the source registry reachable',
    });
  };
  const made = await remakeBundleVolume({
    images: inputs.images,
    fetch: (desc) => store.openBlob(desc.digest),
    localFile,
    out: output,
    split,
    index: volume,
    ...(options.signingKey ? { signingKey: options.signingKey } : {}),
    // The original's creation time: the record's, else the volume list's (a re-pull must give the same bytes).
    ...(record ? { created: new Date(record.created) } : sidecar ? { created: new Date(sidecar.created) } : {}),
    ...(inputs.assumes.length ? { assumes: inputs.assumes } : {}),
    toolVersion: record?.toolVersion ?? options.toolVersion,
    ...(tools.length ? { tools } : {}),
    ...(expected ? { expectedSha256: expected } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const { volumes: _count, bundleId, ...info } = made;
  return {
    file: join(dirname(output), info.name),
    volume: info,
    bundleId,
    pinnedBy: record ? 'store' : 'registry',
    checkedAgainst: sidecar ? 'volume-list' : record?.volumes ? 'store' : null,
  };
}
