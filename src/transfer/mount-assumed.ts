import type { LimitFunction } from 'p-limit';
import type { Repository } from '../core/content.js';
import type { Descriptor } from '../core/descriptor.js';
import { verifyBytes } from '../core/hashing.js';
import { MAX_MANIFEST_BYTES } from '../core/limits.js';
import { isManifest } from '../core/media-types.js';
import { readCapped } from '../core/read-capped.js';
import { splitRepositoryKey } from './import-plan.js';

// A delta bundle leaves out blobs the target registry already holds — in the
// repositories the earlier bundle went to, which need not be the ones this
// import names (a retag into a new namespace, a new application on the same
// base). Before a delta is refused, each blob a target repository lacks is
// looked for in the registry's other repositories (the import's own targets
// first, then its catalog) and mounted from where it is found: the registry
// links it, no byte crosses the gap (a manifest is fetched instead, for the
// graph pass to push). What is still missing after that is really missing.

/** How many catalog repositories are probed at most, per registry. */
export const MAX_PROBED_REPOSITORIES = 500;

export interface MountAssumedOptions {
  /** (blob digest → "registry/repository" keys that lack it). */
  missing: Map<string, string[]>;
  assumed: readonly Descriptor[];
  repository: (key: string) => Repository;
  /** Every repository name of `registry` (its catalog); may fail (no catalog permission). */
  catalog: (registry: string) => AsyncIterable<string>;
  limit: LimitFunction;
  signal?: AbortSignal;
}

export interface MountedAssumed {
  /** The pairs still missing (same shape as `missing`). */
  still: Map<string, string[]>;
  /** Blob mounts made. */
  mounted: number;
  /** Assumed manifests found elsewhere: their bytes, for the graph pass. */
  manifests: Map<string, Buffer>;
}

/** Mounts the blobs it finds and fetches the manifests it finds. */
export async function mountAssumed(options: MountAssumedOptions): Promise<MountedAssumed> {
  let mounted = 0;
  const manifests = new Map<string, Buffer>();
  const { repository, limit } = options;
  const byDigest = new Map(options.assumed.map((d) => [d.digest as string, d]));
  const still = new Map(options.missing);
  const registries = new Set([...still.values()].flat().map((key) => splitRepositoryKey(key)[0]));
  for (const registry of registries) {
    for await (const from of candidates(registry, options)) {
      options.signal?.throwIfAborted();
      const wanted = [...still.entries()].filter(([, keys]) => keys.some((k) => splitRepositoryKey(k)[0] === registry && k !== `${registry}/${from}`));
      if (wanted.length === 0) break;
      const source = repository(`${registry}/${from}`);
      await Promise.all(
        wanted.map(([digest, keys]) =>
          limit(async () => {
            const desc = byDigest.get(digest);
            if (!desc || !(await source.exists(desc).catch(() => false))) return;
            if (isManifest(desc.mediaType)) {
              // A manifest is not mounted: its bytes are fetched (≤ 4 MiB, verified) and the graph pass pushes them where needed, children first.
              const subject = `${registry}/${from}@${desc.digest}`;
              const bytes = await readCapped(await source.fetch(desc), MAX_MANIFEST_BYTES, subject);
              verifyBytes(bytes, desc, subject);
              manifests.set(digest, bytes);
              still.delete(digest);
              return;
            }
            const left: string[] = [];
            for (const key of keys) {
              const target = repository(key);
              const linked = splitRepositoryKey(key)[0] === registry && target.mount ? await target.mount(desc, from).catch(() => false) : false;
              if (linked) mounted += 1;
              else left.push(key);
            }
            if (left.length > 0) still.set(digest, left);
            else still.delete(digest);
          }),
        ),
      );
    }
  }
  return { still, mounted, manifests };
}

/** The import's own target repositories on `registry` first, then the catalog (bounded; nothing if it is refused). */
async function* candidates(registry: string, options: MountAssumedOptions): AsyncIterable<string> {
  const seen = new Set<string>();
  for (const key of [...options.missing.values()].flat()) {
    const [r, name] = splitRepositoryKey(key);
    if (r === registry && !seen.has(name)) {
      seen.add(name);
      yield name;
    }
  }
  try {
    for await (const name of options.catalog(registry)) {
      if (seen.size >= MAX_PROBED_REPOSITORIES) return;
      if (seen.has(name)) continue;
      seen.add(name);
      yield name;
    }
  } catch {
    // No catalog (permission, or not offered): the caller's error names what is missing.
  }
}
