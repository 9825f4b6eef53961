import { open, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, inspectBundle, verifyBundle, writeBundle, type WriteBundleResult } from '../../src/bundle/index.js';
import { ErrorCode } from '../../src/core/errors.js';
import { ALL_IMAGES, expectIntegrity, fetchFrom, fullName, imageInput, tempDir, testImages } from './fixtures.js';

// inspect answers from the head alone: a bundle whose head is followed by a
// 100 GiB sparse tail (or by garbage) is inspected after reading a few hundred
// KiB, while verify of the same file fails on the first blob header.

const keys = generateKeyPair();
const HUNDRED_GIB = 100 * 1024 ** 3;
let work: Awaited<ReturnType<typeof tempDir>>;
let good: string;
let written: WriteBundleResult;
let headBytes: number;

beforeAll(async () => {
  work = await tempDir('ferry-inspect-');
  const { set, blobs } = await testImages();
  good = join(work.dir, 'good.tar');
  written = await writeBundle({
    images: ALL_IMAGES.map((k) => imageInput(set, k)),
    fetch: fetchFrom(blobs).fetch,
    out: good,
    signingKey: keys.privateKeyPem,
    created: new Date('2024-07-01T00:00:00Z'),
    toolVersion: '0.1.0-test',
  });
  headBytes = (await inspectBundle(good)).headBytes;
});

afterAll(async () => {
  await work.cleanup();
});

/** The good bundle's head, then whatever `tail` writes. */
async function headThen(name: string, tail: (path: string) => Promise<void>): Promise<string> {
  const path = join(work.dir, name);
  const bytes = await readFile(good);
  await writeFile(path, bytes.subarray(0, headBytes));
  await tail(path);
  return path;
}

describe('inspectBundle reads only the head', () => {
  it('the head is small and ends exactly where the first blob entry starts', async () => {
    expect(headBytes % 512).toBe(0);
    expect(headBytes).toBeGreaterThan(0);
    expect(headBytes).toBeLessThan(written.bytes / 4);
    const bytes = await readFile(good);
    // The 512-byte header at headBytes names the first blob.
    expect(bytes.subarray(headBytes, headBytes + 13).toString()).toBe('blobs/sha256/');
  });

  it('inspects a bundle whose head is followed by a 100 GiB sparse tail, reading under 1 MiB', async () => {
    const path = await headThen('huge.tar', async (p) => {
      const handle = await open(p, 'r+');
      await handle.truncate(headBytes + HUNDRED_GIB);
      await handle.close();
    });
    expect((await stat(path)).size).toBe(headBytes + HUNDRED_GIB);
    const report = await inspectBundle(path, { key: keys.publicKeyPem });
    expect(report.signature).toBe('verified');
    expect(report.images.map((i) => i.name).sort()).toEqual(written.bundleJson.images.map((i) => i.name).sort());
    expect(report.bytesRead).toBeLessThan(headBytes + 1024 * 1024);
  });

  it('inspects a head followed by garbage, which verify refuses at the first blob', async () => {
    const path = await headThen('garbage.tar', async (p) => {
      const handle = await open(p, 'a');
      await handle.write(Buffer.alloc(4 * 1024 * 1024, 0x5a));
      await handle.close();
    });
    const report = await inspectBundle(path);
    expect(report.blobs.count).toBe(written.bundleJson.blobs.count);
    expect(report.bytesRead).toBeLessThan(headBytes + 1024 * 1024);
    await expectIntegrity(verifyBundle(path), ErrorCode.bundleInvalid, 'corrupt tar header');
  });

  it('inspects a stream that stops right after the head (the rest never arrives)', async () => {
    const { set } = await testImages();
    const head = (await readFile(good)).subarray(0, headBytes);
    // A stream that yields the head, then would block forever: inspect must not wait for it.
    async function* neverEnding(): AsyncGenerator<Buffer> {
      yield head;
      await new Promise(() => undefined);
    }
    const report = await inspectBundle({ stream: Readable.from(neverEnding(), { objectMode: false }), name: 'stdin' });
    expect(report.source).toBe('stdin');
    const multi = report.images.find((i) => i.name === fullName(set.images.multi));
    expect(multi?.platforms).toEqual(['linux/amd64', 'linux/arm64/v8']);
    expect(report.bytesRead).toBe(headBytes);
  });

  it('still verifies the head: a wrong key is refused by inspect too', async () => {
    const other = generateKeyPair();
    await expectIntegrity(inspectBundle(good, { key: other.publicKeyPem }), ErrorCode.signatureInvalid, 'ferry/bundle.json');
  });
});
