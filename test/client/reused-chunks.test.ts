import { createHash } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createReadStream, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { offerChunks, type Chunks } from '../../src/core/chunk-source.js';
import { ErrorCode, IntegrityError, MediaType, type Descriptor, type Digest } from '../../src/core/index.js';
import { verifyingStream } from '../../src/core/verified-stream.js';
import { openBlobRange, TarSpan, openRawRange } from '../../src/bundle/index.js';
import { createRegistryClient, type RegistryClient } from '../../src/registry/client/index.js';
import { rigContext } from '../rig/context.js';
import { startRegistry, type Registry } from '../rig/registry.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';

// An upload body given as chunks in reused buffers (core/chunk-source.ts: a
// bundle range) is safe only if the request writer is done with a chunk when it
// asks for the next: the buffer is refilled then. These tests pin that on the
// sockets undici really uses, against a real docker-registry, plain and over
// TLS, for the monolithic PUT and the streamed PATCH. The probe reuses ONE
// buffer, refilled at every ask, so a writer that still held a chunk would send
// the next chunk's bytes in its place: the registry's digest check at the PUT
// would refuse the blob, and the bytes read back would differ. Both are checked,
// but the first guard is the socket's own count of bytes it still holds.

const MiB = 1024 * 1024;
const bytes = Buffer.alloc(12 * MiB);
for (let i = 0; i < bytes.length; i += 32) createHash('sha256').update(`reused-${i}`).digest().copy(bytes, i);
const desc: Descriptor = {
  mediaType: MediaType.ociLayerGzip,
  digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest,
  size: bytes.length,
};

/** The socket of the upload in flight (one at a time here): undici names it as it sends a request's head. */
let uploadSocket: Socket | undefined;
/** What undici was given as each upload's body: a stream, or chunks it asks for one by one. */
const uploadBodies: string[] = [];
const onHeaders = (message: unknown): void => {
  const { request, socket } = message as { request: { method: string; body: unknown }; socket: Socket };
  if (request.method !== 'PUT' && request.method !== 'PATCH') return;
  uploadSocket = socket;
  if (request.body) uploadBodies.push(request.body instanceof Readable ? 'stream' : 'chunks');
};

/** `source` in 1 MiB chunks, all in ONE buffer: each ask records what the socket still holds, then overwrites it. */
function probe(source: Buffer, held: number[]): Chunks {
  return (async function* () {
    const buf = Buffer.alloc(MiB);
    for (let at = 0; at < source.length; at += MiB) {
      if (at > 0) held.push(uploadSocket?.writableLength ?? -1);
      const n = source.copy(buf, 0, at, at + MiB);
      yield buf.subarray(0, n);
    }
  })();
}

/** A body that proves its bytes (as a bundle range does) and offers them as the probe's chunks; read as a stream, it gives them too. */
function probedBody(source: Buffer, held: number[]): Readable {
  const body = verifyingStream(desc, 'probe');
  offerChunks(body, () => probe(source, held));
  body.end(source);
  return body;
}

const schemes: Array<[string, boolean]> = [
  ['plain http', false],
  ['TLS', true],
];

describe.skipIf(!rigContext().available).each(schemes)('reused upload buffers, %s, docker-registry', (_name, tls) => {
  let registry: Registry;
  let dir: string;
  const clients: RegistryClient[] = [];
  const client = (monolithicThreshold: number): RegistryClient => {
    const c = createRegistryClient({
      registry: registry.host,
      ...(tls ? { caCert: registry.caCertPath as string } : { plainHttp: true }),
      retries: 0,
      monolithicThreshold,
    });
    clients.push(c);
    return c;
  };
  const landed = async (repository: string): Promise<Buffer> => {
    const parts: Buffer[] = [];
    for await (const chunk of await client(MiB).repository(repository).fetch(desc)) parts.push(chunk as Buffer);
    return Buffer.concat(parts);
  };

  beforeAll(async () => {
    registry = await startRegistry({ tls });
    dir = await mkdtemp(join(tmpdir(), 'ferry-reused-chunks-'));
    subscribe('undici:client:sendHeaders', onHeaders);
  });
  afterAll(async () => {
    unsubscribe('undici:client:sendHeaders', onHeaders);
    for (const c of clients) await c.close();
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test.each([
    ['one PUT', 64 * MiB, 'reused/put'],
    ['one streamed PATCH', MiB, 'reused/patch'],
  ])('%s: the socket holds none of a chunk when the next is asked for, and the registry holds the blob', async (_what, threshold, repository) => {
    const held: number[] = [];
    uploadSocket = undefined;
    const reopen = (offset: number): Readable => Readable.from([bytes.subarray(offset)]);
    await client(threshold).repository(repository).push(desc, probedBody(bytes, held), { absent: true, reopen });
    // Every chunk after the first was asked for, each with the socket empty.
    expect(held).toEqual(new Array<number>(bytes.length / MiB - 1).fill(0));
    expect((await landed(repository)).equals(bytes)).toBe(true);
  });

  test.each([
    ['one PUT', 64 * MiB, 'range/put'],
    ['one streamed PATCH', MiB, 'range/patch'],
  ])('%s from a bundle range: the bytes land; a range that is not its digest is refused with the reader\'s message', async (_what, threshold, repository) => {
    // A file laid out as a bundle's blob: 512 bytes before it, padding after.
    const path = join(dir, `${repository.replace('/', '-')}.tar`);
    await writeFile(path, Buffer.concat([Buffer.alloc(512, 1), bytes, Buffer.alloc(512, 2)]));
    const entry = `blobs/sha256/${desc.digest.slice(7)}`;
    const range = { blob: { descriptor: desc, kind: 'layer' as const, included: true, position: 0 }, entry, start: 512 };
    uploadBodies.length = 0;
    await client(threshold).repository(repository).push(desc, openBlobRange(TarSpan.file(path, statSync(path).size), range), { absent: true, reopen: (offset) => openRawRange(TarSpan.file(path, statSync(path).size), range, offset) });
    expect(uploadBodies).toEqual(['chunks']);
    expect((await landed(repository)).equals(bytes)).toBe(true);

    const tampered = Buffer.from(bytes);
    tampered[5 * MiB + 3] ^= 0xff;
    await writeFile(path, Buffer.concat([Buffer.alloc(512, 1), tampered, Buffer.alloc(512, 2)]));
    const err = await client(threshold)
      .repository(`${repository}-tampered`)
      .push(desc, openBlobRange(TarSpan.file(path, statSync(path).size), range), { absent: true, reopen: (offset) => openRawRange(TarSpan.file(path, statSync(path).size), range, offset) })
      .then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as IntegrityError).code).toBe(ErrorCode.digestMismatch);
    expect((err as Error).message).toBe(`${entry}: digest mismatch: expected ${desc.digest}, got sha256:${createHash('sha256').update(tampered).digest('hex')}`);
    expect(await client(threshold).repository(`${repository}-tampered`).exists(desc)).toBe(false);
  });
});

describe.skipIf(!rigContext().available)('reused upload buffers, a streamed PATCH cut midway', () => {
  let registry: Registry;
  let proxy: FaultProxy;
  let dir: string;
  let cut = true;
  const clients: RegistryClient[] = [];

  beforeAll(async () => {
    registry = await startRegistry({});
    // The first PATCH loses its connection after 3 MiB.
    proxy = await startFaultProxy(new URL(registry.url), {
      pick: (_n, req) => (req.method === 'PATCH' && cut ? ((cut = false), 'cut-upload') : 'forward'),
      cutUploadAfter: () => 3 * MiB,
    });
    dir = await mkdtemp(join(tmpdir(), 'ferry-reused-cut-'));
    subscribe('undici:client:sendHeaders', onHeaders);
  });
  afterAll(async () => {
    unsubscribe('undici:client:sendHeaders', onHeaders);
    for (const c of clients) await c.close();
    await proxy?.stop();
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A client through the proxy, whose first PATCH is cut after 3 MiB. */
  const cutClient = (): RegistryClient => {
    const c = createRegistryClient({ registry: proxy.host, plainHttp: true, retries: 3, retryBaseDelayMs: 10, monolithicThreshold: MiB });
    clients.push(c);
    return c;
  };
  /** The blob as the registry holds it in `repository`, read past the proxy. */
  const held = async (repository: string): Promise<Buffer> => {
    const direct = createRegistryClient({ registry: registry.host, plainHttp: true });
    clients.push(direct);
    const parts: Buffer[] = [];
    for await (const chunk of await direct.repository(repository).fetch(desc)) parts.push(chunk as Buffer);
    return Buffer.concat(parts);
  };

  test('the chunks stop with the cut, the rest goes as a re-read stream, and the blob lands whole', async () => {
    const path = join(dir, 'bundle.tar');
    await writeFile(path, Buffer.concat([Buffer.alloc(512, 1), bytes, Buffer.alloc(512, 2)]));
    const range = { blob: { descriptor: desc, kind: 'layer' as const, included: true, position: 0 }, entry: `blobs/sha256/${desc.digest.slice(7)}`, start: 512 };
    uploadBodies.length = 0;
    await cutClient().repository('reused/cut').push(desc, openBlobRange(TarSpan.file(path, statSync(path).size), range), { absent: true, reopen: (offset) => openRawRange(TarSpan.file(path, statSync(path).size), range, offset) });
    expect(proxy.stats.faults['cut-upload']).toBe(1);
    expect(uploadBodies).toEqual(['chunks', 'stream']);
    expect((await held('reused/cut')).equals(bytes)).toBe(true);
  });

  test('a body that is only a stream: the cut resumes from the registry\'s offset and the blob lands whole', async () => {
    cut = true;
    const cutsBefore = proxy.stats.faults['cut-upload'] ?? 0;
    // Proves its bytes as read from a file and offers no chunks: undici is given the stream, and destroys it with the cut.
    const file = join(dir, 'stream-only.bin');
    await writeFile(file, bytes);
    const body = verifyingStream(desc, 'stream-only');
    pipeline(createReadStream(file, { highWaterMark: MiB }), body, () => undefined);
    uploadBodies.length = 0;
    await cutClient().repository('stream/cut').push(desc, body, { absent: true, reopen: (offset) => Readable.from([bytes.subarray(offset)]) });
    expect(proxy.stats.faults['cut-upload']).toBe(cutsBefore + 1);
    expect(uploadBodies).toEqual(['stream', 'stream']);
    expect((await held('stream/cut')).equals(bytes)).toBe(true);
  });
});
