import { inspectBundle } from '../../bundle/index.js';
import { defineCommand } from '../command.js';
import { formatBytes, formatTable } from '../output.js';
import { verificationKeys } from '../key-flags.js';

/** `, needs GLIBC 2.34`: what the carried release's binaries need of the far side. */
function requiresText(requires: Readonly<Record<string, string>>): string {
  const parts = Object.entries(requires).map(([k, v]) => `${k} ${v}`);
  return parts.length > 0 ? `, needs ${parts.join(', ')}` : '';
}

export const inspectCommand = defineCommand({
  command: 'inspect <bundle>',
  describe: 'list the images, tags, platforms and sizes of a bundle (reads only its head)',
  examples: [
    ['ferry inspect images.tar', 'the images, tags and platforms of a bundle'],
    ['ferry inspect /media/usb/base.000 --key site.pub --json', 'the same as JSON, from the first volume, once its signature verifies'],
  ],
  docs: 'docs/bundle-format.md',
  builder: (y) =>
    y
      .positional('bundle', { type: 'string', demandOption: true, describe: 'the bundle file, or the first volume (NAME.000)' })
      .option('key', { type: 'string', array: true, nargs: 1, describe: 'public key (NAME.pub): the signature must verify with it before anything is shown (repeat for several trusted keys)' }),
  async run(args, { out }) {
    const key = await verificationKeys(args.key, out);
    const report = await inspectBundle(args.bundle, key ? { key } : {});
    out.listing(report, () =>
      [
        `${report.source}: ${report.format}, created ${report.created} by ${report.tool}, signature: ${report.signature}${report.keyId ? ` (key ${report.keyId})` : ''}`,
        formatTable(
          ['IMAGE', 'PLATFORMS', 'SIZE', 'REFERRERS', 'DIGEST'],
          report.images.map((i) => [i.name, i.platforms.join(',') || '-', formatBytes(i.bytes), String(i.referrers.length), i.digest]),
        ),
        ...report.releases.map((r) => `carries ferry ${r.version} for ${r.os}-${r.arch}${requiresText(r.requires)}: ${r.entry} (${formatBytes(r.size)}, ${r.digest})`),
        `${report.blobs.count} blobs, ${formatBytes(report.blobs.bytes)} carried${report.assumed.count ? `; ${report.assumed.count} blobs (${formatBytes(report.assumed.bytes)}) assumed on the far side` : ''}${report.volumes ? `; ${report.volumes.length} volumes` : ''}`,
      ].join('\n'),
    );
  },
});
