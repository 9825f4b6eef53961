import { Writable, type Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import type { Descriptor } from '../core/descriptor.js';
import type { Digest } from '../core/digest.js';
import { ErrorCode, IntegrityError } from '../core/errors.js';
import { verifyingStream } from '../core/verified-stream.js';
import type { EntryPolicy } from './entry-policy.js';
import { quoteEntryName } from './entry-policy.js';
import { blobEntryName, BundleEntry, type BundleRelease } from './format.js';
import type { DbBlob } from './manifest-db.js';
import type { BlobKind } from './manifest-db-schema.js';
import type { TarEntry, TarReader } from './tar-reader.js';

// The blob entries of a bundle, in tar order, each as a stream verified while
// it is read (size and digest against index.db / SHA256SUMS). A consumer pipes
// the stream where it wants (a registry upload, the store's ingest); whatever
// it leaves unread is drained — and still verified — before the next entry.
// Destroying a yielded stream aborts the whole read (tar-stream cannot skip).

export interface BundleBlob {
  /** mediaType, digest and size from index.db; `urls` for a foreign layer. */
  descriptor: Descriptor;
  kind: BlobKind;
  /** The tar entry name: blobs/sha256/<hex>. */
  entry: string;
  /** The blob's bytes, verified as they flow: errors with an IntegrityError on a mismatch. */
  stream: Readable;
}

export async function* iterateBlobs(
  tar: TarReader,
  policy: EntryPolicy,
  expected: ReadonlyMap<Digest, DbBlob>,
  releases: readonly BundleRelease[] = [],
): AsyncGenerator<BundleBlob> {
  const remaining = new Set<Digest>([...expected.values()].filter((b) => b.included).map((b) => b.descriptor.digest));
  const tools = new Map(releases.map((r) => [r.entry, r]));
  for (;;) {
    const entry = await tar.next();
    if (!entry) break;
    const checked = policy.check(entry.header);
    if (checked.kind === 'tool') {
      await checkTool(tar, entry, tools);
      continue;
    }
    missingTool(tools);
    if (checked.kind !== 'blob') throw new IntegrityError(`bundle entry ${quoteEntryName(checked.name)} appears after the blobs`, { code: ErrorCode.bundleInvalid, subject: checked.name });
    const blob = expected.get(checked.digest);
    if (!blob?.included) {
      throw new IntegrityError(`bundle entry ${quoteEntryName(checked.name)} is not listed in ${BundleEntry.sums}`, { code: ErrorCode.bundleInvalid, subject: checked.name });
    }
    const size = entry.header.size ?? 0;
    if (size !== blob.descriptor.size) {
      throw new IntegrityError(`${checked.name}: size mismatch: expected ${blob.descriptor.size} bytes, the entry has ${size}`, {
        code: ErrorCode.sizeMismatch,
        subject: checked.name,
        expected: String(blob.descriptor.size),
        actual: String(size),
      });
    }
    remaining.delete(checked.digest);
    const verified = verifyingStream(blob.descriptor, checked.name);
    // Settles (never rejects) so an error the consumer is already handling is not unhandled here.
    const copied = pipeline(entry.stream, verified).then(
      () => undefined,
      (err: unknown) => err,
    );
    yield { descriptor: blob.descriptor, kind: blob.kind, entry: checked.name, stream: verified };
    if (!verified.readableEnded && !verified.destroyed) verified.resume();
    const failure = await copied;
    if (failure !== undefined) throw tar.translate(failure);
    await finished(verified).catch((err: unknown) => {
      throw tar.translate(err);
    });
  }
  missingTool(tools);
  const missing = [...remaining][0];
  if (missing) {
    throw new IntegrityError(`${blobEntryName(missing)} is missing from the bundle (listed in ${BundleEntry.sums}${remaining.size > 1 ? `, with ${remaining.size - 1} more` : ''})`, {
      code: ErrorCode.bundleInvalid,
      subject: blobEntryName(missing),
    });
  }
}

/** A carried ferry release: listed in bundle.json, its bytes verified as they are read past (nothing uses them here). */
async function checkTool(tar: TarReader, entry: TarEntry, tools: Map<string, BundleRelease>): Promise<void> {
  const { name, size = 0 } = entry.header;
  const release = tools.get(name);
  if (!release) throw new IntegrityError(`bundle entry ${quoteEntryName(name)} is not listed in ${BundleEntry.bundleJson} releases`, { code: ErrorCode.bundleInvalid, subject: name });
  if (size !== release.size) {
    throw new IntegrityError(`${name}: size mismatch: expected ${release.size} bytes, the entry has ${size}`, { code: ErrorCode.sizeMismatch, subject: name, expected: String(release.size), actual: String(size) });
  }
  tools.delete(name);
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  await pipeline(entry.stream, verifyingStream(release, name), sink).catch((err: unknown) => {
    throw tar.translate(err);
  });
}

/** Releases precede the blobs: one still unseen at the first blob (or the end) is missing. */
function missingTool(tools: ReadonlyMap<string, BundleRelease>): void {
  const [entry] = tools.keys();
  if (entry !== undefined) {
    throw new IntegrityError(`${entry} is missing from the bundle: ${BundleEntry.bundleJson} lists it, before the first blob`, { code: ErrorCode.bundleInvalid, subject: entry });
  }
}
