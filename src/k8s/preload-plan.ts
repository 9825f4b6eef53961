import type { ManifestDb } from '../bundle/index.js';
import type { Descriptor } from '../core/descriptor.js';
import type { Digest } from '../core/digest.js';
import { isIndex } from '../core/media-types.js';
import { formatPlatform, platformMatches, type Platform } from '../core/platform.js';
import { formatReference, parseReference } from '../core/reference.js';
import { retarget, type Destination, type RetagRule } from '../transfer/retag.js';

// What a preload hands containerd, decided from index.db before a layer is read.
// Images only: referrers (signatures, SBOMs) have no name and are left out.
// With --platform, every manifest of an image still goes (they are small, and
// `ctr images import --all-platforms` reads each child of an index), but
// configs and layers only for the selected platforms — containerd then holds
// what a platform-filtered pull would. An image with no selected platform is
// skipped and reported.

export interface PreloadImage {
  /** The name containerd gets (the bundle name, or its retargeted form). */
  name: string;
  /** The name in the bundle. */
  source: string;
  root: Descriptor;
  /** Platforms carried to containerd (empty when unknown, e.g. an artifact). */
  platforms: string[];
}

export interface PreloadPlan {
  images: PreloadImage[];
  skipped: Array<{ name: string; reason: string }>;
  /** Every blob to send, by digest. */
  blobs: Set<Digest>;
  /** Blobs needed but left out of a delta bundle: containerd must already hold them. */
  assumed: Digest[];
  bytes: number;
}

export interface PreloadSelection {
  /** Empty: every platform. */
  platforms: readonly Platform[];
  /** Rename images as import would (`--registry`, `--retag`); absent: keep bundle names. */
  rename?: { destination?: Destination; rules: readonly RetagRule[] };
}

function selected(platform: Platform | undefined, wanted: readonly Platform[]): boolean {
  return wanted.length === 0 || platform === undefined || wanted.some((w) => platformMatches(w, platform));
}

interface Taken {
  platforms: string[];
  blobs: Digest[];
}

/** The image manifests under an index, however deep (bounded). */
function leavesOf(db: ManifestDb, index: Digest, depth = 0): Digest[] {
  return db.children(index).flatMap((edge) => {
    if (edge.kind !== 'manifest') return [];
    const child = db.blob(edge.child);
    return child && isIndex(child.descriptor.mediaType) && depth < 4 ? leavesOf(db, edge.child, depth + 1) : [edge.child];
  });
}

/** What an image needs sent, or undefined when none of its platforms is selected. */
function take(db: ManifestDb, root: Digest, mediaType: string, wanted: readonly Platform[]): Taken | undefined {
  const leaves = isIndex(mediaType) ? leavesOf(db, root) : [root];
  const chosen = leaves.filter((leaf) => selected(db.manifest(leaf)?.platform, wanted));
  if (chosen.length === 0) return undefined;
  const manifests = db.blobsOf(root).filter((b) => b.kind === 'manifest').map((b) => b.descriptor.digest);
  const platforms = chosen.flatMap((leaf) => {
    const p = db.manifest(leaf)?.platform;
    return p ? [formatPlatform(p)] : [];
  });
  return { platforms, blobs: [...manifests, ...chosen.flatMap((leaf) => db.blobsOf(leaf).map((b) => b.descriptor.digest))] };
}

function renamed(name: string, selection: PreloadSelection): string {
  if (!selection.rename) return name;
  const target = retarget(parseReference(name), selection.rename.destination, [...selection.rename.rules]);
  return target ? formatReference(target) : name;
}

export function planPreload(db: ManifestDb, selection: PreloadSelection): PreloadPlan {
  const plan: PreloadPlan = { images: [], skipped: [], blobs: new Set(), assumed: [], bytes: 0 };
  for (const image of db.images()) {
    const root: Descriptor = { mediaType: image.mediaType, digest: image.digest, size: image.size };
    const taken = take(db, image.digest, image.mediaType, selection.platforms);
    if (!taken) {
      const has = db.platforms(image.digest).map(formatPlatform).join(', ') || 'unknown';
      plan.skipped.push({ name: image.name, reason: `no selected platform (it has ${has})` });
      continue;
    }
    for (const d of taken.blobs) plan.blobs.add(d);
    plan.images.push({ name: renamed(image.name, selection), source: image.name, root, platforms: [...new Set(taken.platforms)] });
  }
  for (const digest of plan.blobs) {
    const blob = db.blob(digest);
    if (!blob) continue;
    if (blob.included) plan.bytes += blob.descriptor.size;
    else plan.assumed.push(digest);
  }
  return plan;
}
