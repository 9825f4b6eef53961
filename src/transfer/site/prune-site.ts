import { FerryError, type Digest } from '../../core/index.js';
import type { RegistryClient } from '../../registry/client/index.js';
import { deleteOrphans, planRepository, type Orphan } from './prune-repository.js';
import type { PushedByFerry } from './prune-sources.js';
import { repositoryRef } from './site-target.js';

// `ferry prune REGISTRY[/REPO] --untagged`: distribution has no API that lists
// untagged manifests, so prune works from what ferry knows it pushed (receipts,
// a bundle) and deletes, per repository, exactly those manifests no tag, index
// or referrer subject reaches any more. Blob space comes back only with the
// registry's own garbage collection; the report says so.

export interface PruneSiteOptions {
  readonly client: RegistryClient;
  readonly pushed: PushedByFerry;
  /** Manifests of a bundle (`--bundle B`): candidates in every repository pruned. */
  readonly bundleManifests?: readonly Digest[];
  readonly dryRun?: boolean;
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
}

export interface PrunedManifest extends Orphan {
  /** `host/repo@digest`. */
  reference: string;
  deleted: boolean;
  error?: { code: string; message: string };
}

export interface PrunedRepository {
  repository: string;
  tags: number;
  /** Manifests ferry pushed that are still in the registry. */
  present: number;
  manifests: PrunedManifest[];
  keptWhole?: string;
  error?: { code: string; message: string };
}

export interface PruneSiteReport {
  registry: string;
  dryRun: boolean;
  repositories: PrunedRepository[];
  deleted: number;
  /** Deletes or repositories that failed (each also in its row). */
  failed: number;
}

export interface PruneSiteResult {
  report: PruneSiteReport;
  /** The failures, as thrown (the CLI rethrows the first when nothing was done). */
  errors: FerryError[];
}

function roots(pushed: PushedByFerry, repository: string, bundle: readonly Digest[]): Map<Digest, string> {
  const out = new Map<Digest, string>();
  for (const d of bundle) out.set(d, 'from the bundle');
  for (const r of pushed.receipts(repository)) out.set(r.digest, r.tag ? `imported as :${r.tag}` : 'imported');
  return out;
}

const failure = (e: FerryError) => ({ code: e.code, message: e.message });

export async function pruneSite(opts: PruneSiteOptions): Promise<PruneSiteResult> {
  const { client, pushed, signal } = opts;
  const report: PruneSiteReport = { registry: client.registry, dryRun: Boolean(opts.dryRun), repositories: [], deleted: 0, failed: 0 };
  const errors: FerryError[] = [];
  for (const repository of opts.pushed.repositories) {
    const repo = client.repository(repository);
    const name = repositoryRef(client.registry, repository);
    const row: PrunedRepository = { repository, tags: 0, present: 0, manifests: [] };
    report.repositories.push(row);
    try {
      const plan = await planRepository({ repo, roots: roots(pushed, repository, opts.bundleManifests ?? []), known: pushed.known(repository), concurrency: opts.concurrency ?? 8, ...(signal ? { signal } : {}) });
      Object.assign(row, { tags: plan.tags, present: plan.present }, plan.keptWhole ? { keptWhole: plan.keptWhole } : {});
      row.manifests = plan.orphans.map((o) => ({ ...o, reference: `${name}@${o.digest}`, deleted: false }));
      if (opts.dryRun || plan.orphans.length === 0) continue;
      const results = await deleteOrphans(repo, plan.orphans, signal);
      results.forEach((r, i) => {
        const m = row.manifests[i];
        if (!m) return;
        m.deleted = r.deleted;
        if (!r.error) return;
        m.error = failure(r.error);
        errors.push(r.error);
      });
    } catch (e) {
      if (!(e instanceof FerryError) || signal?.aborted) throw e;
      row.error = failure(e);
      errors.push(e);
    }
  }
  report.deleted = report.repositories.reduce((n, r) => n + r.manifests.filter((m) => m.deleted).length, 0);
  report.failed = errors.length;
  return { report, errors };
}
