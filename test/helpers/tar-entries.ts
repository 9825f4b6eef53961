import { createReadStream, createWriteStream } from 'node:fs';
import { truncate } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { extract, pack, type Header } from 'tar-stream';

// Tar surgery for hostile-bundle tests: read a (test-sized) bundle as entries,
// change them the way an attacker or a failing USB stick would, write them
// back. Headers keep whatever type and name the test crafted.

export interface TarEntry {
  header: Partial<Header> & { name: string };
  data: Buffer;
}

export async function readTarEntries(path: string): Promise<TarEntry[]> {
  const out: TarEntry[] = [];
  const ex = extract();
  const done = pipeline(createReadStream(path), ex);
  for await (const entry of ex) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    out.push({ header: { ...entry.header }, data: Buffer.concat(chunks) });
  }
  await done;
  return out;
}

export async function writeTarEntries(path: string, entries: readonly TarEntry[], opts: { truncateTo?: number } = {}): Promise<void> {
  const p = pack();
  const done = pipeline(p, createWriteStream(path));
  for (const e of entries) {
    const isFile = (e.header.type ?? 'file') === 'file';
    await new Promise<void>((resolve, reject) => {
      const header = { mode: 0o644, mtime: new Date(0), ...e.header, size: isFile ? e.data.length : 0 };
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (isFile) p.entry(header, e.data, cb);
      else p.entry(header, cb); // links, directories: no body
    });
  }
  p.finalize();
  await done;
  if (opts.truncateTo !== undefined) await truncate(path, opts.truncateTo);
}

export function cloneEntries(entries: readonly TarEntry[]): TarEntry[] {
  return entries.map((e) => ({ header: { ...e.header }, data: Buffer.from(e.data) }));
}

export function entryNamed(entries: readonly TarEntry[], name: string): TarEntry {
  const found = entries.find((e) => e.header.name === name);
  if (!found) throw new Error(`no tar entry ${name}`);
  return found;
}

export const BLOB_ENTRY = /^blobs\/sha256\/([0-9a-f]{64})$/;

/** The largest blob entry: a layer, the bytes an importer streams to the registry. */
export function largestBlob(entries: readonly TarEntry[]): TarEntry {
  const blobs = entries.filter((e) => BLOB_ENTRY.test(e.header.name));
  const largest = blobs.reduce<TarEntry | undefined>((best, e) => (!best || e.data.length > best.data.length ? e : best), undefined);
  if (!largest) throw new Error('no blob entries');
  return largest;
}
