import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll } from 'vitest';
import { sign, writeBundle } from '../../src/bundle/index.js';
import { digestOf } from '../../src/core/digest.js';
import { cloneEntries, entryNamed, writeTarEntries, type TarEntry } from '../helpers/tar-entries.js';
import { ALL_IMAGES, fetchFrom, imageInput, readTar, tempDir, testImages } from './fixtures.js';

// Changes to a bundle's head the way a forger would make them, keeping the
// chain of trust intact where the forger could (re-hashed digests, a fresh
// signature with a key they hold), so only the change under test is caught.

type HeadFile = 'index.json' | 'ferry/index.db' | 'ferry/SHA256SUMS';

/** bundle.json as text, changed by `edit` (the raw text: fields may be added as the forger likes). */
export function editBundleJson(entries: TarEntry[], edit: (doc: Record<string, unknown>) => void): void {
  const bj = entryNamed(entries, 'ferry/bundle.json');
  const doc = JSON.parse(bj.data.toString('utf8')) as Record<string, unknown>;
  edit(doc);
  bj.data = Buffer.from(`${JSON.stringify(doc, null, 2)}\n`);
}

/** bundle.json with `field` replaced by raw JSON text (for documents JSON.stringify would not produce). */
export function injectIntoBundleJson(entries: TarEntry[], rawField: string): void {
  const bj = entryNamed(entries, 'ferry/bundle.json');
  bj.data = Buffer.concat([Buffer.from(`{${rawField},`), bj.data.subarray(bj.data.indexOf('{') + 1)]);
}

/** Recomputes bundle.json's digest and size of `name` after a change. */
export function rehash(entries: TarEntry[], name: HeadFile): void {
  const data = entryNamed(entries, name).data;
  editBundleJson(entries, (doc) => {
    (doc.entries as Record<string, unknown>)[name] = { digest: digestOf(data), size: data.length };
  });
}

/** Signs bundle.json again with `privateKeyPem` (the forger's key, or a stolen one). */
export function resign(entries: TarEntry[], privateKeyPem: string): void {
  entryNamed(entries, 'ferry/bundle.json.sig').data = sign(entryNamed(entries, 'ferry/bundle.json').data, privateKeyPem);
}

/** Runs `sql` on the bundle's index.db (through a scratch file at `scratch`) and re-hashes it into bundle.json. */
export async function editIndexDb(entries: TarEntry[], scratch: string, edit: (db: Database.Database) => void): Promise<void> {
  const entry = entryNamed(entries, 'ferry/index.db');
  await writeFile(scratch, entry.data);
  const db = new Database(scratch);
  try {
    edit(db);
  } finally {
    db.close();
  }
  entry.data = await readFile(scratch);
  await rm(scratch, { force: true });
  rehash(entries, 'ferry/index.db');
}

/** `[[[…]]]` nested `depth` deep, as JSON text. */
export function nested(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

export interface GoodBundles {
  unsignedPath: string;
  signedPath: string;
  unsigned: TarEntry[];
  signed: TarEntry[];
}

/** The rig's images as one unsigned and one signed (by `privateKeyPem`) bundle in `dir`, read back as entries. */
export async function goodBundles(dir: string, privateKeyPem: string): Promise<GoodBundles> {
  const { set, blobs } = await testImages();
  const common = { images: ALL_IMAGES.map((k) => imageInput(set, k)), toolVersion: '0.1.0-test', created: new Date('2024-05-01T00:00:00Z') };
  const unsignedPath = join(dir, 'unsigned.tar');
  const signedPath = join(dir, 'signed.tar');
  await writeBundle({ ...common, fetch: fetchFrom(blobs).fetch, out: unsignedPath });
  await writeBundle({ ...common, fetch: fetchFrom(blobs).fetch, out: signedPath, signingKey: privateKeyPem });
  return { unsignedPath, signedPath, unsigned: await readTar(unsignedPath), signed: await readTar(signedPath) };
}

export interface HostileBench {
  /** The good bundles (after beforeAll). */
  readonly good: GoodBundles;
  /** A path in the bench's temp dir. */
  path(name: string): string;
  /** A copy of `from`, changed by `edit` (which may return other entries), written as a new tar. */
  hostile(from: readonly TarEntry[], edit: (entries: TarEntry[]) => void | TarEntry[] | Promise<void>): Promise<string>;
}

/** Registers beforeAll/afterAll that write the good bundles into a temp dir, and hands out hostile copies. */
export function hostileBench(prefix: string, privateKeyPem: string): HostileBench {
  let work: Awaited<ReturnType<typeof tempDir>> | undefined;
  let good: GoodBundles | undefined;
  let counter = 0;
  beforeAll(async () => {
    work = await tempDir(prefix);
    good = await goodBundles(work.dir, privateKeyPem);
  });
  afterAll(async () => {
    await work?.cleanup();
  });
  const path = (name: string): string => join(work?.dir ?? '', name);
  return {
    get good(): GoodBundles {
      if (!good) throw new Error('the bench is read in beforeAll');
      return good;
    },
    path,
    async hostile(from, edit) {
      const entries = cloneEntries(from);
      const edited = (await edit(entries)) ?? entries;
      const out = path(`hostile-${++counter}.tar`);
      await writeTarEntries(out, edited);
      return out;
    },
  };
}
