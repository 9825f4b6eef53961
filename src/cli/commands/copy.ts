import { UsageError } from '../../core/errors.js';
import { parsePlatformList } from '../../core/platform.js';
import { parseReference } from '../../core/reference.js';
import { copyReference } from '../../transfer/copy-reference.js';
import { defineCommand } from '../command.js';
import { formatBytes } from '../output.js';
import { progressReporter } from '../progress-bars.js';
import { registryPool, withRegistryFlags } from '../registry-flags.js';
import { perHostOverrides, withSideFlags } from '../side-flags.js';
import { trustPolicyFrom, withTrustFlags } from '../trust-flags.js';

/** Neither a tag nor a digest in the text (the last path component carries the tag). */
function namesNoVersion(text: string): boolean {
  return !text.includes('@') && !(text.trim().split('/').at(-1) ?? '').includes(':');
}

export const copyCommand = defineCommand({
  command: 'copy <source> <target>',
  describe: 'copy an image from one registry to another (connected-side mirroring), digests kept',
  examples: [
    ['ferry copy docker.io/library/nginx:1.25 mirror.example:5000/library/nginx:1.25', 'one image, every platform, digests kept'],
    ['ferry copy ghcr.io/acme/api@sha256:… mirror.example:5000/acme/api:1.4 --platform linux/amd64', 'one platform of a pinned image, tagged'],
    ['ferry copy quay.io/acme/app:2 mirror.example:5000/acme/app:2 --dest-creds ci:s3cret', 'credentials for the destination only'],
  ],
  docs: 'docs/scripted-mirroring.md',
  builder: (y) =>
    withSideFlags(withTrustFlags(withRegistryFlags(y)))
      .positional('source', { type: 'string', demandOption: true, describe: 'REGISTRY/REPO:TAG or @DIGEST' })
      .positional('target', { type: 'string', demandOption: true, describe: 'REGISTRY/REPO[:TAG]' })
      .option('platform', { type: 'string', array: true, nargs: 1, describe: 'OS/ARCH[/VARIANT][:OS.VERSION]; repeatable (default: every platform)' }),
  async run(args, ctx) {
    const source = parseReference(args.source);
    const target = parseReference(args.target, source.tag ? { defaultTag: source.tag } : {});
    if (target.digest && !target.tag) throw new UsageError('the target needs a tag, not a digest: the digest is the source image\'s');
    // As docker pull says it: an untagged source is :latest, never silently.
    if (namesNoVersion(args.source) && !ctx.out.quiet) process.stderr.write('Using default tag: latest\n');
    const trust = await trustPolicyFrom(args);
    const registries = registryPool(args, ctx.signal, perHostOverrides(args, source.registry, target.registry));
    const progress = progressReporter(ctx, 'copy');
    try {
      const report = await copyReference({
        source,
        target: { registry: target.registry, repository: target.repository, ...(target.tag ? { tag: target.tag } : {}) },
        registries,
        platforms: parsePlatformList(args.platform),
        ...(trust ? { trust } : {}),
        concurrency: args.concurrency,
        onEvent: progress.sink,
        signal: ctx.signal,
      });
      progress.done();
      ctx.out.result({ ...report, progress: progress.counters() }, () =>
        `${report.source} -> ${report.target}: ${report.digest}${report.sourceDigest ? ` (platform-filtered from ${report.sourceDigest})` : ''}; ${report.copy.copied} copied (${formatBytes(report.copy.bytesTransferred)}), ${report.copy.mounted} mounted, ${report.copy.skipped} already there${report.signedBy ? `; signed by ${report.signedBy.keyId}` : ''}`,
      );
    } finally {
      progress.done();
      await registries.closeAll();
    }
  },
});
