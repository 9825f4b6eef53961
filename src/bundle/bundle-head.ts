import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { KeyObject } from 'node:crypto';
import { digestOf } from '../core/digest.js';
import { createDigester } from '../core/hashing.js';
import { buildBundleJson } from './bundle-json-build.js';
import { formatSha256Sums } from './checksums.js';
import { BundleEntry, OCI_LAYOUT_BYTES, blobEntryName, serializeBundleJson, type BundleJson, type EntryDigest } from './format.js';
import type { FetchBlob, LocalFile, WalkResult } from './graph-walk.js';
import { buildIndexJson } from './index-json.js';
import { buildManifestDb } from './manifest-db-build.js';
import { ManifestDb } from './manifest-db.js';
import type { Descriptor } from '../core/descriptor.js';
import type { PlacedEntry } from './placed-writer.js';
import { sign } from './sign.js';
import { tarEntryBytes, type ToolInput } from './tool-entries.js';

// A bundle's head (index.json, index.db, SHA256SUMS, then bundle.json over
// their digests and its signature), the ferry releases it carries, and the whole tar as a list of entries in
// order: what the writer serialises (placed-writer.ts), whole or one volume (design §4: the same input gives the same bytes).

/** The head entries around index.db, which is a file (hashed as bundle.json names it), then the releases carried. */
export interface BundleHead {
  before: ReadonlyArray<readonly [string, Buffer]>;
  indexDb: EntryDigest & { path: string };
  after: ReadonlyArray<readonly [string, Buffer]>;
  tools: readonly ToolInput[];
  bundleJson: BundleJson;
}

export interface HeadInput {
  created: Date;
  toolVersion: string;
  key: KeyObject | undefined;
  keyId: string | null;
  /** ferry releases carried right after the head (`ferry/tool/…`). */
  tools?: readonly ToolInput[];
}

/** Tar bytes of the head entries alone (without the releases). */
export function headTarBytes(head: BundleHead): number {
  return [...head.before, ...head.after].reduce((n, [, bytes]) => n + tarEntryBytes(bytes.length), tarEntryBytes(head.indexDb.size));
}

async function fileDigest(path: string): Promise<EntryDigest> {
  const digester = createDigester();
  await pipeline(createReadStream(path), digester, async (source: AsyncIterable<unknown>) => {
    for await (const _ of source) {
      // hashed in passing
    }
  });
  return { digest: digester.digest(), size: digester.bytes };
}

/** Builds the head for `walk`; index.db is written into `work` (a scratch directory the caller removes). */
export async function buildHead(walk: WalkResult, input: HeadInput, work: string): Promise<BundleHead> {
  const included = walk.graph.blobs.filter((b) => b.included);
  const dbPath = join(work, 'index.db');
  await buildManifestDb(walk.graph, dbPath, work);
  const indexJson = buildIndexJson(walk.graph.images);
  const tools = input.tools ?? [];
  const sums = formatSha256Sums(included.map((b) => b.descriptor.digest), tools);
  const db = ManifestDb.open(dbPath);
  const indexDb = await fileDigest(dbPath);
  let bundleJson: BundleJson;
  try {
    bundleJson = buildBundleJson({
      graph: walk.graph,
      db,
      created: input.created,
      toolVersion: input.toolVersion,
      keyId: input.keyId,
      indexJson: { digest: digestOf(indexJson), size: indexJson.length },
      indexDb,
      sums: { digest: digestOf(sums), size: sums.length },
      releases: tools.map(({ path: _, ...release }) => release),
    });
  } finally {
    db.close();
  }
  const bundleJsonBytes = serializeBundleJson(bundleJson);
  return {
    before: [
      [BundleEntry.ociLayout, OCI_LAYOUT_BYTES],
      [BundleEntry.bundleJson, bundleJsonBytes],
      ...(input.key ? [[BundleEntry.signature, sign(bundleJsonBytes, input.key)] as const] : []),
      [BundleEntry.indexJson, indexJson],
    ],
    indexDb: { path: dbPath, ...indexDb },
    after: [[BundleEntry.sums, sums]],
    tools,
    bundleJson,
  };
}

/** Where the blobs' bytes come from, for bundleEntries. */
export interface EntrySources {
  localFile?: LocalFile | undefined;
  /** For a blob with no local file. */
  fetch?: FetchBlob | undefined;
  /** See WriteBundleOptions.hashedHere. */
  hashedHere?: ((desc: Descriptor) => boolean) | undefined;
  /** Names the source in errors; default "the source". */
  from?: string;
}

/**
 * Every entry of the tar in order: the head, then each carried blob — from
 * memory when the walk read it (manifests, configs: verified then), else from
 * its local file, else from `fetch`; checked against its digest when copied
 * (its size only when this process hashed that file as it wrote it).
 */
export function bundleEntries(head: BundleHead, walk: WalkResult, sources: EntrySources): PlacedEntry[] {
  const source = sources.from ?? 'the source';
  const { fetch } = sources;
  const entries: PlacedEntry[] = [
    ...head.before.map(([name, bytes]) => ({ name, bytes })),
    { name: BundleEntry.indexDb, file: head.indexDb.path, expected: head.indexDb, subject: BundleEntry.indexDb },
    ...head.after.map(([name, bytes]) => ({ name, bytes })),
    ...head.tools.map((t) => ({ name: t.entry, file: t.path, expected: t, subject: t.entry, carried: true })),
  ];
  for (const blob of walk.graph.blobs) {
    if (!blob.included) continue;
    const desc = blob.descriptor;
    const name = blobEntryName(desc.digest);
    const held = walk.metadata.get(desc.digest);
    const subject = `blob ${desc.digest} from ${source}`;
    const path = held ? undefined : sources.localFile?.(desc);
    if (held) entries.push({ name, bytes: held, carried: true });
    else if (path !== undefined) entries.push({ name, file: path, expected: desc, subject, carried: true, ...(sources.hashedHere?.(desc) ? { sizeOnly: true } : {}) });
    else if (fetch) entries.push({ name, open: () => fetch(desc), expected: desc, subject, carried: true });
    else throw new Error(`no source for ${subject}`);
  }
  return entries;
}
