// ferry serve's own API beside the distribution one, shared by the server and
// the client: the header that tells a client it talks to ferry serve, and the
// garbage collection endpoint `ferry prune` calls there instead of deleting
// manifest by manifest (a plain registry has no such call).

/** Every answer of ferry serve carries `X-Ferry-Serve: v1`. */
export const FERRY_SERVE_HEADER = 'x-ferry-serve';
export const FERRY_SERVE_VERSION = 'v1';

/** `POST /ferry/v1/gc[?repository=NAME][&dry-run=1]`: prune untagged manifests, then sweep blobs. Needs the delete role. */
export const FERRY_GC_PATH = '/ferry/v1/gc';

/** The repository name a whole-registry GC is authorized on (`repository:*:delete`): only a `*` rule grants it. */
export const ALL_REPOSITORIES = '*';

export function ferryGcPath(options: { repository?: string; dryRun?: boolean } = {}): string {
  const query = new URLSearchParams();
  if (options.repository !== undefined) query.set('repository', options.repository);
  if (options.dryRun) query.set('dry-run', '1');
  const text = query.toString();
  return text === '' ? FERRY_GC_PATH : `${FERRY_GC_PATH}?${text}`;
}

/** One untagged manifest, in one repository, that went (or would go). */
export interface ServeGcManifest {
  repository: string;
  digest: string;
  mediaType?: string;
}

/** What `POST /ferry/v1/gc` answers. */
export interface ServeGcReport {
  dryRun: boolean;
  /** The repository collected; absent for the whole registry. */
  repository?: string;
  /** Untagged manifests unlinked (dry run: that would be), by repository@digest. */
  manifests: ServeGcManifest[];
  /** Blobs removed from disk (manifests' own bytes included), and their bytes. */
  blobs: { count: number; bytes: number };
  /** Unreachable but kept for now (inside the grace window, pinned, or in flight): the next GC takes them. */
  retained: { manifests: ServeGcManifest[]; blobs: number; bytes: number };
  /** How young content must be to be kept whatever tags say (a push may be about to tag it). */
  graceSeconds: number;
}
