import { writeKeyPair } from '../../bundle/index.js';
import { defineCommand } from '../command.js';

export const keygenCommand = defineCommand({
  command: 'keygen',
  describe: 'make an Ed25519 key pair: NAME.key (PKCS#8 PEM, 0600) signs bundles, NAME.pub (SPKI PEM) verifies them',
  examples: [
    ['ferry keygen -o site', 'site.key signs (keep it on the connected side), site.pub verifies (carry it)'],
    ['ferry export nginx:1.25 --sign site.key -o nginx.tar', 'then sign bundles with it'],
  ],
  docs: 'docs/signatures.md',
  builder: (y) => y.option('output', { alias: 'o', type: 'string', demandOption: true, describe: 'NAME: writes NAME.key and NAME.pub' }),
  async run(args, { out }) {
    const files = await writeKeyPair(args.output);
    out.result(files, () =>
      [`private key: ${files.privateKeyPath} (keep it on the connected side)`, `public key:  ${files.publicKeyPath} (carry it to the far side)`, `key id:      ${files.keyId}`].join('\n'),
    );
  },
});
