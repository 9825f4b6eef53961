import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Header, Pack } from 'tar-stream';

// Deterministic tar entries streamed through tar-stream, for archives other
// than the bundle (k8s preload; the bundle writer has its own encoder,
// ustar.ts, byte-identical to these headers): regular files only, mode 0644,
// uid/gid 0, empty uname/gname, mtime = bundle creation time. Every name a
// bundle uses fits the 100-byte ustar field, so no pax header is ever written,
// and no directory entries either (readers do not need them).

/** tar-stream writes mtime as a 32-bit signed number of seconds. */
export const MAX_TAR_MTIME = new Date(2 ** 31 * 1000 - 1000);

export type EntryHeader = Partial<Header> & { name: string };

export function entryHeader(name: string, size: number, mtime: Date): EntryHeader {
  return { name, size, mode: 0o644, mtime, uid: 0, gid: 0, uname: '', gname: '', type: 'file' };
}

/** Streams `source` through `through` into one tar entry; resolves once the entry is complete. */
export async function writeEntry(
  pack: Pack,
  header: EntryHeader,
  source: Readable | Buffer,
  through: readonly Transform[] = [],
  signal?: AbortSignal,
): Promise<void> {
  const input = Buffer.isBuffer(source) ? Readable.from([source]) : source;
  const sink = pack.entry(header);
  await pipeline([input, ...through, sink], signal ? { signal } : {});
}
