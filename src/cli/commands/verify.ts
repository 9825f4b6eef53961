// Only the modules verify needs, not the whole bundle package (writer, signer…): start-up is most of a small verify.
import { verifyBundle, verifyVolumesInHand, type InHandReport, type VerifyReport } from '../../bundle/index.js';
import { defineCommand } from '../command.js';
import { formatBytes } from '../output.js';
import { verificationKeys } from '../key-flags.js';
import { progressReporter } from '../progress-bars.js';

function fullText(report: VerifyReport): string {
  return [
    `${report.source}: OK`,
    `  signature: ${report.signature}${report.keyId ? ` (key ${report.keyId})` : ''}`,
    `  ${report.images} images, ${report.blobs} blobs, ${formatBytes(report.blobBytes)} verified${report.assumed ? `, ${report.assumed} blobs assumed on the far side (delta)` : ''}`,
    ...report.releases.map((r) => `  carries ${r.entry}: ${formatBytes(r.size)}, sha256 checked`),
    ...(report.volumes ? [`  ${report.volumes.list.length} volumes, each size and sha256 checked`] : []),
  ].join('\n');
}

// Without a verified list, a volume matching it proves only that it matches the list beside it.
const UNPROVEN: Partial<Record<InHandReport['signature'], string>> = {
  none: ': the list is unsigned, so the volumes are checked against it, not against the sender',
  unchecked: ': no --key given, so the volumes are checked against the list, not against the sender',
};

/** `OK for the 1 of 5 volumes checked; not checked: a, b (absent); c (not asked)`, a line per checked volume, one naming stray volume files. */
function inHandText(report: InHandReport): string {
  const { list } = report.volumes;
  const names = (state: string) => list.filter((v) => v.status === state).map((v) => v.name);
  const absent = names('absent');
  const skipped = names('skipped');
  const notChecked = [...(absent.length ? [`${absent.join(', ')} (absent)`] : []), ...(skipped.length ? [`${skipped.join(', ')} (not asked)`] : [])].join('; ');
  return [
    `${report.source}: OK for the ${report.checked} of ${list.length} volumes checked; not checked: ${notChecked}`,
    `  signature of the volume list: ${report.signature}${report.keyId ? ` (key ${report.keyId})` : ''}${UNPROVEN[report.signature] ?? ''}`,
    ...list.filter((v) => v.status === 'checked').map((v) => `  ${v.name}: ${formatBytes(v.size)}, size and sha256 as the volume list says`),
    ...(report.stray.length ? [`  not in the volume list, so not checked: ${report.stray.join(', ')}`] : []),
    `  the images are verified only with every volume in one folder: ferry verify FOLDER/${list[0]?.name}`,
  ].join('\n');
}

export const verifyCommand = defineCommand({
  command: 'verify <bundle>',
  describe: 'check a bundle completely (signature, every digest and size, every volume) without importing it',
  examples: [
    ['ferry verify images.tar --key site.pub', 'signature, every digest and size'],
    ['ferry verify /media/usb/base.000 --key site.pub', 'every volume of a split bundle'],
    ['ferry verify /media/usb/base.001 --key site.pub --present', 'only the volumes on the stick in hand'],
  ],
  docs: 'docs/usb-sneakernet.md',
  builder: (y) =>
    y
      .positional('bundle', { type: 'string', demandOption: true, describe: 'the bundle file, or the first volume (NAME.000); with --present or --volume, any volume or NAME.volumes.json' })
      .option('key', { type: 'string', array: true, nargs: 1, describe: 'public key (NAME.pub): the signature must verify with it (repeat for several trusted keys)' })
      .option('require-signature', { type: 'boolean', default: false, describe: 'refuse an unsigned bundle' })
      .option('present', { type: 'boolean', default: false, describe: 'split bundle: check the volumes in this folder against the signed volume list, and name those not checked' })
      .option('volume', { type: 'string', array: true, nargs: 1, describe: 'split bundle: check only volume N (1, 001 or NAME.001) against the signed volume list; repeatable' }),
  async run(args, ctx) {
    const { out } = ctx;
    const key = await verificationKeys(args.key, out);
    const trust = { ...(key ? { key } : {}), ...(args['require-signature'] ? { requireSignature: true } : {}) };
    const inHand = args.present || args.volume !== undefined;
    // A bar on a terminal, the line log elsewhere: a 100 GB bundle read from a stick takes a while.
    const progress = progressReporter(ctx, 'verify');
    try {
      const onEvent = progress.sink;
      const report = inHand ? await verifyVolumesInHand(args.bundle, { ...trust, onEvent, ...(args.volume ? { only: args.volume } : {}) }) : await verifyBundle(args.bundle, { ...trust, onEvent });
      progress.done();
      out.result({ ok: true, ...report }, () => (report.complete ? fullText(report) : inHandText(report)));
    } finally {
      progress.done();
    }
  },
});
