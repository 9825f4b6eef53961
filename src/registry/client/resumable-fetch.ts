import { Readable } from 'node:stream';
import { ErrorCode, NetworkError, type Descriptor, type FetchOptions } from '../../core/index.js';
import { isAbortError } from './network-error.js';
import { isTransient } from './retry/index.js';

// A blob download that survives dropped connections (containerd
// remotes/docker/httpreadseeker.go): when the body breaks (reset, timeout, early
// end), reopen with `Range: bytes=<offset>-` where it stopped, giving up after
// `maxStalls` reopenings in a row that delivered no byte. Works over any source
// whose fetch honours `offset` (a RemoteRepository, a store, a URL fetcher).
//
// For a caller writing to a resumable sink (store ingest): pass the sink's
// durable offset as `offset` and pipe the result through verifyStream seeded
// with the existing prefix.

export interface ResumableFetchOptions extends FetchOptions {
  /** Reopenings without progress before giving up (default 3). */
  maxStalls?: number;
  /** Called before each reopening, with the offset it resumes from. */
  onResume?: (offset: number, cause: unknown) => void;
}

export type OffsetFetcher = (desc: Descriptor, options: FetchOptions) => Promise<Readable>;

export function fetchResumable(fetch: OffsetFetcher, desc: Descriptor, opts: ResumableFetchOptions = {}): Readable {
  const maxStalls = opts.maxStalls ?? 3;
  async function* bytes(): AsyncGenerator<Buffer> {
    let offset = opts.offset ?? 0;
    let stalls = 0;
    while (offset < desc.size) {
      const before = offset;
      let failure: unknown;
      try {
        const stream = await fetch(desc, { offset, ...(opts.signal ? { signal: opts.signal } : {}) });
        for await (const chunk of stream) {
          const buf = chunk as Buffer;
          offset += buf.length;
          yield buf;
        }
        // A body that ended early without an error is a truncated response: resume too.
        if (offset >= desc.size) return;
        failure = new NetworkError(`${desc.digest}: the connection ended after ${offset} of ${desc.size} bytes`, { code: ErrorCode.network });
      } catch (e) {
        if (isAbortError(e) || opts.signal?.aborted || !isTransient(e)) throw e;
        failure = e;
      }
      stalls = offset > before ? 0 : stalls + 1;
      if (stalls > maxStalls) throw failure;
      opts.onResume?.(offset, failure);
    }
  }
  return Readable.from(bytes(), { objectMode: false });
}
