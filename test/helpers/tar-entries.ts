// Tar surgery for hostile-bundle tests: read a (test-sized) bundle as entries,
// change them the way an attacker or a failing USB stick would, write them
// back. Reading and writing are the bundle tests' fixtures.
export { readTar as readTarEntries, writeTar as writeTarEntries, type RawEntry as TarEntry } from '../bundle/fixtures.js';
import type { RawEntry as TarEntry } from '../bundle/fixtures.js';

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
