import type { Descriptor } from '../core/descriptor.js';
import { ErrorCode, UsageError } from '../core/errors.js';
import { formatReference, parseReference, type Reference } from '../core/reference.js';
import { upstreamRepositoryName } from '../core/upstream-repository.js';
import type { DbReferrer, ManifestDb } from '../bundle/index.js';
import { retarget, type Destination, type RetagRule } from './retag.js';
import { refuseTagCollisions } from './tag-collisions.js';

// Where each image of a bundle goes, and which target repositories need each
// blob — decided from the bundle's index.db before a single layer is read. A
// plan that would put two different images on one tag is refused here.

export interface PlannedImage {
  /** The name in the bundle (the source reference). */
  source: string;
  /** Where it lands: registry host ('' for the local store) + repository + tag. */
  target: Reference;
  root: Descriptor;
  tags: string[];
  /** Referrer manifests (signatures, SBOMs) that go along into the same repository. */
  referrers: PlannedReferrer[];
}

export interface PlannedReferrer {
  descriptor: Descriptor;
  subject: Descriptor['digest'];
  /** A cosign-style tag to re-apply (`sha256-<hex>.sig`). */
  tag?: string;
}

export interface ImportPlan {
  images: PlannedImage[];
  /** blob digest → target repository keys (`registry/repository`) that need it. */
  needs: Map<string, string[]>;
}

export type Destinations = { kind: 'registry'; destination?: Destination; rules: RetagRule[] } | { kind: 'store' };

export function repositoryKey(ref: Pick<Reference, 'registry' | 'repository'>): string {
  return `${ref.registry}/${ref.repository}`;
}

/** A repositoryKey taken apart again (a registry host holds no `/`; a repository name may). */
export function splitRepositoryKey(key: string): [registry: string, name: string] {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
}

function targetOf(source: Reference, destinations: Destinations): Reference {
  if (destinations.kind === 'store') {
    // The store keeps upstream names so `ferry serve` can act as a containerd mirror.
    return { ...source, registry: '', repository: upstreamRepositoryName(source.registry, source.repository) };
  }
  const target = retarget(source, destinations.destination, destinations.rules);
  if (!target) {
    throw new UsageError(`no destination for ${formatReference(source)}`, { code: ErrorCode.usage, hint: 'give --to REGISTRY[/PREFIX] or a --retag rule that matches it' });
  }
  return target;
}

export function planImport(db: ManifestDb, destinations: Destinations): ImportPlan {
  const images: PlannedImage[] = [];
  const needs = new Map<string, string[]>();
  // A set beside the lists: a base layer shared by 1,000 repositories was a scan of its list per image.
  const paired = new Set<string>();
  const need = (digest: string, key: string) => {
    const pair = `${digest}\0${key}`;
    if (paired.has(pair)) return;
    paired.add(pair);
    const list = needs.get(digest);
    if (list) list.push(key);
    else needs.set(digest, [key]);
  };
  // The referrers read once, by image: read per image (and a blob lookup per referrer of the whole
  // bundle) they cost N × referrers queries, 100,000 at 1,000 images, and the memory of their statements.
  const referrersOf = new Map<string, DbReferrer[]>();
  for (const r of db.referrers()) {
    const list = referrersOf.get(r.image);
    if (list) list.push(r);
    else referrersOf.set(r.image, [r]);
  }
  for (const image of db.images()) {
    const source = parseReference(image.name);
    const target = targetOf(source, destinations);
    const key = repositoryKey(target);
    const root: Descriptor = { mediaType: image.mediaType, digest: image.digest, size: image.size };
    const referrers = (referrersOf.get(image.name) ?? []).flatMap((r): PlannedReferrer[] => {
      const blob = db.blob(r.digest);
      if (!blob) return [];
      const descriptor = r.artifactType ? { ...blob.descriptor, artifactType: r.artifactType } : blob.descriptor;
      return [{ descriptor, subject: r.subject, ...(r.tag ? { tag: r.tag } : {}) }];
    });
    for (const blob of db.blobsOf(image.digest)) need(blob.descriptor.digest, key);
    for (const referrer of referrers) for (const blob of db.blobsOf(referrer.descriptor.digest)) need(blob.descriptor.digest, key);
    images.push({ source: image.name, target, root, tags: image.tag ? [image.tag] : [], referrers });
  }
  refuseTagCollisions(images);
  return { images, needs };
}
