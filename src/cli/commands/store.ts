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

const REF_DESCRIBE = 'as store ls prints it (HOST/REPO:TAG, @DIGEST) or as pulled (HOST:PORT/REPO:TAG)';
const DRY_RUN = { type: 'boolean', default: false, describe: 'report, change nothing' } as const;

const lsCommand = defineCommand<GlobalArgs & { ref?: string }>({
  command: 'ls [ref]',
  describe: 'list the images in the store (REPOSITORY, TAG, DIGEST)',
  builder: (y) => y.positional('ref', { type: 'string', describe: `only this image or repository, ${REF_DESCRIBE}` }) as unknown as Argv<GlobalArgs & { ref?: string }>,
  examples: [
    ['ferry store ls', 'every image in the store'],
    ['ferry store ls docker.io/library/nginx', 'the tags of one repository'],
    ['ferry store ls --json', 'the same as a JSON document'],
  ],
  docs: 'docs/site-registry.md',
  run: ls,
});

const usageCommand = defineCommand<GlobalArgs>({
  command: 'usage',
  describe: 'how much space the store takes, per image: unique and shared bytes',
  builder: (y) => y,
  examples: [
    ['ferry store usage', 'size of every image, and what deleting it would free'],
    ['ferry store usage --json', 'the same as a JSON document'],
  ],
  docs: 'docs/troubleshooting.md',
  run: usage,
});

const gcCommand = defineCommand<GlobalArgs & { 'dry-run': boolean }>({
  command: 'gc',
  describe: 'remove blobs and manifests no tag reaches, and abandoned ingests',
  builder: (y) => y.option('dry-run', DRY_RUN) as unknown as Argv<GlobalArgs & { 'dry-run': boolean }>,
  examples: [
    ['ferry store gc --dry-run', 'what would be freed'],
    ['ferry store gc', 'free it'],
  ],
  docs: 'docs/troubleshooting.md',
  run: gc,
});

const pruneCommand = defineCommand<GlobalArgs & { 'dry-run': boolean; untagged: boolean }>({
  command: 'prune',
  describe: 'delete manifests that no tag reaches (then ferry store gc frees their blobs)',
  builder: (y) =>
    y
      .option('untagged', { type: 'boolean', default: false, describe: 'delete manifests that no tag reaches (required: the only kind of prune there is)' })
      .option('dry-run', DRY_RUN) as unknown as Argv<GlobalArgs & { 'dry-run': boolean; untagged: boolean }>,
  examples: [
    ['ferry store prune --untagged --dry-run', 'what would be deleted'],
    ['ferry store prune --untagged && ferry store gc', 'delete, then free the space'],
  ],
  docs: 'docs/troubleshooting.md',
  run: prune,
});

const rmCommand = defineCommand<GlobalArgs & { ref: string }>({
  command: 'rm <ref>',
  describe: 'untag an image (or delete a manifest by digest); ferry store gc frees the space',
  builder: (y) => y.positional('ref', { type: 'string', demandOption: true, describe: `the image to remove, ${REF_DESCRIBE}` }) as unknown as Argv<GlobalArgs & { ref: string }>,
  examples: [
    ['ferry store rm docker.io/library/nginx:1.25', 'untag one image'],
    ['ferry store rm docker.io/library/nginx@sha256:…', 'delete a manifest by digest'],
  ],
  docs: 'docs/site-registry.md',
  run: rm,
});

const verifyCommand = defineCommand<GlobalArgs & { repair: boolean }>({
  command: 'verify',
  describe: 'check every blob of the store against its digest (--repair drops what is corrupt)',
  builder: (y) =>
    y.option('repair', { type: 'boolean', default: false, describe: 'drop corrupt blobs (and unlink what needs them) so the next export fetches them again' }) as unknown as Argv<
      GlobalArgs & { repair: boolean }
    >,
  examples: [
    ['ferry store verify', 'report what is corrupt, change nothing'],
    ['ferry store verify --repair', 'drop it, so the next export fetches it again'],
  ],
  docs: 'docs/troubleshooting.md',
  run: storeVerify,
});

export const storeCommand = defineCommand<GlobalArgs>({
  command: 'store',
  describe: 'look after the local store: ls, usage, gc, prune, rm, verify',
  builder: (y) => y,
  subcommands: [lsCommand, usageCommand, gcCommand, pruneCommand, rmCommand, verifyCommand],
  examples: [
    ['ferry store ls', 'what the store holds'],
    ['ferry store usage', 'how much space each image takes'],
    ['ferry store prune --untagged && ferry store gc', 'free what no tag reaches'],
  ],
  docs: 'docs/site-registry.md',
});
