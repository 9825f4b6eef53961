import { inspectBundle } from '../../bundle/index.js';
import { defineCommand } from '../command.js';
import { formatBytes, formatTable } from '../output.js';

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
    ['ferry inspect /media/usb/base.000 --json', 'the same as JSON, from the first volume'],
  ],
  docs: 'docs/bundle-format.md',
  builder: (y) => y.positional('bundle', { type: 'string', demandOption: true, describe: 'the bundle file, or the first volume (NAME.000)' }),
  async run(args, { out }) {
    const report = await inspectBundle(args.bundle);
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
