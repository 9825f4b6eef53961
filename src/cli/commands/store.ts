import type { Argv } from 'yargs';
import { NotFoundError, UsageError } from '../../core/errors.js';
import { formatStoreReference, parseStoreReference, type StoreReference } from '../../core/store-name.js';
import type { Store } from '../../store/index.js';
import { storeVerify } from './store-verify.js';
import { defineCommand, type CommandContext, type GlobalArgs } from '../command.js';
import { openStoreFromArgs } from '../open-store.js';
import { formatBytes, formatTable } from '../output.js';

// `ferry store ls | usage | gc | prune --untagged | rm REF | verify [--repair]`: looking after the store.

async function withStore<T>(args: GlobalArgs, readOnly: boolean, f: (store: Store) => Promise<T> | T): Promise<T> {
  const store = await openStoreFromArgs(args, { readOnly });
  try {
    return await f(store);
  } finally {
    await store.close();
  }
}

/** Every repository of the store, or those NAME may mean that hold something. */
function* repositoriesOf(store: Store, name: StoreReference | undefined): Generator<string> {
  if (name) return yield* name.candidates.filter((c) => store.repository(c).listTags({ n: 1 }).items.length > 0);
  for (let page = store.listRepositories({ n: 1000 }); ; page = store.listRepositories({ n: 1000, last: page.next ?? '' })) {
    yield* page.items;
    if (!page.next) break;
  }
}

async function ls(args: GlobalArgs & { ref?: string }, { out }: CommandContext): Promise<void> {
  const name = args.ref ? parseStoreReference(args.ref, { defaultTag: null }) : undefined;
  const rows = await withStore(args, true, async (store) => {
    const result: Array<{ repository: string; tag: string; digest: string; incomplete?: true }> = [];
    for (const repository of repositoriesOf(store, name)) {
      const repo = store.repository(repository);
      for (const tag of repo.listTags({ n: 10_000 }).items) {
        // A tag whose manifest verify --repair unlinked still names it: shown, marked.
        const held = await repo.resolve(tag).then(() => true, () => false);
        const digest = repo.tagged(tag) ?? '';
        if (name && ((name.tag !== undefined && name.tag !== tag) || (name.digest !== undefined && name.digest !== digest))) continue;
        result.push({ repository, tag, digest, ...(held ? {} : { incomplete: true as const }) });
      }
    }
    return result;
  });
  if (name && rows.length === 0) throw new NotFoundError(`${args.ref} is not in the store`, { hint: 'ferry store ls lists what is there' });
  // A document, not a bare array, so that it says `ok` as every command's does.
  out.listing({ images: rows }, () =>
    formatTable(['REPOSITORY', 'TAG', 'DIGEST'], rows.map((r) => [r.repository, r.tag, r.incomplete ? `${r.digest} (incomplete: export it again)` : r.digest])),
  );
}

async function usage(args: GlobalArgs, { out }: CommandContext): Promise<void> {
  const report = await withStore(args, true, (store) => store.usage());
  out.result(report, () =>
    [
      `${report.blobCount} blobs, ${formatBytes(report.totalBytes)} on disk; ${formatBytes(report.untaggedBytes)} reached by no tag (prune + gc may free it)`,
      formatTable(
        ['IMAGE', 'SIZE', 'UNIQUE', 'SHARED'],
        report.repositories.flatMap((r) => r.images.map((i) => [`${r.name}:${i.tag}`, formatBytes(i.bytes), formatBytes(i.uniqueBytes), formatBytes(i.sharedBytes)])),
      ),
      'UNIQUE is what deleting that tag (then ferry store gc) frees; SHARED stays for the other images that use it.',
    ].join('\n'),
  );
}

async function gc(args: GlobalArgs & { 'dry-run': boolean }, { out }: CommandContext): Promise<void> {
  const report = await withStore(args, false, (store) => store.gc({ dryRun: args['dry-run'] }));
  out.result(report, () =>
    [
      `${report.dryRun ? 'would remove' : 'removed'} ${report.blobs} blobs (${formatBytes(report.bytes)}), ${report.manifests} manifests; kept ${report.retained.blobs} unreferenced blobs (${formatBytes(report.retained.bytes)}) that are in flight or recent`,
      `${report.dryRun ? 'would remove' : 'removed'} ${report.ingests.removed} abandoned ingests (${formatBytes(report.ingests.bytes)}) and ${report.ingests.strays} stray ingest files or rows`,
    ].join('\n'),
  );
}

async function prune(args: GlobalArgs & { 'dry-run': boolean; untagged: boolean }, { out }: CommandContext): Promise<void> {
  if (!args.untagged) throw new UsageError('ferry store prune needs --untagged (the only kind of prune there is)');
  const report = await withStore(args, false, (store) => store.pruneUntagged({ dryRun: args['dry-run'] }));
  out.result(report, () => `${report.dryRun ? 'would delete' : 'deleted'} ${report.manifests.length} untagged manifests; run ferry store gc to free their blobs`);
}

async function rm(args: GlobalArgs & { ref: string }, { out }: CommandContext): Promise<void> {
  // Exported and imported images keep their upstream host in the store name; pushed ones do not.
  const ref = parseStoreReference(args.ref);
  const removed = await withStore(args, false, async (store) => {
    for (const name of ref.candidates) {
      const repo = store.repository(name);
      if (ref.digest) {
        if (await repo.deleteManifest(ref.digest)) return name;
      } else if (repo.tagged(ref.tag!) !== undefined) {
        repo.untag(ref.tag!);
        return name;
      }
    }
    throw new NotFoundError(`${args.ref} is not in the store`, { hint: 'ferry store ls lists what is there' });
  });
  out.result({ removed: formatStoreReference(removed, ref), repository: removed }, () => `removed ${formatStoreReference(removed, ref)}; run ferry store gc to free the space`);
}

type StoreArgs = GlobalArgs & { action: 'ls' | 'usage' | 'gc' | 'prune' | 'rm' | 'verify'; ref?: string; 'dry-run': boolean; untagged: boolean; repair: boolean };

export const storeCommand = defineCommand<StoreArgs>({
  command: 'store <action> [ref]',
  describe: 'look after the local store: ls | usage | gc [--dry-run] | prune --untagged [--dry-run] | rm REF | verify [--repair]',
  builder: (y) =>
    y
      .positional('action', { choices: ['ls', 'usage', 'gc', 'prune', 'rm', 'verify'] as const, demandOption: true, describe: 'what to do' })
      .positional('ref', { type: 'string', describe: 'rm: the image to remove; ls: only this image or repository — as store ls prints it (HOST/REPO:TAG, @DIGEST) or as pulled (HOST:PORT/REPO:TAG)' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'gc, prune: report, change nothing' })
      .option('untagged', { type: 'boolean', default: false, describe: 'prune: delete manifests that no tag reaches' })
      .option('repair', { type: 'boolean', default: false, describe: 'verify: drop corrupt blobs (and unlink what needs them) so the next export fetches them again' }) as unknown as Argv<StoreArgs>,
  async run(args, ctx) {
    switch (args.action) {
      case 'ls':
        return ls(args, ctx);
      case 'usage':
        return usage(args, ctx);
      case 'gc':
        return gc(args, ctx);
      case 'prune':
        return prune(args, ctx);
      case 'rm':
        if (!args.ref) throw new UsageError('ferry store rm needs the image: ferry store rm REGISTRY/REPO:TAG');
        return rm({ ...args, ref: args.ref }, ctx);
      case 'verify':
        return storeVerify(args, ctx);
    }
  },
});
