import { text } from 'node:stream/consumers';
import { AuthError, ErrorCode, NetworkError } from '../../core/index.js';
import { ALL_REPOSITORIES, BASE_PATH, FERRY_SERVE_HEADER, ferryGcPath, type ServeGcReport } from '../../registry/api/index.js';
import { discard, headerOf, registryErrorDetails, repositoryScope, type RegistryClient } from '../../registry/client/index.js';

// `ferry prune` against ferry serve: the registry is a ferry store, which finds
// its untagged manifests itself (no receipts needed) and reclaims blob space at
// once. So prune asks it (POST /ferry/v1/gc) instead of deleting manifest by
// manifest and leaving the bytes to a registry GC nobody can run remotely.

/** Does `client`'s registry answer `X-Ferry-Serve` on its /v2/ ping? Asked without credentials. */
export async function isFerryServe(client: RegistryClient, signal?: AbortSignal): Promise<boolean> {
  const res = await client.send({ method: 'GET', url: BASE_PATH, scopes: [], ok: [200, 401, 403, 404], noAuth: true, signal });
  await discard(res);
  return headerOf(res.headers, FERRY_SERVE_HEADER) !== undefined;
}

export interface PruneServeOptions {
  /** One repository; the whole registry when absent (needs delete on every repository). */
  readonly repository?: string;
  readonly dryRun?: boolean;
  readonly signal?: AbortSignal;
}

/** A 403 from the GC endpoint, said in prune's terms: which role is missing where. */
function refused(registry: string, repository: string | undefined, e: unknown): unknown {
  const said = registryErrorDetails(e);
  if (said?.status !== 403) return e;
  const who = said.errors[0]?.message ?? 'access denied';
  const where = repository === undefined ? `every repository of ${registry} (a rule for '*')` : `${registry}/${repository}`;
  return new AuthError(`ferry serve refused to collect garbage (${who}): its GC needs the delete role on ${where}`, {
    code: ErrorCode.denied,
    hint: repository === undefined ? 'prune one repository you may delete in: ferry prune REGISTRY/REPO --untagged' : 'ask for the delete role in the server\'s users file, or log in as a user who has it',
  });
}

/** Asks ferry serve to prune its untagged manifests and sweep the blobs nothing reaches; its report. */
export async function pruneServe(client: RegistryClient, opts: PruneServeOptions = {}): Promise<ServeGcReport> {
  const res = await client
    .send({
      method: 'POST',
      url: ferryGcPath({ ...(opts.repository === undefined ? {} : { repository: opts.repository }), dryRun: opts.dryRun ?? false }),
      scopes: [repositoryScope(opts.repository ?? ALL_REPOSITORIES, 'delete')],
      ok: [200],
      signal: opts.signal,
    })
    .catch((e: unknown) => {
      throw refused(client.registry, opts.repository, e);
    });
  const body = await text(res.body);
  try {
    return JSON.parse(body) as ServeGcReport;
  } catch (err) {
    throw new NetworkError(`${client.registry} answered its GC request with something that is not a report`, { code: ErrorCode.registry, cause: err });
  }
}
