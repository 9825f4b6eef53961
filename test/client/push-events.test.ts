import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaType, type Descriptor, type FerryEvent } from '../../src/core/index.js';
import { createRegistryClient, type RegistryClient } from '../../src/registry/client/index.js';
import { openStore } from '../../src/store/index.js';
import { rigContext } from '../rig/context.js';
import { startRegistry, type Registry } from '../rig/registry.js';

// Issue 15.2: a push reports what the target took through the one progress
// channel (PushOptions.onEvent), as `bytes` events of the blob pushed — for the
// registry client's three ways up (one request, chunks, one streamed PATCH)
// and for the store. No parallel onProgress callback remains.

const MiB = 1024 * 1024;

function blob(label: string, size: number): { bytes: Buffer; desc: Descriptor } {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i += 32) createHash('sha256').update(`${label}-${i}`).digest().copy(bytes, i);
  const desc: Descriptor = { mediaType: MediaType.ociLayerGzip, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Descriptor['digest'], size };
  return { bytes, desc };
}

/** A sink that sums the bytes reported per digest. */
function summing(): { onEvent: (e: FerryEvent) => void; bytes: Map<string, number> } {
  const bytes = new Map<string, number>();
  return {
    bytes,
    onEvent: (e) => {
      if (e.type === 'bytes' && e.descriptor) bytes.set(e.descriptor.digest, (bytes.get(e.descriptor.digest) ?? 0) + e.bytes);
    },
  };
}

describe.skipIf(!rigContext().available)('a push reports its bytes through the event sink', () => {
  let registry: Registry;
  let client: RegistryClient;
  beforeAll(async () => {
    registry = await startRegistry({});
    // 1 MiB threshold and chunks: 3 MiB blobs go up in chunks, or streamed when the source can be reopened.
    client = createRegistryClient({ registry: registry.host, plainHttp: true, monolithicThreshold: MiB, chunkSize: MiB });
  });
  afterAll(async () => {
    await client?.close();
    await registry?.stop();
  });

  it('to a registry: one request, chunks and a streamed PATCH each report every byte', async () => {
    const repo = client.repository('events/push');
    const small = blob('small', 200 * 1024);
    const chunked = blob('chunked', 3 * MiB + 5);
    const streamed = blob('streamed', 3 * MiB + 7);
    const sink = summing();
    await repo.push(small.desc, Readable.from([small.bytes]), { onEvent: sink.onEvent });
    await repo.push(chunked.desc, Readable.from([chunked.bytes]), { onEvent: sink.onEvent });
    await repo.push(streamed.desc, Readable.from([streamed.bytes]), { onEvent: sink.onEvent, reopen: (offset) => Readable.from([streamed.bytes.subarray(offset)]) });
    expect(Object.fromEntries(sink.bytes)).toEqual({
      [small.desc.digest]: small.desc.size,
      [chunked.desc.digest]: chunked.desc.size,
      [streamed.desc.digest]: streamed.desc.size,
    });
  });

  it('to the store: every byte written is reported', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-push-events-'));
    const store = await openStore(join(dir, 'store'));
    try {
      const one = blob('store', 2 * MiB + 3);
      const sink = summing();
      await store.repository('events/push').push(one.desc, Readable.from([one.bytes]), { onEvent: sink.onEvent });
      expect(Object.fromEntries(sink.bytes)).toEqual({ [one.desc.digest]: one.desc.size });
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
