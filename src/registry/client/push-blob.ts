import { pipeline, type Readable } from 'node:stream';
import { ErrorCode, IntegrityError, isDigest, verifyStream, type Descriptor, type PushOptions } from '../../core/index.js';
import { ByteTap } from '../../core/byte-tap.js';
import { takeChunks, watchChunks, type WatchedChunks } from '../../core/chunk-source.js';
import { isVerifiedAs } from '../../core/verified-stream.js';
import { blobExists, blobSubject } from './blobs.js';
import { sendChunks } from './chunked-upload.js';
import { sendStreamed, type Reopen } from './streamed-upload.js';
import type { RepoContext } from './repo-context.js';
import { headerOf, type HttpResponse } from './transport/exchange.js';
import { cancelUpload, commitUpload, initiateUpload } from './upload-steps.js';

// Pushing one blob (ggcr write.go uploadOne): HEAD and skip what exists →
// POST to start a session → one streamed PUT for small blobs; for large ones one
// streamed, resumable PATCH when the source can be re-read from any byte
// (streamed-upload.ts), else chunked PATCHes; then a PUT. The source flows through core verifyStream on the
// way, so a source that is not `desc` fails the upload and the session is
// cancelled: the registry commits nothing. Not retried here: the body is a
// one-shot stream, so the owner (copyGraph) retries the whole push.
//
// A body that proves its own bytes and offers them as chunks in reused buffers
// (a bundle range: core/chunk-source.ts) goes to undici as an async iterable,
// not a stream: undici's writeIterable writes a chunk and, when socket.write
// answers false, waits for 'drain' (the socket has handed every byte to the
// kernel, or to TLS, which copies them) before it asks for the next chunk. A
// socket answers false once it holds its highWaterMark (16 KiB), and every chunk
// but a blob's last is 1 MiB, so no buffer is refilled while the socket holds
// it. test/client/reused-chunks pins that against a real registry, over
// TLS too. A reuse bug would also fail loudly: the registry checks the digest
// of what it received at the PUT.


async function drain(body: Readable): Promise<void> {
  body.on('error', () => undefined);
  for await (const _ of body) {
    // the target has it; consume the source so a tar reader can move on
  }
}

export async function pushBlob(ctx: RepoContext, desc: Descriptor, body: Readable, opts: PushOptions = {}): Promise<void> {
  const { signal } = opts;
  let started: Awaited<ReturnType<typeof initiateUpload>>;
  try {
    if (!opts.absent && (await blobExists(ctx, desc.digest, signal))) {
      await drain(body);
      return;
    }
    started = await initiateUpload(ctx, undefined, signal);
  } catch (e) {
    // The body is ours to end: an unread response body keeps its request (and the agent's close) waiting forever.
    body.destroy();
    throw e;
  }
  if (started.mounted) {
    body.destroy();
    return;
  }
  let location = started.location;
  let sourceError: unknown;
  let integrityError: IntegrityError | undefined;
  // A body that already proves these bytes (a bundle reader's blob) is not hashed a second time.
  const verify = isVerifiedAs(body, desc) ? undefined : verifyStream(desc, blobSubject(ctx, desc.digest));
  verify?.on('error', (e) => {
    if (e instanceof IntegrityError) integrityError = e;
  });
  body.on('error', (e) => {
    sourceError ??= e;
    if (e instanceof IntegrityError) integrityError ??= e;
  });
  const monolithic = desc.size <= ctx.monolithicThreshold;
  // Large: one streamed PATCH when the source can be read again from any byte, else chunks held in memory.
  const streamed = !monolithic && opts.reopen !== undefined;
  // pipeline, not pipe: a failing source must fail the request body too.
  const ignore = (): void => undefined;
  const checked: Readable = verify ? pipeline(body, verify, ignore) : body;
  const { onEvent } = opts;
  const tapped = onEvent && (monolithic || streamed) ? new ByteTap((bytes) => onEvent({ type: 'bytes', descriptor: desc, bytes })) : undefined;
  const verified: Readable = tapped ? pipeline(checked, tapped, ignore) : checked;
  // Reused buffers only when nothing of ours stands between the source and undici.
  const taken = !verify && !tapped && (monolithic || streamed) ? takeChunks(body) : undefined;
  const chunks: WatchedChunks | undefined = taken && watchChunks(taken, (e) => {
    sourceError ??= e;
    if (e instanceof IntegrityError) integrityError ??= e;
  });
  let committed: HttpResponse;
  try {
    if (monolithic) {
      committed = await commitUpload(ctx, location, desc.digest, { data: chunks?.chunks ?? verified, length: desc.size }, signal);
    } else {
      location = streamed
        ? await sendStreamed(ctx, location, desc, chunks ?? verified, opts.reopen as Reopen, blobSubject(ctx, desc.digest), signal)
        : await sendChunks(ctx, location, verified, onEvent ? { descriptor: desc, onEvent } : undefined, signal);
      // Every byte is with the registry, but only a clean end of the source proves them. A streamed PATCH
      // judged the body that finished it (sendStreamed returns only once it ended cleanly): an error of the
      // first body there is the cut it resumed from (undici destroys the body with the socket's error).
      const failed = streamed ? integrityError : (integrityError ?? sourceError);
      if (failed) throw failed;
      committed = await commitUpload(ctx, location, desc.digest, undefined, signal);
    }
  } catch (e) {
    verified.destroy();
    // Our own verdict on the bytes beats whatever the registry or the socket said.
    const cause = integrityError ?? (streamed ? undefined : sourceError) ?? e;
    // A commit whose answer was lost may have landed: the blob is there, so the push is done.
    if (cause === e && (await blobExists(ctx, desc.digest, signal).catch(() => false))) return;
    await cancelUpload(ctx, location);
    throw cause;
  }
  const claimed = headerOf(committed.headers, 'docker-content-digest');
  if (isDigest(claimed) && claimed !== desc.digest) {
    const subject = blobSubject(ctx, desc.digest);
    throw new IntegrityError(`${subject}: the registry committed the blob as ${claimed}`, { code: ErrorCode.digestMismatch, subject, expected: desc.digest, actual: claimed });
  }
}
