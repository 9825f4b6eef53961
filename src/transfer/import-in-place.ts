import type { Repository } from '../core/content.js';
import { NotFoundError } from '../core/errors.js';
import type { ManifestDb } from '../bundle/index.js';
import { repositoryKey, type ImportPlan, type PlannedImage, type PlannedReferrer } from './import-plan.js';
import { METADATA_LANES } from './import-lanes.js';
import { inLanes } from './lanes.js';

// A rerun of an import (a mirroring job, a stick imported twice) finds most
// images already there. An image whose every tag already names its root on the
// target — or, untagged, whose root the target holds — is in place: its blobs
// are not asked about one by one, nothing of it is pushed, no tag is moved. The
// registry accepted that manifest only with everything under it present (what
// skopeo sync's "already present at destination" and crane rely on too). Its
// referrers still land: a signature made since is new. A delta bundle is taken
// at its word: it carries what the target lacked when its inventory was taken,
// so an image it carries bytes of lands in full. One request per tag
// instead of a HEAD per (blob, repository) and a PUT per tag: at 1,000 images,
// ~1,000 requests instead of ~6,000. An image whose root the repository holds
// but not under every tag (a tag moved since, a new tag for the same image) has
// everything under it there too: only its tags are put, one more HEAD (of the
// root) instead of one per blob. The referrers of such an image are asked about
// the same way: one already there (an OCI referrer by digest, a cosign one under
// its tag) is left as it is, its blobs not asked about, its manifest not put
// again: one request instead of a HEAD per blob and a PUT.

/** Where the target stands on the images of `plan`. Any doubt (an error, a repository not there) means neither. */
export interface TargetStanding {
  /** Every tag already names the root (untagged: the root is there): nothing of the image is sent. */
  inPlace: Set<PlannedImage>;
  /** The root is there, but not under every tag: only its tags are put, nothing under it is asked about. */
  rootHeld: Set<PlannedImage>;
  /** Referrers of those images already there (by digest; a cosign one under its tag): nothing of them is sent. */
  referrersHeld: Set<PlannedReferrer>;
}

/** Which images of `plan` the target already holds, whole. */
export async function imagesInPlace(
  plan: ImportPlan,
  repository: (key: string) => Repository,
  absent: ReadonlySet<string>,
  /** Images to land in full whatever the target says (foreign layers to localize, bytes a delta says it lacks). */
  landInFull: (image: PlannedImage) => boolean,
  signal?: AbortSignal,
): Promise<TargetStanding> {
  const standing: TargetStanding = { inPlace: new Set(), rootHeld: new Set(), referrersHeld: new Set() };
  const candidates = plan.images.filter((image) => !absent.has(repositoryKey(image.target)) && !landInFull(image));
  await inLanes(candidates, METADATA_LANES, async (image) => {
    const repo = repository(repositoryKey(image.target));
    const opts = signal ? { signal } : {};
    // A tag not there is an answer (the image is not in place), not a doubt.
    const named = (tag: string): Promise<string | undefined> =>
      repo.resolve(tag, opts).then(
        (d) => d.digest,
        (err: unknown) => {
          if (err instanceof NotFoundError && !signal?.aborted) return undefined;
          throw err;
        },
      );
    try {
      if (image.tags.length > 0 && (await Promise.all(image.tags.map(named))).every((d) => d === image.root.digest)) standing.inPlace.add(image);
      else if (await repo.exists(image.root, opts)) (image.tags.length === 0 ? standing.inPlace : standing.rootHeld).add(image);
      else return;
      // Its referrers, asked about only now that the image is there: an image that lands in full takes them along.
      const held = await Promise.all(image.referrers.map((r) => (r.tag !== undefined ? named(r.tag).then((d) => d === r.descriptor.digest) : repo.exists(r.descriptor, opts))));
      image.referrers.forEach((r, i) => held[i] && standing.referrersHeld.add(r));
    } catch (err) {
      if (signal?.aborted) throw err;
    }
  });
  return standing;
}

/** Which target repositories need each blob once the images and referrers the target holds are left out (its other referrers still land). */
export function needsWithout(plan: ImportPlan, held: TargetStanding, db: Pick<ManifestDb, 'blobsOf'>): Map<string, string[]> {
  if (held.inPlace.size + held.rootHeld.size + held.referrersHeld.size === 0) return plan.needs;
  const needs = new Map<string, Set<string>>();
  const need = (digest: string, key: string): void => {
    const keys = needs.get(digest);
    if (keys) keys.add(key);
    else needs.set(digest, new Set([key]));
  };
  for (const image of plan.images) {
    const key = repositoryKey(image.target);
    if (!held.inPlace.has(image) && !held.rootHeld.has(image)) for (const blob of db.blobsOf(image.root.digest)) need(blob.descriptor.digest, key);
    for (const referrer of image.referrers) if (!held.referrersHeld.has(referrer)) for (const blob of db.blobsOf(referrer.descriptor.digest)) need(blob.descriptor.digest, key);
  }
  return new Map([...needs].map(([digest, keys]) => [digest, [...keys]]));
}
