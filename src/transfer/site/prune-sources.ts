import type { Digest } from '../../core/index.js';
import { openBundle, type BundleInput } from '../../bundle/index.js';
import type { ReceiptRecord, TransferRecords } from '../../store/index.js';

// What ferry knows it pushed into a registry, per repository: the roots each
// import tagged (the store's receipts), every blob and manifest those imports
// brought (receipt blobs), and optionally every manifest of a bundle. Prune
// deletes nothing outside this knowledge: the registry cannot list untagged
// manifests, and a manifest someone else pushed by digest is not ferry's.

export interface PushedByFerry {
  /** Repositories the receipts name (those ferry imported into). */
  readonly repositories: readonly string[];
  /** Roots imported into `repository`, newest last, with the tag each import set. */
  receipts(repository: string): readonly ReceiptRecord[];
  /** Digests ferry is known to have pushed into `repository` (roots, manifests, blobs, bundle manifests). */
  known(repository: string): ReadonlySet<Digest>;
}

export async function bundleManifests(bundle: BundleInput, key?: string): Promise<Digest[]> {
  const opened = await openBundle(bundle, key ? { key } : {});
  try {
    return opened.db.blobs().filter((b) => b.kind === 'manifest').map((b) => b.descriptor.digest);
  } finally {
    await opened.close();
  }
}

export function pushedByFerry(store: Pick<TransferRecords, 'receipts' | 'heldBlobs'> | undefined, registry: string, repository: string | undefined, extra: readonly Digest[] = []): PushedByFerry {
  const receipts = store?.receipts(registry, repository) ?? [];
  const repositories = [...new Set([...receipts.map((r) => r.repository), ...(repository ? [repository] : [])])];
  const cache = new Map<string, Set<Digest>>();
  return {
    repositories,
    receipts: (repo) => receipts.filter((r) => r.repository === repo),
    known: (repo) => {
      let set = cache.get(repo);
      if (!set) {
        set = new Set<Digest>([...receipts.filter((r) => r.repository === repo).map((r) => r.digest), ...(store?.heldBlobs(registry, repo) ?? []), ...extra]);
        cache.set(repo, set);
      }
      return set;
    },
  };
}
