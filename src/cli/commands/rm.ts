import type { Argv } from 'yargs';
import { FerryError, UsageError } from '../../core/errors.js';
import { removeManifest, type Removal } from '../../transfer/site/remove-manifest.js';
import { parseSiteTarget } from '../../transfer/site/site-target.js';
import { defineCommand, type GlobalArgs } from '../command.js';
import { registryPool, withRegistryFlags, type RegistryArgs } from '../registry-flags.js';

// `ferry rm REF…`: delete images from a registry by tag or digest. A registry
// deletes manifests, not tags: every tag on the digest goes with it, and the
// output says which (--dry-run stops there).

interface RmArgs extends RegistryArgs, GlobalArgs {
  refs: string[];
  'dry-run': boolean;
  'with-referrers': boolean;
}

export const GC_NOTE = 'blob space returns with the registry\'s own garbage collection (distribution: registry garbage-collect CONFIG; ferry serve: ferry prune REGISTRY --untagged asks its own GC; ACR and Harbor run theirs)';

function describe(r: Removal, dryRun: boolean, withReferrers: boolean): string {
  const head = `${dryRun ? 'would delete' : r.deleted ? 'deleted' : 'already gone:'} ${r.manifest}${r.reference.endsWith(r.digest) ? '' : ` (${r.reference})`}`;
  const lines = [head];
  lines.push(r.tags.length > 0 ? `  every tag on it ${dryRun ? 'goes' : 'went'} with it: ${r.tags.join(', ')}` : '  it had no tags');
  if (r.children > 0) lines.push(`  its ${r.children} child manifests stay, untagged (ferry prune --untagged deletes those ferry imported)`);
  if (r.referrers.length > 0) {
    const list = [...r.referrers.map((x) => `${x.reference}${x.artifactType ? ` (${x.artifactType})` : ''}`), ...(r.referrersIndex ? [r.referrersIndex] : [])].join(', ');
    if (r.referrersDeleted) lines.push(`  referrers deleted with it: ${list}`);
    else if (dryRun && withReferrers) lines.push(`  referrers that would go with it: ${list}`);
    else lines.push(`  referrers ${dryRun ? 'pointing at it' : 'left pointing at nothing'}: ${list} (--with-referrers deletes them)`);
  }
  return lines.join('\n');
}

export const rmCommand = defineCommand<RmArgs>({
  command: 'rm <refs..>',
  describe: 'delete images from a registry by tag or digest (every tag on that digest goes with it)',
  examples: [
    ['ferry rm registry.site.example:5000/library/nginx:1.24 --dry-run', 'what would go (every tag on that digest)'],
    ['ferry rm registry.site.example:5000/library/nginx:1.24 --with-referrers', 'delete it and its signatures and SBOMs'],
  ],
  docs: 'docs/site-registry.md',
  builder: (y) =>
    withRegistryFlags(y)
      .positional('refs', { type: 'string', array: true, demandOption: true, describe: 'HOST/REPO:TAG or HOST/REPO@sha256:…, as ferry ls prints them' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'say what would be deleted (and which tags go with it); delete nothing' })
      .option('with-referrers', { type: 'boolean', default: false, describe: 'also delete the referrers (signatures, SBOMs) of each deleted manifest' }) as unknown as Argv<RmArgs>,
  async run(args, ctx) {
    const refs = args.refs.map((text) => {
      const t = parseSiteTarget(text);
      if (t.kind !== 'manifest') throw new UsageError(`ferry rm ${text}: name a tag or a digest (HOST/REPO:TAG or HOST/REPO@sha256:…)`, { hint: `ferry ls ${text} lists what is there` });
      return t.ref;
    });
    const pool = registryPool(args, ctx.signal);
    const done: Removal[] = [];
    const errors: Array<{ subject: string; error: FerryError }> = [];
    try {
      for (const [i, ref] of refs.entries()) {
        try {
          done.push(await removeManifest(pool.client(ref.registry), ref, { dryRun: args['dry-run'], withReferrers: args['with-referrers'], concurrency: args.concurrency, signal: ctx.signal }));
        } catch (e) {
          if (!(e instanceof FerryError) || ctx.signal.aborted) throw e;
          errors.push({ subject: args.refs[i] ?? '', error: e });
        }
      }
    } finally {
      await pool.closeAll();
    }
    if (done.length === 0 && errors[0]) throw errors[0].error;
    return ctx.out.outcome(
      { dryRun: args['dry-run'], removed: done, failed: errors.map(({ subject, error }) => ({ subject, code: error.code, message: error.message })) },
      () => [...done.map((r) => describe(r, args['dry-run'], args['with-referrers'])), '', args['dry-run'] ? 'dry run: nothing was deleted' : GC_NOTE].join('\n'),
      errors,
      { total: refs.length, noun: 'manifests' },
    );
  },
});
