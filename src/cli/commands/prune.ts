import type { Argv } from 'yargs';
import { UsageError, isFerryError } from '../../core/errors.js';
import type { Store } from '../../store/index.js';
import { bundleManifests, pushedByFerry } from '../../transfer/site/prune-sources.js';
import { pruneSite, type PruneSiteReport, type PrunedRepository } from '../../transfer/site/prune-site.js';
import { parseSiteTarget, repositoryRef } from '../../transfer/site/site-target.js';
import { defineCommand, type GlobalArgs } from '../command.js';
import { openStoreFromArgs } from '../open-store.js';
import { registryPool, withRegistryFlags, type RegistryArgs } from '../registry-flags.js';
import { GC_NOTE } from './rm.js';

// `ferry prune REGISTRY[/REPO] --untagged`: delete the manifests ferry imported
// that no tag, index or referrer subject reaches any more (after a retag moved a
// tag), found from the store's import receipts (and --bundle). --dry-run first.

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

export const pruneCommand = defineCommand<PruneArgs>({
  command: 'prune <target>',
  describe: 'delete manifests ferry imported into a registry that no tag reaches any more (--untagged; --dry-run first)',
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
      .option('bundle', { type: 'string', describe: 'also count the manifests of this bundle as ferry\'s (in the repositories the receipts or REPO name)' })
      .option('key', { type: 'string', describe: 'with --bundle: its public key (NAME.pub)' }) as unknown as Argv<PruneArgs>,
  async run(args, ctx) {
    if (!args.untagged) throw new UsageError('say what to prune: ferry prune REGISTRY[/REPO] --untagged (add --dry-run to see it first)');
    const target = parseSiteTarget(args.target);
    if (target.kind === 'manifest') throw new UsageError(`ferry prune takes REGISTRY or REGISTRY/REPO, not one image: ${args.target}`, { hint: 'to delete one image: ferry rm REF' });
    const repository = target.kind === 'repository' ? target.repository : undefined;
    const store: Store | undefined = await openStoreFromArgs(args, { readOnly: true }).catch((e: unknown) => {
      // The receipts are the usual source; a bundle and a repository can stand in.
      if (isFerryError(e) && args.bundle && repository) return undefined;
      throw e;
    });
    const pool = registryPool(args, ctx.signal);
    try {
      const extra = args.bundle ? await bundleManifests(args.bundle, args.key) : [];
      const pushed = pushedByFerry(store, target.registry, repository, extra);
      if (pushed.repositories.length === 0) {
        ctx.out.warn(`no import into ${target.registry}${repository ? `/${repository}` : ''} is recorded in this store: nothing ferry pushed is known there (receipts live in the store of the machine that imported: --store DIR)`);
      }
      const { report, errors } = await pruneSite({ client: pool.client(target.registry), pushed, bundleManifests: extra, dryRun: args['dry-run'], concurrency: args.concurrency, signal: ctx.signal });
      if (errors.length > 0 && report.deleted === 0 && errors[0]) throw errors[0];
      // A repository that could not be read fails whole; otherwise each manifest on its own.
      const failures = report.repositories.flatMap((r) =>
        r.error ? [{ subject: `${target.registry}/${r.repository}`, error: r.error }] : r.manifests.flatMap((m) => (m.error ? [{ subject: m.reference, error: m.error }] : [])),
      );
      return ctx.out.outcome(report, () => reportText(report), failures, { total: report.deleted + failures.length, noun: 'manifests' });
    } finally {
      await store?.close();
      await pool.closeAll();
    }
  },
});
