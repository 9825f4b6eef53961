import pLimit from 'p-limit';
import { normalizeRegistry } from '../../core/reference.js';
import { UsageError } from '../../core/errors.js';
import { serializeInventory, writeInventory } from '../../transfer/inventory.js';
import { takeInventory } from '../../transfer/take-inventory.js';
import { defineCommand } from '../command.js';
import { formatBytes } from '../output.js';
import { registryPool, withRegistryFlags } from '../registry-flags.js';

export const inventoryCommand = defineCommand({
  command: 'inventory <registry>',
  describe: 'write down what a registry holds, to carry back for delta exports (ferry export --since FILE)',
  examples: [
    ['ferry inventory registry.site.example:5000 -o far-side.json', 'what the site registry holds, to carry back'],
    ['ferry export -f bundles/base.yaml --since far-side.json -o delta.tar', 'then, on the connected side, export only what is missing'],
  ],
  docs: 'docs/scripted-mirroring.md',
  builder: (y) =>
    withRegistryFlags(y)
      .positional('registry', { type: 'string', demandOption: true, describe: 'HOST[:PORT] of the registry' })
      .option('output', { alias: 'o', type: 'string', demandOption: true, describe: 'the inventory file (JSON), or - for stdout' })
      .option('repository', { type: 'string', array: true, nargs: 1, describe: 'only these repositories (default: the whole catalog)' }),
  async run(args, ctx) {
    const toStdout = args.output === '-';
    if (toStdout && args.json) throw new UsageError('-o - writes the inventory to stdout; it does not go with --json');
    const pool = registryPool(args, ctx.signal);
    try {
      const inventory = await takeInventory(pool.client(normalizeRegistry(args.registry)), {
        ...(args.repository ? { repositories: args.repository } : {}),
        limit: pLimit(args.concurrency),
        signal: ctx.signal,
      });
      const bytes = inventory.blobs.reduce((n, b) => n + b.size, 0);
      const said = `${toStdout ? 'inventory' : args.output}: ${inventory.images.length} images, ${inventory.blobs.length} blobs (${formatBytes(bytes)}) held by ${inventory.registry}`;
      if (toStdout) {
        // The document is stdout; what was written is said on stderr, as `k8s rewrite -o -` does.
        process.stdout.write(serializeInventory(inventory));
        if (!args.quiet) process.stderr.write(`${said}\n`);
        return;
      }
      await writeInventory(args.output, inventory);
      ctx.out.result({ output: args.output, images: inventory.images.length, blobs: inventory.blobs.length, bytes }, () => said);
    } finally {
      await pool.closeAll();
    }
  },
});
