import type { Argv } from 'yargs';
import { describeManifest, type ManifestListing } from '../../transfer/site/describe-manifest.js';
import { listRepositories } from '../../transfer/site/list-repositories.js';
import { listTags, type TagRow } from '../../transfer/site/list-tags.js';
import { parseSiteTarget, repositoryRef } from '../../transfer/site/site-target.js';
import { defineCommand, type GlobalArgs } from '../command.js';
import { formatBytes, formatTable } from '../output.js';
import { registryPool, withRegistryFlags, type RegistryArgs } from '../registry-flags.js';

// `ferry ls REGISTRY | REGISTRY/REPO | REGISTRY/REPO@sha256:…`: what a registry
// holds, one reference per line that `ferry ls` and `ferry rm` take back.

interface LsArgs extends RegistryArgs, GlobalArgs {
  target: string;
  long: boolean;
  'page-size'?: number;
}

function kindOf(row: { mediaType?: string; artifactType?: string }): string {
  return row.artifactType ?? row.mediaType ?? '';
}

function tagTable(rows: TagRow[]): string {
  return formatTable(
    ['REFERENCE', 'DIGEST', 'SIZE', 'PLATFORMS', 'TYPE'],
    rows.map((r) => [r.reference, r.digest ?? '', r.size === undefined ? '' : formatBytes(r.size), (r.platforms ?? []).join(',') || '-', kindOf(r)]),
  );
}

function manifestText(l: ManifestListing): string {
  const lines = [
    `${l.reference}`,
    `  type:      ${kindOf(l)}`,
    `  platforms: ${l.platforms.join(', ') || '-'}`,
    `  size:      ${formatBytes(l.size)} (every distinct blob, counted once)`,
  ];
  if (l.subject) lines.push(`  subject:   ${l.reference.slice(0, l.reference.indexOf('@'))}@${l.subject}`);
  if (l.children.length > 0) {
    lines.push('', formatTable(['CHILD', 'PLATFORM', 'SIZE', 'TYPE'], l.children.map((c) => [c.reference, c.platform ?? '-', formatBytes(c.size), kindOf(c)])));
  }
  lines.push('', l.referrers.length === 0
    ? 'no referrers (signatures, SBOMs, attestations)'
    : formatTable(['REFERRER', 'SIZE', 'TYPE', 'TAG'], l.referrers.map((r) => [r.reference, formatBytes(r.size), kindOf(r), r.tag ?? '-'])));
  return lines.join('\n');
}

export const lsCommand = defineCommand<LsArgs>({
  command: 'ls <target>',
  describe: 'list a registry: its repositories, a repository\'s tags, or one image\'s children and referrers',
  examples: [
    ['ferry ls registry.site.example:5000', 'the repositories'],
    ['ferry ls registry.site.example:5000/library/nginx -l', 'the tags, with digest, size and platforms'],
    ['ferry ls registry.site.example:5000/library/nginx:1.25', 'one image: its children and referrers'],
  ],
  docs: 'docs/site-registry.md',
  builder: (y) =>
    withRegistryFlags(y)
      .positional('target', { type: 'string', demandOption: true, describe: 'REGISTRY (repositories), REGISTRY/REPO (tags) or REGISTRY/REPO@sha256:…|:TAG (one image)' })
      .option('long', { alias: 'l', type: 'boolean', default: false, describe: 'tags with digest, size, platforms and media type (one manifest GET per tag, more for an index)' })
      .option('page-size', { type: 'number', describe: 'entries asked per page (n=); every page is read either way' }) as unknown as Argv<LsArgs>,
  async run(args, ctx) {
    const target = parseSiteTarget(args.target);
    const pool = registryPool(args, ctx.signal);
    const paging = args['page-size'] !== undefined ? { pageSize: args['page-size'] } : {};
    try {
      if (target.kind === 'registry') {
        const names = await listRepositories(pool.client(target.registry), { ...paging, signal: ctx.signal });
        const refs = names.map((n) => repositoryRef(target.registry, n));
        ctx.out.listing({ registry: target.registry, repositories: names.map((name, i) => ({ name, reference: refs[i] })) }, () => refs.join('\n') || `${target.registry}: no repositories`);
      } else if (target.kind === 'repository') {
        const rows = await listTags(pool.client(target.registry), target.repository, { ...paging, long: args.long, concurrency: args.concurrency, signal: ctx.signal });
        ctx.out.listing({ repository: repositoryRef(target.registry, target.repository), tags: rows }, () => (args.long ? tagTable(rows) : rows.map((r) => r.reference).join('\n')));
      } else {
        const listing = await describeManifest(pool.client(target.ref.registry), target.ref, { concurrency: args.concurrency, signal: ctx.signal });
        ctx.out.listing(listing, () => manifestText(listing));
      }
    } finally {
      await pool.closeAll();
    }
  },
});
