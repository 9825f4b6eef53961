import type { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import type { Descriptor } from '../core/descriptor.js';
import type { Digest } from '../core/digest.js';
import { ErrorCode, IntegrityError } from '../core/errors.js';
import { verifyingStream } from '../core/verified-stream.js';
import type { EntryPolicy } from './entry-policy.js';
import { quoteEntryName } from './entry-policy.js';
import { blobEntryName, BundleEntry } from './format.js';
import type { DbBlob } from './manifest-db.js';
import type { BlobKind } from './manifest-db-schema.js';
import type { TarReader } from './tar-reader.js';

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

export async function* iterateBlobs(tar: TarReader, policy: EntryPolicy, expected: ReadonlyMap<Digest, DbBlob>): AsyncGenerator<BundleBlob> {
  const remaining = new Set<Digest>([...expected.values()].filter((b) => b.included).map((b) => b.descriptor.digest));
  for (;;) {
    const entry = await tar.next();
    if (!entry) break;
    const checked = policy.check(entry.header);
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
  const missing = [...remaining][0];
  if (missing) {
    throw new IntegrityError(`${blobEntryName(missing)} is missing from the bundle (listed in ${BundleEntry.sums}${remaining.size > 1 ? `, with ${remaining.size - 1} more` : ''})`, {
      code: ErrorCode.bundleInvalid,
      subject: blobEntryName(missing),
    });
  }
}
