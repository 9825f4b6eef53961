import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach } from 'vitest';
import { MediaType, digestOf, type Descriptor, type Digest, type MediaTypeName } from '../../../src/core/index.js';
import { openStore, type OpenStoreOptions, type Store } from '../../../src/store/index.js';

/** A fresh store in a temp dir; `cleanup` closes it and removes the dir. */
export async function tempStore(options: OpenStoreOptions = {}): Promise<{ store: Store; dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-store-'));
  const store = await openStore(dir, options);
  return {
    store,
    dir,
    cleanup: async () => {
      await store.close().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** For a test file: `fresh()` opens a new temp store, closed and removed after each test. Call at the top level. */
export function useTempStores(): (options?: OpenStoreOptions) => Promise<{ store: Store; dir: string }> {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()?.();
  });
  return async (options) => {
    const t = await tempStore(options);
    cleanups.push(t.cleanup);
    return t;
  };
}

/** A controllable clock: tests move time instead of sleeping. */
export function manualClock(start = Date.UTC(2025, 0, 1)): { now: () => number; advance: (ms: number) => void; set: (t: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms), set: (v) => (t = v) };
}

/** Deterministic bytes for a small test blob. */
export function bytesFor(seed: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(seed).digest();
  for (let i = 0; i < size; i += block.length) {
    block.copy(out, i);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

export interface Blob {
  desc: Descriptor;
  bytes: Buffer;
}

export function blob(bytes: Buffer, mediaType: MediaTypeName = MediaType.ociLayerGzip, extra: Partial<Descriptor> = {}): Blob {
  return { bytes, desc: { mediaType, digest: digestOf(bytes), size: bytes.length, ...extra } };
}

export function layer(seed: string, size: number, extra: Partial<Descriptor> = {}): Blob {
  return blob(bytesFor(seed, size), MediaType.ociLayerGzip, extra);
}

export function config(seed: string): Blob {
  return blob(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', seed })), MediaType.ociConfig);
}

/** An OCI image manifest over a config and layers (optionally a referrer of `subject`). */
export function imageManifest(cfg: Blob, layers: Blob[], extra: { subject?: Descriptor; artifactType?: string; annotations?: Record<string, string> } = {}): Blob {
  const doc: Record<string, unknown> = { schemaVersion: 2, mediaType: MediaType.ociManifest, config: cfg.desc, layers: layers.map((l) => l.desc) };
  if (extra.artifactType) doc.artifactType = extra.artifactType;
  if (extra.subject) doc.subject = extra.subject;
  if (extra.annotations) doc.annotations = extra.annotations;
  return blob(Buffer.from(JSON.stringify(doc)), MediaType.ociManifest);
}

export function imageIndex(manifests: Descriptor[]): Blob {
  return blob(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests })), MediaType.ociIndex);
}

export function body(bytes: Buffer): Readable {
  return Readable.from([bytes]);
}

/** Names of the committed blob files. */
export async function blobFiles(dir: string): Promise<string[]> {
  return (await readdir(join(dir, 'blobs', 'sha256'))).sort();
}

export async function ingestFiles(dir: string): Promise<string[]> {
  return (await readdir(join(dir, 'ingest'))).sort();
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export const hexOf = (d: Digest): string => d.slice('sha256:'.length);

/** Pushes an image's blobs, then its manifest, and tags it. */
export async function pushImage(store: Store, repo: string, tag: string, blobs: Blob[], manifest: Blob): Promise<void> {
  const r = store.repository(repo);
  for (const b of blobs) await r.push(b.desc, body(b.bytes));
  await r.push(manifest.desc, body(manifest.bytes));
  await r.tag(tag, manifest.desc);
}
