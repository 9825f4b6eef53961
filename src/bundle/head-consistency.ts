import type { Digest } from '../core/digest.js';
import { ErrorCode, IntegrityError } from '../core/errors.js';
import { BundleEntry, type BundleJson } from './format.js';
import { indexEntryName, type OciIndexJson } from './index-json.js';
import type { ManifestDb } from './manifest-db.js';
import type { CarriedBlobs } from './manifest-db-carried.js';

// The head files are each digest-checked against bundle.json; this checks they
// also agree with each other, so the blob iterator can trust index.db for the
// size and media type of every blob SHA256SUMS lists (a writer bug or a forged
// unsigned bundle shows up here, named, before any blob is read).

export interface HeadFiles {
  bundleJson: BundleJson;
  index: OciIndexJson;
  db: ManifestDb;
  sums: readonly Digest[];
  /** The `ferry/tool/…` lines of SHA256SUMS. */
  toolSums?: ReadonlyArray<{ entry: string; digest: Digest }>;
  /** index.json's bytes were exactly what ferry writes for bundle.json's images (indexJsonOf): it lists what bundle.json lists. */
  indexFromBundleJson?: boolean;
}

function disagree(a: string, b: string, what: string): IntegrityError {
  return new IntegrityError(`${a} disagrees with ${b}: ${what}`, { code: ErrorCode.bundleInvalid, subject: a });
}

/** The same lines in any order: compared as they come first (both lists are by name when ferry wrote them), sorted only when that fails. */
function sameImages(a: readonly string[], b: readonly string[]): boolean {
  if (a.length === b.length && a.every((line, i) => line === b[i])) return true;
  return [...a].sort().join('\n') === [...b].sort().join('\n');
}

export function checkHeadConsistency({ bundleJson, index, db, sums, toolSums = [], indexFromBundleJson = false }: HeadFiles): void {
  // The ferry releases carried: the same in SHA256SUMS as in bundle.json, in the same (tar) order.
  const releases = (bundleJson.releases ?? []).map((r) => `${r.entry} ${r.digest}`).join(',');
  if (toolSums.map((t) => `${t.entry} ${t.digest}`).join(',') !== releases) throw disagree(BundleEntry.sums, BundleEntry.bundleJson, 'the ferry releases carried differ');
  const carried = db.carried();
  if (!blobListsAgree(carried, bundleJson, sums)) checkBlobLists(db, bundleJson, sums);
  const images = db.images();
  const fromDb = images.map((i) => `${i.name} ${i.digest} ${i.size}`);
  const fromJson = bundleJson.images.map((i) => `${i.name} ${i.digest} ${i.size}`);
  // An index.json derived from bundle.json would compare as bundle.json does: once, refused under index.json's name as before.
  const fromIndex = indexFromBundleJson ? fromJson : index.manifests.map((d) => `${indexEntryName(d)} ${d.digest} ${d.size}`);
  if (!sameImages(fromDb, fromIndex)) throw disagree(BundleEntry.indexJson, BundleEntry.indexDb, 'the images differ');
  if (!indexFromBundleJson && !sameImages(fromDb, fromJson)) throw disagree(BundleEntry.bundleJson, BundleEntry.indexDb, 'the images differ');
  if (!carried || carried.missingRoots !== 0) checkRootsAmongBlobs(db);
}

/**
 * Whether the blob lists agree, from sums SQLite makes over index.db (no row object per blob).
 * False means "look closer", not "refuse": checkBlobLists then reads the rows and names what is wrong.
 */
function blobListsAgree(carried: CarriedBlobs | undefined, bundleJson: BundleJson, sums: readonly Digest[]): boolean {
  if (!carried) return false;
  const { digests, bytes, assumed } = carried;
  if (digests.length !== sums.length || digests.length !== bundleJson.blobs.count || bytes !== bundleJson.blobs.bytes) return false;
  for (let i = 0; i < digests.length; i++) if (digests[i] !== sums[i]) return false;
  // SQLite orders by digest, the declared list is sorted as `digest:size` text: the same order for distinct sha256 digests.
  const declared = bundleJson.assumes.map((a) => `${a.digest}:${a.size}`).sort();
  return assumed.length === declared.length && assumed.every((a, i) => a === declared[i]);
}

/** The blob lists compared row by row: the first disagreement (or bad row) refused by name. */
function checkBlobLists(db: ManifestDb, bundleJson: BundleJson, sums: readonly Digest[]): void {
  const blobs = db.blobs();
  const included = blobs.filter((b) => b.included);
  // SHA256SUMS and index.db list the carried blobs in the same (tar) order.
  if (included.length !== sums.length) {
    throw disagree(BundleEntry.indexDb, BundleEntry.sums, `${included.length} blobs carried, ${sums.length} listed`);
  }
  included.forEach((b, i) => {
    if (b.descriptor.digest !== sums[i]) throw disagree(BundleEntry.indexDb, BundleEntry.sums, `blob ${i + 1} is ${b.descriptor.digest}, not ${sums[i]}`);
  });
  const bytes = included.reduce((n, b) => n + b.descriptor.size, 0);
  if (bundleJson.blobs.count !== included.length || bundleJson.blobs.bytes !== bytes) {
    throw disagree(BundleEntry.bundleJson, BundleEntry.indexDb, `blobs ${bundleJson.blobs.count}/${bundleJson.blobs.bytes} bytes vs ${included.length}/${bytes} bytes`);
  }
  const assumed = blobs.filter((b) => !b.included).map((b) => `${b.descriptor.digest}:${b.descriptor.size}`);
  const declared = bundleJson.assumes.map((a) => `${a.digest}:${a.size}`);
  if (assumed.sort().join(',') !== declared.sort().join(',')) {
    throw disagree(BundleEntry.bundleJson, BundleEntry.indexDb, 'the assumed (left out) blobs differ');
  }
}

/** Each root among the blobs: the roots left once every blob is struck off (a set of images, not of blobs). */
function checkRootsAmongBlobs(db: ManifestDb): void {
  const blobs = db.blobs();
  const images = db.images();
  const missing = new Set(images.map((i) => i.digest));
  for (const b of blobs) missing.delete(b.descriptor.digest);
  for (const i of images) {
    if (missing.has(i.digest)) {
      throw new IntegrityError(`${BundleEntry.indexDb}: image ${i.name} root ${i.digest} is not among the blobs`, { code: ErrorCode.bundleInvalid, subject: BundleEntry.indexDb });
    }
  }
}
