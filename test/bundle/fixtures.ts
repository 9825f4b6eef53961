import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract, pack, type Header } from 'tar-stream';
import { expect } from 'vitest';
import type { Descriptor } from '../../src/core/descriptor.js';
import { ExitCode, IntegrityError } from '../../src/core/errors.js';
import type { BundleImageInput, FetchBlob } from '../../src/bundle/index.js';
import type { BlobSet, RigDescriptor } from '../rig/image-blobs.js';
import type { RigImage, RigImageKey } from '../rig/image-set.js';
import { buildTestImages, type BuiltTestImages } from '../rig/images.js';

// Inputs for bundle tests: the rig's real test images (gzip'd tar layers,
// configs, an OCI index, Docker schema2, a Windows image with a foreign layer,
// an SBOM referrer, a cosign signature) served from memory through the same
// fetch function shape the store provides, and tar surgery for hostile bundles.

export const REGISTRY = 'registry.example:5000';
let built: Promise<BuiltTestImages> | undefined;

export function testImages(): Promise<BuiltTestImages> {
  built ??= buildTestImages({ foreignBaseUrl: 'http://127.0.0.1:9' });
  return built;
}

export interface CountingFetch {
  fetch: FetchBlob;
  /** How many times each digest was fetched. */
  calls: Map<string, number>;
}

/** A fetch over the rig's blob set that records every call (to prove each blob is read once). */
export function fetchFrom(blobs: BlobSet): CountingFetch {
  const calls = new Map<string, number>();
  const fetch: FetchBlob = async (desc: Descriptor) => {
    calls.set(desc.digest, (calls.get(desc.digest) ?? 0) + 1);
    return Readable.from([blobs.get(desc.digest)]);
  };
  return { fetch, calls };
}

export function descriptorOf(d: RigDescriptor): Descriptor {
  const out: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  if (d.urls) out.urls = [...d.urls];
  return out;
}

export function fullName(image: RigImage): string {
  return `${REGISTRY}/${image.reference}`;
}

/** A writeBundle image entry for a rig image; appA carries its SBOM referrer. */
export function imageInput(set: BuiltTestImages['set'], key: RigImageKey): BundleImageInput {
  const image = set.images[key];
  const input: BundleImageInput = { name: fullName(image), root: descriptorOf(image) };
  if (key === 'appA') input.referrers = [descriptorOf(set.images.sbom)];
  return input;
}

export const ALL_IMAGES: readonly RigImageKey[] = ['appA', 'appB', 'multi', 'docker', 'windows', 'signature', 'referrersIndex'];
export const OCI_IMAGES: readonly RigImageKey[] = ['appA', 'appB', 'multi'];

export async function tempDir(prefix = 'ferry-bundle-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface RawEntry {
  header: Partial<Header> & { name: string };
  data: Buffer;
}

/** Every entry of a (small, test-sized) tar, in order. */
export async function readTar(path: string): Promise<RawEntry[]> {
  const out: RawEntry[] = [];
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

/** Writes entries as a tar; headers keep whatever type/name the test crafted. */
export async function writeTar(path: string, entries: readonly RawEntry[], opts: { truncateTo?: number } = {}): Promise<void> {
  const p = pack();
  const out = createWriteStream(path);
  const done = pipeline(p, out);
  for (const e of entries) {
    const isFile = (e.header.type ?? 'file') === 'file';
    await new Promise<void>((resolve, reject) => {
      const header = { mode: 0o644, mtime: new Date(0), ...e.header, size: isFile ? e.data.length : 0 };
      if (isFile) p.entry(header, e.data, (err) => (err ? reject(err) : resolve()));
      else p.entry(header, (err) => (err ? reject(err) : resolve())); // links, dirs, devices: no body
    });
  }
  p.finalize();
  await done;
  if (opts.truncateTo !== undefined) {
    const { truncate } = await import('node:fs/promises');
    await truncate(path, opts.truncateTo);
  }
}

/** Asserts `promise` rejects with an IntegrityError (exit 5) of `code` whose one-line message names `culprit`. */
export async function expectIntegrity(promise: Promise<unknown>, code: string, culprit: string): Promise<IntegrityError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected the bundle to be refused').toBeInstanceOf(IntegrityError);
  const e = err as IntegrityError;
  if (process.env.FERRY_SHOW_ERRORS) console.info(`[${e.code}] ${e.message}`);
  expect(e.exitCode).toBe(ExitCode.integrity);
  expect(e.code).toBe(code);
  expect(e.message).toContain(culprit);
  expect(e.message).not.toContain('\n');
  return e;
}
