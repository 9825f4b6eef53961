import { METADATA_LANES } from './import-lanes.js';
import { splitRepositoryKey } from './import-plan.js';

// Before an import asks for each (blob, repository) pair whether the target has
// it (a HEAD each), one look at the registry's catalog names the target
// repositories it does not have at all: every blob of theirs is missing, known
// without asking. Into an empty registry that is 43 HEADs less for the bench's
// 12 images (a minimal pusher sends none). docker-registry lists a repository
// once it links a blob (its `_layers`), ferry serve once its store does: a
// repository an import killed midway left blobs in is listed, so a rerun still
// asks for each of them and sends only what is missing. A registry that will not
// list (no catalog permission, no such endpoint, an error) or lists more than
// the HEADs it could save is asked per blob, as before. Behind bearer tokens
// (ACR, Harbor) the listing asks a token for `registry:catalog:*` alone, which
// no repository's token carries after it; a token service that will not grant
// it is a registry that will not list.

/** Names per catalog page assumed when bounding a listing (distribution, ACR and Harbor page at 100). */
const PAGE = 100;

/**
 * The repository keys (`registry/name`) among `needs`' values that their
 * registry's catalog does not list. A listing runs at most one page per
 * METADATA_LANES pairs it could spare a HEAD for (the HEADs run that many at
 * once: one page costs about one round of them); one cut short proves nothing.
 */
export async function unlistedRepositories(
  needs: ReadonlyMap<string, readonly string[]>,
  catalog: (registry: string) => Promise<AsyncIterable<string> | undefined>,
  signal?: AbortSignal,
): Promise<Set<string>> {
  const pairs = new Map<string, number>();
  for (const keys of needs.values()) for (const key of keys) pairs.set(key, (pairs.get(key) ?? 0) + 1);
  const byRegistry = new Map<string, Map<string, number>>();
  for (const [key, count] of pairs) {
    const [registry] = splitRepositoryKey(key);
    const keys = byRegistry.get(registry) ?? new Map<string, number>();
    keys.set(key, count);
    byRegistry.set(registry, keys);
  }
  const unlisted = new Set<string>();
  await Promise.all(
    [...byRegistry].map(async ([registry, keys]) => {
      const heads = [...keys.values()].reduce((n, c) => n + c, 0);
      const names = await catalog(registry).catch((err: unknown) => {
        if (signal?.aborted) throw err;
        return undefined;
      });
      const listed = names && (await listNames(names, Math.max(1, Math.ceil(heads / METADATA_LANES)) * PAGE, signal));
      if (listed) for (const key of keys.keys()) if (!listed.has(splitRepositoryKey(key)[1])) unlisted.add(key);
    }),
  );
  return unlisted;
}

/** Every name of the listing, or undefined when it failed or ran past `cap` names. */
async function listNames(names: AsyncIterable<string>, cap: number, signal?: AbortSignal): Promise<Set<string> | undefined> {
  const seen = new Set<string>();
  try {
    for await (const name of names) {
      signal?.throwIfAborted();
      seen.add(name);
      if (seen.size > cap) return undefined;
    }
  } catch (err) {
    if (signal?.aborted) throw err;
    return undefined;
  }
  return seen;
}
