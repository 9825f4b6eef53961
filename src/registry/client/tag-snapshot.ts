import type { Clock } from '../../core/clock.js';
import { listTags } from './tags.js';
import type { RepoContext } from './repo-context.js';

// The tags of a repository, listed once and shared by the referrer look-ups of
// one client: on a registry without the referrers API, every manifest's
// tag-schema index (`sha256-<hex>`) and cosign tags (`.sig`, `.att`, `.sbom`) are
// four requests per subject, nearly all 404s; one tags/list per repository says
// which of them exist (issue 16). A tag pushed through this client is added; one
// removed is merely asked for and found missing. The list is a snapshot: it is
// taken again after SNAPSHOT_TTL_MS, and a repository with more than MAX_TAGS
// tags (or a listing the registry refuses) is not snapshotted at all — the
// look-ups ask for each tag as before.

const SNAPSHOT_TTL_MS = 60_000;
const MAX_TAGS = 10_000;

interface Snapshot {
  takenAt: number;
  tags: Promise<Set<string> | undefined>;
}

/** Per client: repository name → its tag snapshot. */
export class TagSnapshots {
  private readonly byRepository = new Map<string, Snapshot>();

  /** The client's clock (RegistryClientOptions.clock), as its bearer tokens use. */
  private readonly clock: Clock;
  constructor(clock: Clock) {
    this.clock = clock;
  }

  /** The repository's tags as listed (at most SNAPSHOT_TTL_MS ago), or undefined when it cannot say. */
  tags(ctx: RepoContext, signal?: AbortSignal): Promise<Set<string> | undefined> {
    const known = this.byRepository.get(ctx.name);
    if (known && this.clock() - known.takenAt < SNAPSHOT_TTL_MS) return known.tags;
    const snapshot: Snapshot = { takenAt: this.clock(), tags: take(ctx, signal) };
    this.byRepository.set(ctx.name, snapshot);
    // A failed or aborted listing is not kept: the next look-up asks again.
    void snapshot.tags.then((t) => {
      if (!t && this.byRepository.get(ctx.name) === snapshot) this.byRepository.delete(ctx.name);
    });
    return snapshot.tags;
  }

  /** A tag this client pushed: present from now on in the repository's snapshot. */
  added(repository: string, tag: string): void {
    void this.byRepository.get(repository)?.tags.then((t) => t?.add(tag));
  }
}

async function take(ctx: RepoContext, signal?: AbortSignal): Promise<Set<string> | undefined> {
  const tags = new Set<string>();
  try {
    // Strict: a 404 (no tags yet, or no listing offered) says nothing of what a HEAD would find.
    for await (const tag of listTags(ctx, { strict: true, ...(signal ? { signal } : {}) })) {
      tags.add(tag);
      if (tags.size > MAX_TAGS) return undefined;
    }
    return tags;
  } catch {
    return undefined; // no listing (refused, not offered): each tag is asked for
  }
}
