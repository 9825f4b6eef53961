import type { Argv } from 'yargs';
import { UsageError, isFerryError } from '../../core/errors.js';
import { formatBytes } from '../../core/format-bytes.js';
import type { ServeGcManifest, ServeGcReport } from '../../registry/api/index.js';
import type { RegistryClient } from '../../registry/client/index.js';
import type { Store } from '../../store/index.js';
import { bundleManifests, pushedByFerry } from '../../transfer/site/prune-sources.js';
import { isFerryServe, pruneServe } from '../../transfer/site/prune-serve.js';
import { pruneSite, type PruneSiteReport, type PrunedRepository } from '../../transfer/site/prune-site.js';
import { parseSiteTarget, repositoryRef } from '../../transfer/site/site-target.js';
import { defineCommand, type CommandContext, type GlobalArgs } from '../command.js';
import { openStoreFromArgs } from '../open-store.js';
import { registryPool, withRegistryFlags, type RegistryArgs } from '../registry-flags.js';
import { GC_NOTE } from './rm.js';

// `ferry prune REGISTRY[/REPO] --untagged`: delete the manifests ferry imported
// that no tag, index or referrer subject reaches any more (after a retag moved a
// tag), found from the store's import receipts (and --bundle). --dry-run first.
// Against ferry serve (X-Ferry-Serve on /v2/) it asks the server's own GC instead.

interface PruneArgs extends RegistryArgs, GlobalArgs {
  target: string;
  untagged: boolean;
  'dry-run': boolean;
  bundle?: string;
  key?: string;
}

function repositoryText(registry: string, r: PrunedRepository, dryRun: boolean): string[] {
  const name = repositoryRef(registry, r.repository);
  if (r.error) return [`${name}: not pruned: ${r.error.message}`];
  if (r.keptWhole) return [`${name}: kept whole: ${r.keptWhole}`];
  const lines = [`${name}: ${r.tags} tags; ${r.manifests.length === 0 ? 'every manifest ferry pushed here is still reached' : `${r.manifests.length} manifests ferry pushed are reached by no tag, index or referrer subject`}`];
  for (const m of r.manifests) {
    const verb = dryRun ? 'would delete' : m.error ? 'FAILED' : m.deleted ? 'deleted' : 'already gone:';
    lines.push(`  ${verb} ${m.reference} ${m.mediaType} (${m.origin})${m.error ? `: ${m.error.message}` : ''}`);
  }
  return lines;
}

function reportText(report: PruneSiteReport): string {
  const orphans = report.repositories.reduce((n, r) => n + r.manifests.length, 0);
  const summary = report.dryRun
    ? `dry run: ${orphans} manifests would be deleted; nothing was`
    : `deleted ${report.deleted} manifests${report.failed > 0 ? `, ${report.failed} failed` : ''}; ${GC_NOTE}`;
  return [...report.repositories.flatMap((r) => repositoryText(report.registry, r, report.dryRun)), '', summary].join('\n');
}

function serveLines(registry: string, verb: string, manifests: readonly ServeGcManifest[]): string[] {
  return manifests.map((m) => `  ${verb} ${m.repository === '' ? m.digest : repositoryRef(registry, m.repository) + '@' + m.digest}${m.mediaType ? ` ${m.mediaType}` : ''}`);
}

function serveText(registry: string, r: ServeGcReport): string {
  const scope = r.repository === undefined ? `every repository of ${registry}` : repositoryRef(registry, r.repository);
  const lines = [
    `ferry serve collects its own garbage: asked it to ${r.dryRun ? 'list what it would collect (dry run) in' : 'prune untagged manifests and sweep unreachable blobs in'} ${scope}`,
    ...serveLines(registry, r.dryRun ? 'would delete' : 'deleted', r.manifests),
  ];
  if (r.retained.manifests.length > 0) {
    lines.push(`untagged but kept for now (younger than ${Math.round(r.graceSeconds / 60)} minutes, or in use by a push): run ferry prune again later`);
    lines.push(...serveLines(registry, 'kept', r.retained.manifests));
  }
  const blobs = `${r.blobs.count} blobs (${formatBytes(r.blobs.bytes)})`;
  lines.push(
    '',
    r.dryRun
      ? `dry run: ${r.manifests.length} manifests and ${blobs} would go; nothing was`
      : `deleted ${r.manifests.length} manifests; removed ${blobs} from disk: the space is free now`,
  );
  return lines.join('\n');
}

/** A distribution-like registry: delete, one by one, the manifests ferry's receipts say it pushed and nothing reaches. */
async function pruneByReceipts(args: PruneArgs, ctx: CommandContext, client: RegistryClient, repository: string | undefined): Promise<number | void> {
  const store: Store | undefined = await openStoreFromArgs(args, { readOnly: true }).catch((e: unknown) => {
    // The receipts are the usual source; a bundle and a repository can stand in.
    if (isFerryError(e) && args.bundle && repository) return undefined;
    throw e;
  });
  try {
    const registry = client.registry;
    const extra = args.bundle ? await bundleManifests(args.bundle, args.key) : [];
    const pushed = pushedByFerry(store, registry, repository, extra);
    if (pushed.repositories.length === 0) {
      ctx.out.warn(`no import into ${registry}${repository ? `/${repository}` : ''} is recorded in this store: nothing ferry pushed is known there (receipts live in the store of the machine that imported: --store DIR)`);
    }
    const { report, errors } = await pruneSite({ client, pushed, bundleManifests: extra, dryRun: args['dry-run'], concurrency: args.concurrency, signal: ctx.signal });
    if (errors.length > 0 && report.deleted === 0 && errors[0]) throw errors[0];
    // A repository that could not be read fails whole; otherwise each manifest on its own.
    const failures = report.repositories.flatMap((r) =>
      r.error ? [{ subject: `${registry}/${r.repository}`, error: r.error }] : r.manifests.flatMap((m) => (m.error ? [{ subject: m.reference, error: m.error }] : [])),
    );
    return ctx.out.outcome(report, () => reportText(report), failures, { total: report.deleted + failures.length, noun: 'manifests' });
  } finally {
    await store?.close();
  }
}

export const pruneCommand = defineCommand<PruneArgs>({
  command: 'prune <target>',
  describe: 'delete manifests ferry imported into a registry that no tag reaches any more (--untagged; --dry-run first); on ferry serve, run its own GC',
  examples: [
    ['ferry prune registry.site.example:5000 --untagged --dry-run', 'what ferry imported that no tag reaches'],
    ['ferry prune registry.site.example:5000/library/nginx --untagged', 'delete it, in one repository'],
  ],
  docs: 'docs/site-registry.md',
  builder: (y) =>
    withRegistryFlags(y)
      .positional('target', { type: 'string', demandOption: true, describe: 'REGISTRY or REGISTRY/REPO' })
      .option('untagged', { type: 'boolean', default: false, describe: 'delete manifests ferry pushed that no tag, index or referrer subject reaches (required)' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'list what would be deleted; delete nothing' })
      .option('bundle', { type: 'string', describe: 'also count the manifests of this bundle as ferry\'s (in the repositories the receipts or REPO name; not needed on ferry serve)' })
      .option('key', { type: 'string', describe: 'with --bundle: its public key (NAME.pub)' }) as unknown as Argv<PruneArgs>,
  async run(args, ctx) {
    if (!args.untagged) throw new UsageError('say what to prune: ferry prune REGISTRY[/REPO] --untagged (add --dry-run to see it first)');
    const target = parseSiteTarget(args.target);
    if (target.kind === 'manifest') throw new UsageError(`ferry prune takes REGISTRY or REGISTRY/REPO, not one image: ${args.target}`, { hint: 'to delete one image: ferry rm REF' });
    const repository = target.kind === 'repository' ? target.repository : undefined;
    const pool = registryPool(args, ctx.signal);
    try {
      const client = pool.client(target.registry);
      if (await isFerryServe(client, ctx.signal)) {
        if (args.bundle) ctx.out.warn('ferry serve finds its untagged manifests itself: --bundle is not needed there');
        const report = await pruneServe(client, { ...(repository === undefined ? {} : { repository }), dryRun: args['dry-run'], signal: ctx.signal });
        return ctx.out.result(report, () => serveText(target.registry, report));
      }
      return await pruneByReceipts(args, ctx, client, repository);
    } finally {
      await pool.closeAll();
    }
  },
});
