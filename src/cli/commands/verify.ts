// Only the modules verify needs, not the whole bundle package (writer, signer…): start-up is most of a small verify.
import { verifyBundle } from '../../bundle/index.js';
import { defineCommand } from '../command.js';
import { formatBytes } from '../output.js';
import { verificationKeys } from '../key-flags.js';

export const verifyCommand = defineCommand({
  command: 'verify <bundle>',
  describe: 'check a bundle completely (signature, every digest and size, every volume) without importing it',
  examples: [
    ['ferry verify images.tar --key site.pub', 'signature, every digest and size'],
    ['ferry verify /media/usb/base.000 --key site.pub', 'every volume of a split bundle'],
  ],
  docs: 'docs/usb-sneakernet.md',
  builder: (y) =>
    y
      .positional('bundle', { type: 'string', demandOption: true, describe: 'the bundle file, or the first volume (NAME.000)' })
      .option('key', { type: 'string', array: true, nargs: 1, describe: 'public key (NAME.pub): the signature must verify with it (repeat for several trusted keys)' })
      .option('require-signature', { type: 'boolean', default: false, describe: 'refuse an unsigned bundle' }),
  async run(args, { out }) {
    const key = await verificationKeys(args.key, out);
    const report = await verifyBundle(args.bundle, { ...(key ? { key } : {}), ...(args['require-signature'] ? { requireSignature: true } : {}) });
    out.result({ ok: true, ...report }, () =>
      [
        `${report.source}: OK`,
        `  signature: ${report.signature}${report.keyId ? ` (key ${report.keyId})` : ''}`,
        `  ${report.images} images, ${report.blobs} blobs, ${formatBytes(report.blobBytes)} verified${report.assumed ? `, ${report.assumed} blobs assumed on the far side (delta)` : ''}`,
        ...report.releases.map((r) => `  carries ${r.entry}: ${formatBytes(r.size)}, sha256 checked`),
        ...(report.volumes ? [`  ${report.volumes.list.length} volumes, each size and sha256 checked`] : []),
      ].join('\n'),
    );
  },
});
