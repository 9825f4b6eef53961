import { readFile } from 'node:fs/promises';
import { UsageError, isFerryError } from '../../core/errors.js';
import { importBundle, type ImportReport } from '../../transfer/import.js';
import { parseDestination, parseRetagRule } from '../../transfer/retag.js';
import { parseSpec } from '../../transfer/spec.js';
import { verificationKeys } from '../key-flags.js';
import { defineCommand } from '../command.js';
import { openStoreFromArgs } from '../open-store.js';
import { formatBytes, formatTable } from '../output.js';
import { progressReporter } from '../progress-bars.js';
import { signersLine } from '../signers.js';
import { registryPool, withRegistryFlags } from '../registry-flags.js';
import { trustPolicyFrom, withTrustFlags } from '../trust-flags.js';
import { writePolicyOut } from '../../transfer/policy-out.js';

function describeReport(r: ImportReport): string {
  const signed = r.upstreamSignatures;
  const keyOf = new Map(signed?.images.map((i) => [i.source, i.signedBy.keyId]));
  const lines = [
    formatTable(
      ['SOURCE', 'TARGET', 'DIGEST', ...(signed ? ['SIGNED BY'] : [])],
      r.images.map((i) => [i.source, i.target, i.sourceDigest ? `${i.digest} (was ${i.sourceDigest})` : i.digest, ...(signed ? [keyOf.get(i.source) ?? '-'] : [])]),
    ),
    '',
    r.dryRun
      ? `dry run: ${r.blobs.missing} blobs (${formatBytes(r.blobs.missingBytes)}) would be pushed; nothing was written`
      : `pushed ${r.blobs.pushed} blobs (${formatBytes(r.blobs.bytes)}), mounted ${r.blobs.mounted}; signature: ${r.bundle.signature}`,
  ];
  const unchanged = r.images.filter((i) => i.unchanged).length;
  if (unchanged > 0) lines.push(`${unchanged} of ${r.images.length} images were already there under their tags: left as they were`);
  if (r.verifiedFirst) lines.push(`bundle verified before the first push: ${r.verifiedFirst.blobs} blobs, ${formatBytes(r.verifiedFirst.blobBytes)}`);
  if (signed) lines.push(`publisher signatures verified from the bundle ${signed.checked === 'before-push' ? 'before the first push' : 'before any manifest or tag'}: ${signersLine(signed.images) ?? 'no images'}`);
  if (r.foreignLayerMapping.length) lines.push(`foreign layers localized: ${r.foreignLayerMapping.map((m) => `${m.from} -> ${m.to}`).join(', ')}`);
  return lines.join('\n');
}

export const importCommand = defineCommand({
  command: 'import <bundle>',
  describe: 'verify a bundle while streaming it and push it into a registry (or the local store)',
  examples: [
    ['ferry import images.tar --key site.pub --to registry.site.example:5000', 'verify while streaming, push with the same names'],
    ['ferry import /media/usb/base.000 --key site.pub --to registry.site.example/mirror --dry-run', 'the plan for a split bundle under a prefix; push nothing'],
    ['ferry import images.tar --key site.pub --to-store', 'into the local store, for ferry serve'],
  ],
  docs: 'docs/usb-sneakernet.md',
  builder: (y) =>
    withTrustFlags(withRegistryFlags(y))
      .positional('bundle', { type: 'string', demandOption: true, describe: 'the bundle file, or the first volume (NAME.000)' })
      .option('to', { type: 'string', describe: 'REGISTRY[:PORT][/PREFIX]: where images land, repository paths and tags kept' })
      .option('to-store', { type: 'boolean', default: false, describe: 'load into the local store (for ferry serve) instead of a registry' })
      .option('retag', { type: 'string', array: true, nargs: 1, describe: 'FROM=TO name prefix rule, e.g. mcr.microsoft.com/=myreg.local/mcr/ (longest prefix wins)' })
      .option('file', { alias: 'f', type: 'string', describe: 'a spec whose retag rules apply (bundles/*.yaml)' })
      .option('key', { type: 'string', array: true, nargs: 1, describe: 'public key (NAME.pub): verify the signature before reading a single layer (repeat for several trusted keys)' })
      .option('require-signature', { type: 'boolean', default: false, describe: 'refuse an unsigned bundle (implied by --key)' })
      .option('foreign-layers', { choices: ['localize', 'preserve'] as const, default: 'localize' as const, describe: 'localize: make foreign layers ordinary (new digests, reported); preserve: push as is' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'show the plan; write nothing' })
      .option('verify-first', { type: 'boolean', default: false, describe: 'read and verify the whole bundle before the first push, so a bad one leaves nothing on the target (reads it twice)' })
      .option('policy-out', { type: 'string', describe: 'with --require-signed-by: write DIR/policy.json and DIR/registries.d/ for podman / CRI-O to check the signatures under the new names' })
      .check((a) => {
        if (a['to-store'] && a.to) throw new UsageError('give either --to or --to-store, not both');
        if (!a['to-store'] && !a.to && !a.retag?.length && !a.file) throw new UsageError('say where images go: --to REGISTRY[/PREFIX], --retag FROM=TO, or --to-store');
        if (a['policy-out'] && a['to-store']) throw new UsageError('--policy-out names the registry nodes pull from: give --to, not --to-store');
        return true;
      }),
  async run(args, ctx) {
    const key = await verificationKeys(args.key, ctx.out);
    const rules = (args.retag ?? []).map(parseRetagRule);
    if (args.file) rules.push(...parseSpec(await readFile(args.file, 'utf8'), args.file).retag);
    const trust = await trustPolicyFrom(args, args.file);
    if (args['policy-out'] && !trust) throw new UsageError('--policy-out writes the keys that verified the images: give --require-signed-by KEY.pub (or a spec policy)');
    const store = await openStoreFromArgs(args).catch((err: unknown) => {
      // Receipts are a convenience on the registry path; the store is required only for --to-store.
      if (args['to-store'] || !isFerryError(err)) throw err;
      return undefined;
    });
    const registries = registryPool(args, ctx.signal);
    const progress = progressReporter(ctx, 'import');
    try {
      const report = await importBundle({
        bundle: args.bundle,
        ...(key ? { key } : {}),
        ...(args['require-signature'] ? { requireSignature: true } : {}),
        destinations: args['to-store'] ? { kind: 'store' } : { kind: 'registry', ...(args.to ? { destination: parseDestination(args.to) } : {}), rules },
        registries,
        ...(store ? { store } : {}),
        foreignLayers: args['foreign-layers'],
        ...(trust ? { trust } : {}),
        dryRun: args['dry-run'],
        verifyFirst: args['verify-first'],
        concurrency: args.concurrency,
        onEvent: progress.sink,
        signal: ctx.signal,
      });
      progress.done();
      const policyOut = args['policy-out'] && trust && !report.dryRun ? await writePolicyOut(args['policy-out'], report, trust) : undefined;
      for (const s of policyOut?.skipped ?? []) ctx.out.warn(`${s.source}: not in the policy: ${s.why}`);
      return ctx.out.outcome(
        { ...report, ...(policyOut ? { policyOut } : {}), progress: progress.counters() },
        () => [describeReport(report), ...(policyOut ? [`wrote ${policyOut.files.join(' and ')}`] : [])].join('\n'),
        report.failed,
        { total: report.images.length + report.failed.length, noun: 'images' },
      );
    } finally {
      progress.done();
      await store?.close();
      await registries.closeAll();
    }
  },
});
