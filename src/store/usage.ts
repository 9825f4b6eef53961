import type { Digest } from '../core/index.js';
import type { StoreContext } from './store-context.js';

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

interface Tally {
  blobs: Set<Digest>;
  bytes: number;
}

function addTo(map: Map<Digest, Set<string>>, digest: Digest, value: string): void {
  const set = map.get(digest);
  if (set) set.add(value);
  else map.set(digest, new Set([value]));
}

/**
 * The honest answer to "why did deleting an image not free space": for every image
 * and repository, total, unique and shared bytes, where shared means another image
 * (or repository) reaches the same blob. Referrers count with their subject's image.
 */
export function storeUsage(ctx: StoreContext): UsageReport {
  const { rows, totals } = ctx.index.read(() => ({ rows: ctx.index.mark.reachByTag(), totals: ctx.index.blobs.totals() }));
  const sizes = new Map<Digest, number>();
  const images = new Map<string, { repository: string; tag: string; root: Digest; tally: Tally }>();
  const imagesOf = new Map<Digest, Set<string>>();
  const reposOf = new Map<Digest, Set<string>>();
  for (const r of rows) {
    const key = `${r.repository}:${r.tag}`;
    let image = images.get(key);
    if (!image) images.set(key, (image = { repository: r.repository, tag: r.tag, root: r.root, tally: { blobs: new Set(), bytes: 0 } }));
    image.tally.blobs.add(r.digest);
    image.tally.bytes += r.size;
    sizes.set(r.digest, r.size);
    addTo(imagesOf, r.digest, key);
    addTo(reposOf, r.digest, r.repository);
  }
  const sum = (digests: Iterable<Digest>, keep: (d: Digest) => boolean) => {
    let n = 0;
    for (const d of digests) if (keep(d)) n += sizes.get(d) ?? 0;
    return n;
  };
  const repositories = new Map<string, RepositoryUsage & { digests: Set<Digest> }>();
  for (const [key, image] of images) {
    const unique = sum(image.tally.blobs, (d) => imagesOf.get(d)?.size === 1 && imagesOf.get(d)?.has(key) === true);
    let repo = repositories.get(image.repository);
    if (!repo) {
      repo = { name: image.repository, blobs: 0, bytes: 0, uniqueBytes: 0, sharedBytes: 0, images: [], digests: new Set() };
      repositories.set(image.repository, repo);
    }
    repo.images.push({
      repository: image.repository,
      tag: image.tag,
      digest: image.root,
      blobs: image.tally.blobs.size,
      bytes: image.tally.bytes,
      uniqueBytes: unique,
      sharedBytes: image.tally.bytes - unique,
    });
    for (const d of image.tally.blobs) repo.digests.add(d);
  }
  const out: RepositoryUsage[] = [];
  for (const repo of repositories.values()) {
    const bytes = sum(repo.digests, () => true);
    const unique = sum(repo.digests, (d) => reposOf.get(d)?.size === 1);
    out.push({ name: repo.name, blobs: repo.digests.size, bytes, uniqueBytes: unique, sharedBytes: bytes - unique, images: repo.images });
  }
  out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const taggedBytes = sum(sizes.keys(), () => true);
  return { totalBytes: totals.bytes, blobCount: totals.count, taggedBytes, untaggedBytes: totals.bytes - taggedBytes, repositories: out };
}
