import pLimit from 'p-limit';
import { FerryError, NotFoundError, digestHex, isIndex, type Descriptor, type Digest } from '../../core/index.js';
import type { RemoteRepository } from '../../registry/client/index.js';
import { ManifestNodes, type ManifestNode } from './manifest-node.js';
import { reachableFrom } from './reachable.js';

// One repository of `ferry prune --untagged`: which manifests ferry pushed there
// are reached by no tag, no index and no referrer's subject any more. Starting
// from what ferry knows it pushed (import receipts, a bundle), an index's
// children join the candidates; a candidate nothing reaches is an orphan, and so
// are its referrers that ferry pushed, and the tag-schema index that listed them.

export interface Orphan {
  digest: Digest;
  mediaType: string;
  /** Why it is ferry's: `imported as :TAG`, `child of sha256:…`, `referrer of sha256:…`, `from the bundle`. */
  origin: string;
}

export interface RepositoryPlan {
  repository: string;
  tags: number;
  /** Manifests ferry pushed that are still there (reachable or not). */
  present: number;
  orphans: Orphan[];
  /** Set when the repository is kept whole, and why. */
  keptWhole?: string;
}

export interface PlanInput {
  readonly repo: RemoteRepository;
  /** Root digests ferry pushed here, each with where it came from. */
  readonly roots: ReadonlyMap<Digest, string>;
  /** Everything ferry is known to have pushed here (receipt blobs, bundle manifests). */
  readonly known: ReadonlySet<Digest>;
  readonly concurrency: number;
  readonly signal?: AbortSignal;
}

async function present(nodes: ManifestNodes, reference: string): Promise<ManifestNode | undefined> {
  try {
    return await nodes.get(reference);
  } catch (e) {
    if (e instanceof NotFoundError) return undefined;
    throw e;
  }
}

export async function planRepository(input: PlanInput): Promise<RepositoryPlan> {
  const { repo, signal } = input;
  const limit = pLimit(input.concurrency);
  const nodes = new ManifestNodes(repo, signal);
  const tags: string[] = [];
  for await (const tag of repo.tags(signal ? { signal } : {})) tags.push(tag);
  const reach = await reachableFrom(nodes, tags, limit);
  const plan: RepositoryPlan = { repository: repo.name, tags: tags.length, present: 0, orphans: [] };
  if (reach.unresolved.length > 0) {
    const first = reach.unresolved[0];
    plan.keptWhole = `tag ${first?.tag ?? ''} could not be resolved (${first?.error ?? ''})${reach.unresolved.length > 1 ? ` and ${reach.unresolved.length - 1} more` : ''}`;
    return plan;
  }
  // Candidates: the roots, then an index's children (ferry pushed those with it).
  const seen = new Map<Digest, { node: ManifestNode; origin: string }>();
  let frontier = [...input.roots];
  while (frontier.length > 0) {
    const found = await Promise.all(frontier.map(([digest, origin]) => limit(() => present(nodes, digest)).then((node) => ({ node, origin }))));
    frontier = [];
    for (const { node, origin } of found) {
      if (!node || seen.has(node.descriptor.digest)) continue;
      seen.set(node.descriptor.digest, { node, origin });
      for (const child of node.children) if (!seen.has(child)) frontier.push([child, `child of ${node.descriptor.digest}`]);
    }
  }
  plan.present = seen.size;
  const orphans = new Map<Digest, Orphan>();
  const add = (d: Descriptor, origin: string): void => void orphans.set(d.digest, { digest: d.digest, mediaType: d.mediaType, origin });
  for (const { node, origin } of seen.values()) if (!reach.reachable.has(node.descriptor.digest)) add(node.descriptor, origin);
  // The referrers of an orphan that ferry pushed go with it, and the tag-schema index that listed them.
  for (const orphan of [...orphans.values()]) {
    const subject = (await nodes.get(orphan.digest)).descriptor;
    const referrers: Descriptor[] = [];
    for await (const r of repo.referrers(subject, signal ? { signal } : {})) referrers.push(r);
    const theirs = referrers.filter((r) => input.known.has(r.digest) && !reach.reachable.has(r.digest));
    for (const r of theirs) add(r, `referrer of ${orphan.digest}`);
    const index = await present(nodes, `sha256-${digestHex(orphan.digest)}`);
    if (index && !reach.reachable.has(index.descriptor.digest) && index.children.every((c) => orphans.has(c))) add(index.descriptor, `referrers index of ${orphan.digest}`);
  }
  plan.orphans = order([...orphans.values()]);
  return plan;
}

/** Delete order: referrers and indexes before the manifests they point at, so nothing dangles mid-way. */
function order(orphans: Orphan[]): Orphan[] {
  const rank = (o: Orphan) => (o.origin.startsWith('referrer') ? 0 : isIndex(o.mediaType) ? 1 : 2);
  return orphans.sort((a, b) => rank(a) - rank(b));
}

export interface DeleteOutcome {
  digest: Digest;
  deleted: boolean;
  error?: FerryError;
}

/** Deletes the orphans, one by one (a 404 means it already went, e.g. with a deleted tag). */
export async function deleteOrphans(repo: RemoteRepository, orphans: readonly Orphan[], signal?: AbortSignal): Promise<DeleteOutcome[]> {
  const out: DeleteOutcome[] = [];
  for (const o of orphans) {
    try {
      await repo.delete({ digest: o.digest, mediaType: o.mediaType, size: 0 }, signal ? { signal } : {});
      out.push({ digest: o.digest, deleted: true });
    } catch (e) {
      if (e instanceof NotFoundError) out.push({ digest: o.digest, deleted: false });
      else if (e instanceof FerryError) out.push({ digest: o.digest, deleted: false, error: e });
      else throw e;
    }
  }
  return out;
}
