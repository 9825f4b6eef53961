import { readFile } from 'node:fs/promises';
import { parseSplitSize, readPrivateKeyFile } from '../../bundle/index.js';
import { ExitCode, UsageError } from '../../core/errors.js';
import { parsePlatformList } from '../../core/platform.js';
import { parseReference } from '../../core/reference.js';
import { exportImages, pullImages, writerInputs } from '../../transfer/export.js';
import { readInventory, type Inventory } from '../../transfer/inventory.js';
import { remakeVolume } from '../../transfer/remake-volume.js';
import type { TrustPolicy } from '../../trust/index.js';
import { parseSpec, type SpecImage } from '../../transfer/spec.js';
import { defineCommand, type CommandContext, type GlobalArgs } from '../command.js';
import { openStoreFromArgs } from '../open-store.js';
import { formatBytes, formatTable } from '../output.js';
import { progressReporter } from '../progress-bars.js';
import { signersLine } from '../signers.js';
import { registryPool, withRegistryFlags, type RegistryArgs } from '../registry-flags.js';
import { TOOL_VERSION } from '../version.js';
import { carriedReleases, withFerryValues, type CarriedReleases } from '../with-ferry.js';
import { trustPolicyFrom, withTrustFlags } from '../trust-flags.js';

async function imagesFrom(args: { refs?: string[] | undefined; file?: string | undefined; platform?: string[] | undefined; 'all-platforms': boolean; 'with-referrers': boolean }): Promise<SpecImage[]> {
  const platforms = args['all-platforms'] ? [] : parsePlatformList(args.platform);
  const images: SpecImage[] = (args.refs ?? []).map((r) => ({ reference: parseReference(r), platforms, withReferrers: args['with-referrers'] }));
  if (args.file) {
    const spec = parseSpec(await readFile(args.file, 'utf8').catch(() => Promise.reject(new UsageError(`cannot read spec ${args.file}`))), args.file);
    images.push(...spec.images.map((i) => ({ ...i, platforms: args.platform?.length || args['all-platforms'] ? platforms : i.platforms })));
  }
  if (images.length === 0) throw new UsageError('nothing to export: name images (REGISTRY/REPO:TAG) or a spec with -f', { hint: 'ferry export nginx:1.25 -o nginx.tar' });
  return images;
}

type ExportArgs = RegistryArgs & GlobalArgs & { output: string; 'only-volume'?: number | undefined };

/** `--only-volume N`: that one volume made again from the store (see transfer/remake-volume.ts). */
interface OnlyVolumeInputs {
  images: SpecImage[];
  split: number;
  signingKey: string | undefined;
  since: Inventory | undefined;
  /** --with-ferry's release files (undefined: none given). */
  releases: string[] | undefined;
  trust: TrustPolicy | undefined;
}

async function onlyVolume(args: ExportArgs, ctx: CommandContext, { images, split, signingKey, since, releases, trust }: OnlyVolumeInputs): Promise<number> {
  const store = await openStoreFromArgs(args);
  const registries = registryPool(args, ctx.signal);
  let carried: CarriedReleases = { tools: [], cleanup: async () => undefined };
  try {
    carried = await carriedReleases(releases);
    const report = await remakeVolume({
      store,
      output: args.output,
      split,
      volume: args['only-volume'] as number,
      ...(signingKey ? { signingKey } : {}),
      toolVersion: TOOL_VERSION,
      ...(carried.tools.length ? { tools: carried.tools } : {}),
      // Only when the store has no record of the bundle: pull again (registries needed).
      pull: async () => {
        const { pulled, failed } = await pullImages({ images, registries, store, ...(since ? { since } : {}), ...(trust ? { trust } : {}), concurrency: args.concurrency, signal: ctx.signal });
        if (failed.length > 0) throw new UsageError(`cannot re-make a volume without every image: ${failed.map((f) => f.subject).join(', ')} failed`);
        return writerInputs(pulled, since);
      },
      signal: ctx.signal,
    });
    if (report.checkedAgainst === null) ctx.out.warn(`no volume list beside ${args.output} and no record in the store: ${report.file} could not be checked; run ferry verify on the whole set`);
    const against = report.checkedAgainst === 'volume-list' ? 'matches the volume list' : report.checkedAgainst === 'store' ? 'matches the volume list the store recorded' : 'unchecked';
    ctx.out.result(report, () => `re-made ${report.file} from the ${report.pinnedBy === 'store' ? 'store alone' : 'registries'}: ${formatBytes(report.volume.size)}, sha256 ${report.volume.sha256} (${against})`);
    return ExitCode.ok;
  } finally {
    await carried.cleanup();
    await store.close();
    await registries.closeAll();
  }
}

/** A delta bundle's blobs left out, as inspect says them: `; 4306 blobs (12.6 MB) assumed on the far side`. */
function assumedText(assumes: ReadonlyArray<{ size: number }>): string {
  return assumes.length ? `; ${assumes.length} blobs (${formatBytes(assumes.reduce((n, a) => n + a.size, 0))}) assumed on the far side` : '';
}

export const exportCommand = defineCommand({
  command: 'export [refs..]',
  describe: 'pull images into the store and write a signed, deduplicated bundle',
  examples: [
    ['ferry export nginx:1.25 redis:7 --sign site.key -o images.tar', 'two images into one signed bundle'],
    ['ferry export -f bundles/base.yaml --platform linux/amd64 --split fat32 --sign site.key -o /media/usb/base', 'a spec, one platform, cut into FAT32 volumes'],
    ['ferry export -f bundles/base.yaml --since far-side.json --sign site.key -o delta.tar', 'only what the far side does not hold yet (ferry inventory)'],
  ],
  docs: 'docs/usb-sneakernet.md',
  builder: (y) =>
    withTrustFlags(withRegistryFlags(y))
      .positional('refs', { type: 'string', array: true, describe: 'image references (nginx:1.25, mcr.microsoft.com/windows/servercore:ltsc2022, …@sha256:…)' })
      .option('file', { alias: 'f', type: 'string', describe: 'a declarative spec (bundles/*.yaml)' })
      .option('output', { alias: 'o', type: 'string', demandOption: true, describe: 'the bundle file (with --split: the base name of its volumes)' })
      .option('platform', { type: 'string', array: true, nargs: 1, describe: 'OS/ARCH[/VARIANT][:OS.VERSION]; repeatable (default: every platform)' })
      .option('all-platforms', { type: 'boolean', default: false, describe: 'every platform, every digest kept (the default without --platform)' })
      .option('with-referrers', { type: 'boolean', default: true, describe: 'carry signatures, SBOMs and attestations (--no-with-referrers to leave them)' })
      .option('sign', { type: 'string', describe: 'Ed25519 private key (NAME.key from ferry keygen)' })
      .option('split', { type: 'string', describe: 'cut into volumes of SIZE bytes (4G, 700M, or fat32 = 4 GiB - 1)' })
      .option('only-volume', { type: 'number', describe: 'with --split: write only volume N (0-based) again, from the store alone — re-makes a lost or damaged stick byte for byte' })
      .option('since', { type: 'string', describe: 'an inventory of the far side (ferry inventory): leave out what it holds' })
      .option('with-ferry', { type: 'string', array: true, describe: 'carry ferry itself in volume 0 (docs/far-side.md): a release from npm run release, or without a value the release of this ferry; repeatable' }),
  async run(args, ctx) {
    if (args.output === '-') {
      throw new UsageError('-o - is not supported by export: a bundle is written in place (volumes, an atomic rename at the end)', { hint: 'write it to a file (-o bundle.tar), then copy or pipe that file' });
    }
    const withFerry = withFerryValues(args['with-ferry']);
    const images = await imagesFrom({ ...args, refs: [...(args.refs ?? []), ...withFerry.refs] });
    const signingKey = args.sign ? await readPrivateKeyFile(args.sign) : undefined;
    const split = args.split ? parseSplitSize(args.split) : undefined;
    const since = args.since ? await readInventory(args.since) : undefined;
    const trust = await trustPolicyFrom(args, args.file);
    if (trust && !args['with-referrers']) throw new UsageError('--require-signed-by carries the signatures so import can check them again: drop --no-with-referrers');
    if (args['only-volume'] !== undefined) {
      if (!split) throw new UsageError('--only-volume goes with --split (the same --split as the original export)');
      return onlyVolume(args, ctx, { images, split, signingKey, since, releases: withFerry.files, trust });
    }
    const output = args.output;
    const registries = registryPool(args, ctx.signal);
    const store = await openStoreFromArgs(args);
    const progress = progressReporter(ctx, 'export');
    let carried: CarriedReleases = { tools: [], cleanup: async () => undefined };
    try {
      carried = await carriedReleases(withFerry.files);
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
        // When the export ran, so daily bundles differ; SOURCE_DATE_EPOCH keeps a reproducible run reproducible.
        ...(process.env.SOURCE_DATE_EPOCH ? {} : { created: new Date() }),
        ...(carried.tools.length ? { tools: carried.tools } : {}),
        onEvent: progress.sink,
        signal: ctx.signal,
      });
      progress.done();
      const signers = signersLine(report.images);
      return ctx.out.outcome(
        { ...report, progress: progress.counters() },
        () =>
        [
          formatTable(
            ['IMAGE', 'DIGEST', 'REFERRERS', ...(signers ? ['SIGNED BY'] : [])],
            report.images.map((i) => [
              i.name,
              i.sourceDigest ? `${i.digest} (platform-filtered from ${i.sourceDigest})` : i.digest,
              String(i.referrers),
              ...(signers ? [i.signedBy ? `${i.signedBy.keyId} (${i.signedBy.format})` : '-'] : []),
            ]),
          ),
          '',
          ...(signers ? [`publisher signatures verified: ${signers}`] : []),
          `pulled ${report.pulled.copied} new blobs (${formatBytes(report.pulled.bytes)}), ${report.pulled.inStore} already in the store`,
          `wrote ${report.bundle.files.join(', ')}: ${report.bundle.bundleJson.blobs.count} blobs, ${formatBytes(report.bundle.bytes)}${report.bundle.keyId ? `, signed by ${report.bundle.keyId}` : ', UNSIGNED'}${assumedText(report.bundle.bundleJson.assumes)}`,
          ...carried.tools.map((t) => `carries ${t.entry} (${formatBytes(t.size)}) in ${report.bundle.files[0]}`),
        ].join('\n'),
        report.failed,
        { total: report.images.length + report.failed.length, noun: 'images' },
      );
    } finally {
      await carried.cleanup();
      progress.done();
      await store.close();
      await registries.closeAll();
    }
  },
});
