import { mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseSplitSize, readPrivateKeyFile, sidecarPathFor, volumeName } from '../../bundle/index.js';
import { ExitCode, UsageError } from '../../core/errors.js';
import { parsePlatform } from '../../core/platform.js';
import { parseReference } from '../../core/reference.js';
import { exportImages } from '../../transfer/export.js';
import { readInventory } from '../../transfer/inventory.js';
import { parseSpec, type SpecImage } from '../../transfer/spec.js';
import { defineCommand } from '../command.js';
import { openStoreFromArgs } from '../open-store.js';
import { formatBytes, formatTable } from '../output.js';
import { progressReporter } from '../progress-bars.js';
import { registryPool, withRegistryFlags } from '../registry-flags.js';
import { TOOL_VERSION } from '../version.js';
import { trustPolicyFrom, withTrustFlags } from '../trust-flags.js';

async function imagesFrom(args: { refs?: string[]; file?: string; platform?: string[]; 'all-platforms': boolean; 'with-referrers': boolean }): Promise<SpecImage[]> {
  const platforms = args['all-platforms'] ? [] : (args.platform ?? []).map(parsePlatform);
  const images: SpecImage[] = (args.refs ?? []).map((r) => ({ reference: parseReference(r), platforms, withReferrers: args['with-referrers'] }));
  if (args.file) {
    const spec = parseSpec(await readFile(args.file, 'utf8').catch(() => Promise.reject(new UsageError(`cannot read spec ${args.file}`))), args.file);
    images.push(...spec.images.map((i) => ({ ...i, platforms: args.platform?.length || args['all-platforms'] ? platforms : i.platforms })));
  }
  if (images.length === 0) throw new UsageError('nothing to export: name images (REGISTRY/REPO:TAG) or a spec with -f', { hint: 'ferry export nginx:1.25 -o nginx.tar' });
  return images;
}

/** Moves volume `n` of a bundle written at `written` (and its signed sidecar) to `wanted`. */
async function keepOneVolume(written: string, wanted: string, n: number): Promise<string[]> {
  const volume = volumeName(written, n);
  if (!(await stat(volume).catch(() => undefined))) throw new UsageError(`the bundle has no volume ${n} (volumes are numbered from 0)`);
  const moves = [[volume, volumeName(wanted, n)], [sidecarPathFor(written), sidecarPathFor(wanted)], [`${sidecarPathFor(written)}.sig`, `${sidecarPathFor(wanted)}.sig`]];
  for (const [from, to] of moves) if (await stat(from!).catch(() => undefined)) await rename(from!, to!);
  return [volumeName(wanted, n)];
}

export const exportCommand = defineCommand({
  command: 'export [refs..]',
  describe: 'pull images into the store and write a signed, deduplicated bundle',
  builder: (y) =>
    withTrustFlags(withRegistryFlags(y))
      .positional('refs', { type: 'string', array: true, describe: 'image references (nginx:1.25, mcr.microsoft.com/windows/servercore:ltsc2022, …@sha256:…)' })
      .option('file', { alias: 'f', type: 'string', describe: 'a declarative spec (bundles/*.yaml)' })
      .option('output', { alias: 'o', type: 'string', demandOption: true, describe: 'the bundle file (with --split: the base name of its volumes)' })
      .option('platform', { type: 'string', array: true, describe: 'OS/ARCH[/VARIANT][:OS.VERSION]; repeatable (default: every platform)' })
      .option('all-platforms', { type: 'boolean', default: false, describe: 'every platform, every digest kept (the default without --platform)' })
      .option('with-referrers', { type: 'boolean', default: true, describe: 'carry signatures, SBOMs and attestations (--no-with-referrers to leave them)' })
      .option('sign', { type: 'string', describe: 'Ed25519 private key (NAME.key from ferry keygen)' })
      .option('split', { type: 'string', describe: 'cut into volumes of SIZE bytes (4G, 700M, or fat32 = 4 GiB - 1)' })
      .option('only-volume', { type: 'number', describe: 'with --split: keep only volume N (0-based) — re-makes a lost or damaged stick; the bytes are identical' })
      .option('since', { type: 'string', describe: 'an inventory of the far side (ferry inventory): leave out what it holds' }),
  async run(args, ctx) {
    const images = await imagesFrom(args);
    const signingKey = args.sign ? await readPrivateKeyFile(args.sign) : undefined;
    const split = args.split ? parseSplitSize(args.split) : undefined;
    const since = args.since ? await readInventory(args.since) : undefined;
    const trust = await trustPolicyFrom(args, args.file);
    if (trust && !args['with-referrers']) throw new UsageError('--require-signed-by carries the signatures so import can check them again: drop --no-with-referrers');
    if (args['only-volume'] !== undefined && !split) throw new UsageError('--only-volume goes with --split (the same --split as the original export)');
    const output = args['only-volume'] === undefined ? args.output : join(await mkdtemp(join(dirname(resolve(args.output)), '.ferry-volumes-')), basename(args.output));
    const registries = registryPool(args, ctx.signal);
    const store = await openStoreFromArgs(args);
    const progress = progressReporter(ctx, 'export');
    try {
      const report = await exportImages({
        images,
        registries,
        store,
        output,
        ...(split ? { split } : {}),
        ...(signingKey ? { signingKey } : {}),
        ...(since ? { since } : {}),
        ...(trust ? { trust } : {}),
        concurrency: args.concurrency,
        toolVersion: TOOL_VERSION,
        onEvent: progress.sink,
        signal: ctx.signal,
      });
      progress.done();
      if (args['only-volume'] !== undefined) report.bundle.files = await keepOneVolume(output, args.output, args['only-volume']);
      for (const f of report.failed) ctx.out.warn(`${f.subject}: ${f.error?.message}`);
      ctx.out.result(report, () =>
        [
          formatTable(
            ['IMAGE', 'DIGEST', 'REFERRERS'],
            report.images.map((i) => [i.name, i.sourceDigest ? `${i.digest} (platform-filtered from ${i.sourceDigest})` : i.digest, String(i.referrers)]),
          ),
          ...report.images.flatMap((i) => (i.signedBy ? [`${i.name}: signed by ${i.signedBy.keyId} (${i.signedBy.format})`] : [])),
          '',
          `pulled ${report.pulled.copied} new blobs (${formatBytes(report.pulled.bytes)}), ${report.pulled.skipped} already in the store`,
          `wrote ${report.bundle.files.join(', ')}: ${report.bundle.bundleJson.blobs.count} blobs, ${formatBytes(report.bundle.bytes)}${report.bundle.keyId ? `, signed by ${report.bundle.keyId}` : ', UNSIGNED'}`,
        ].join('\n'),
      );
      return report.failed.length > 0 ? ExitCode.partial : ExitCode.ok;
    } finally {
      if (output !== args.output) await rm(dirname(output), { recursive: true, force: true });
      progress.done();
      await store.close();
      await registries.closeAll();
    }
  },
});
