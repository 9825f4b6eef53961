import type { Digest } from '../core/index.js';
import type { StoreContext } from './store-context.js';
import { byCodeUnits } from '../core/code-unit-order.js';

/** Bytes of one image (a tag), counting every blob it reaches once. */
export interface ImageUsage {
  repository: string;
  tag: string;
  digest: Digest;
  blobs: number;
  bytes: number;
  /** Bytes no other image reaches: what deleting this tag (then GC) would free. */
  uniqueBytes: number;
  /** Bytes also reached by another image (another tag, here or in another repository). */
  sharedBytes: number;
}

export interface RepositoryUsage {
  name: string;
  blobs: number;
  bytes: number;
  /** Bytes no image of another repository reaches. */
  uniqueBytes: number;
  sharedBytes: number;
  images: ImageUsage[];
}

export interface UsageReport {
  /** Every committed blob, counted once. */
  totalBytes: number;
  blobCount: number;
  /** Reached by at least one tag. */
  taggedBytes: number;
  /** Reached by no tag: kept manifests, untagged content, in-flight uploads; what prune + GC may free. */
  untaggedBytes: number;
  repositories: RepositoryUsage[];
}

/** Who reaches one blob: an owner index, or SHARED once a second one does. */
interface BlobOwners {
  size: number;
  image: number;
  repo: number;
  /** The last repository counted it: rows come grouped by repository, so a change means a first sighting there. */
  lastRepo: number;
}
const SHARED = -1;

/**
 * The honest answer to "why did deleting an image not free space": for every image
 * and repository, total, unique and shared bytes, where shared means another image
 * (or repository) reaches the same blob. Referrers count with their subject's image.
 *
 * One streamed pass over the (tag, blob) rows keeps a few numbers per blob, not a
 * set per blob and per image: a store of 10,000 tags stays well under 200 MiB.
 */
export function storeUsage(ctx: StoreContext): UsageReport {
  const blobs = new Map<Digest, BlobOwners>();
  const images: { usage: ImageUsage; repo: number }[] = [];
  const repos: RepositoryUsage[] = [];
  const totals = ctx.index.read(() => {
    let image: ImageUsage | undefined;
    let repo: RepositoryUsage | undefined;
    for (const r of ctx.index.mark.reachByTag()) {
      if (repo?.name !== r.repository) {
        repo = { name: r.repository, blobs: 0, bytes: 0, uniqueBytes: 0, sharedBytes: 0, images: [] };
        repos.push(repo);
        image = undefined;
      }
      const repoId = repos.length - 1;
      if (image?.tag !== r.tag) {
        image = { repository: r.repository, tag: r.tag, digest: r.root, blobs: 0, bytes: 0, uniqueBytes: 0, sharedBytes: 0 };
        images.push({ usage: image, repo: repoId });
      }
      const imageId = images.length - 1;
      image.blobs += 1;
      image.bytes += r.size;
      let seen = blobs.get(r.digest);
      if (!seen) {
        seen = { size: r.size, image: imageId, repo: repoId, lastRepo: SHARED };
        blobs.set(r.digest, seen);
      } else {
        if (seen.image !== imageId) seen.image = SHARED;
        if (seen.repo !== repoId) seen.repo = SHARED;
      }
      if (seen.lastRepo !== repoId) {
        seen.lastRepo = repoId;
        repo.blobs += 1;
        repo.bytes += r.size;
      }
    }
    return ctx.index.blobs.totals();
  });
  let taggedBytes = 0;
  for (const b of blobs.values()) {
    taggedBytes += b.size;
    const image = images[b.image];
    if (image) image.usage.uniqueBytes += b.size;
    const repo = repos[b.repo];
    if (repo) repo.uniqueBytes += b.size;
  }
  for (const { usage, repo } of images) {
    usage.sharedBytes = usage.bytes - usage.uniqueBytes;
    repos[repo]?.images.push(usage);
  }
  for (const repo of repos) repo.sharedBytes = repo.bytes - repo.uniqueBytes;
  repos.sort(byCodeUnits((r) => r.name));
  return { totalBytes: totals.bytes, blobCount: totals.count, taggedBytes, untaggedBytes: totals.bytes - taggedBytes, repositories: repos };
}
