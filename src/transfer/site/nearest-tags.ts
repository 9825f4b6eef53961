import { ErrorCode, NotFoundError, type Reference } from '../../core/index.js';
import type { RegistryClient } from '../../registry/client/index.js';

// A typo in a tag or repository (issue 13.10): the registry's bare
// `404 MANIFEST_UNKNOWN` becomes a line naming the reference and what is there
// instead — the repository's nearest tags, or that the repository does not
// exist (and the nearest repository names, when the registry lists them). The
// registry's own answer stays in the error's details.

/** How many tags, and repositories, a listing reads at most before it picks (a repository of 100,000 CI tags). */
const MAX_LISTED = 10_000;
const SHOWN = 3;
/** cosign's tags (`sha256-<hex>.sig`, `.att`, the referrers tag schema): never what someone meant to type. */
const ATTACHED = /^sha256-[0-9a-f]{64}/;

/** Levenshtein distance, two rows (tags are ≤ 128 characters). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** Made on first use: the first collator of a process loads ICU's collation data (~13 ms), and every command that may explain a typo loads this module. */
let natural: Intl.Collator | undefined;

/** The `count` names nearest to `wanted`: fewest edits, then the longest common prefix, then the newest version first. */
export function nearest(wanted: string, names: readonly string[], count = SHOWN): string[] {
  return names
    .map((name) => ({ name, edits: editDistance(wanted, name), prefix: commonPrefix(wanted, name) }))
    .sort((x, y) => x.edits - y.edits || y.prefix - x.prefix || (natural ??= new Intl.Collator('en', { numeric: true })).compare(y.name, x.name))
    .slice(0, count)
    .map((x) => x.name);
}

async function collect(items: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const item of items) {
    out.push(item);
    if (out.length >= MAX_LISTED) break;
  }
  return out;
}

/** Repositories near `repository` on the registry, or none when it will not list them. */
async function nearRepositories(client: RegistryClient, repository: string, signal?: AbortSignal): Promise<string[]> {
  try {
    const names = await collect(client.catalog(signal ? { signal } : {}));
    // Only close ones: a catalog of unrelated names is no hint.
    return nearest(repository, names).filter((n) => editDistance(repository, n) <= Math.max(2, Math.floor(repository.length / 4)));
  } catch {
    return [];
  }
}

function isMissing(err: unknown): err is NotFoundError {
  return err instanceof NotFoundError && (err.code === ErrorCode.manifestUnknown || err.code === ErrorCode.nameUnknown || err.code === ErrorCode.notFound);
}

/**
 * `err` reworded when it says `ref` is not on the registry: which repository or
 * tag is missing and what the registry has instead. Any other error is returned
 * as it is; so is this one when the listing itself fails.
 */
export async function explainNotFound(client: RegistryClient, ref: Reference, err: unknown, signal?: AbortSignal): Promise<unknown> {
  if (!isMissing(err)) return err;
  const registry = client.registry;
  const details = { request: err.message, registry, repository: ref.repository, tag: ref.tag, digest: ref.digest };
  let tags: string[];
  try {
    tags = (await collect(client.repository(ref.repository).tags(signal ? { signal } : {}))).filter((t) => !ATTACHED.test(t));
  } catch {
    return err;
  }
  const wanted = ref.digest ? `${ref.repository}@${ref.digest}` : `${ref.repository}:${ref.tag ?? 'latest'}`;
  if (tags.length === 0 || err.code === ErrorCode.nameUnknown) {
    const near = await nearRepositories(client, ref.repository, signal);
    // Listed by name but no tags (every tag deleted, a `ferry rm` just before): it exists, empty.
    if (near.includes(ref.repository)) {
      return new NotFoundError(`${wanted} not found on ${registry}; the repository has no tags`, { code: err.code, cause: err, details });
    }
    const guess = near.length > 0 ? `; did you mean ${near.join(', ')}?` : '';
    return new NotFoundError(`repository ${ref.repository} does not exist on ${registry}${guess}`, {
      code: ErrorCode.nameUnknown,
      hint: `ferry ls ${registry} lists its repositories`,
      cause: err,
      details,
    });
  }
  if (ref.digest) {
    return new NotFoundError(`${wanted} not found on ${registry}; the repository exists (${tags.length} tags: ferry ls ${registry}/${ref.repository})`, { code: err.code, cause: err, details });
  }
  const shown = nearest(ref.tag ?? 'latest', tags);
  const more = tags.length - shown.length;
  const rest = more > 0 ? ` and ${more} more (ferry ls ${registry}/${ref.repository})` : '';
  return new NotFoundError(`${wanted} not found on ${registry}; the repository has ${shown.join(', ')}${rest}`, { code: ErrorCode.manifestUnknown, cause: err, details });
}
