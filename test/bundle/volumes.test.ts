import { createHash } from 'node:crypto';
import { copyFile, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, inspectBundle, openBundle, parseSplitSize, verifyBundle, verifyVolumesInHand, writeBundle, type WriteBundleResult } from '../../src/bundle/index.js';
import { ErrorCode } from '../../src/core/errors.js';
import { runOk } from '../rig/peers.js';
import { ALL_IMAGES, expectIntegrity, fetchFrom, imageInput, tempDir, testImages } from './fixtures.js';

// --split: the tar cut into NAME.000, NAME.001, … with a signed NAME.volumes.json.
// The volumes concatenated are the plain tar, byte for byte; a reader streams
// them joined and names a damaged, missing or misplaced volume.

const keys = generateKeyPair();
const SPLIT = 160 * 1024;
const CREATED = new Date('2024-06-01T00:00:00Z');
let work: Awaited<ReturnType<typeof tempDir>>;
let plain: WriteBundleResult;
let split: WriteBundleResult;

async function write(out: string, splitSize?: number): Promise<WriteBundleResult> {
  const { set, blobs } = await testImages();
  return writeBundle({
    images: ALL_IMAGES.map((k) => imageInput(set, k)),
    fetch: fetchFrom(blobs).fetch,
    out,
    ...(splitSize ? { split: splitSize } : {}),
    signingKey: keys.privateKeyPem,
    created: CREATED,
    toolVersion: '0.1.0-test',
  });
}

/** A fresh copy of the split set in its own directory, for a test to damage. */
async function copySet(name: string): Promise<string> {
  const dir = join(work.dir, name);
  await runOk('mkdir', ['-p', dir]);
  for (const f of await readdir(join(work.dir, 'split'))) await copyFile(join(work.dir, 'split', f), join(dir, f));
  return join(dir, 'app');
}

beforeAll(async () => {
  work = await tempDir('ferry-volumes-');
  await runOk('mkdir', ['-p', join(work.dir, 'split')]);
  plain = await write(join(work.dir, 'app.tar'));
  split = await write(join(work.dir, 'split', 'app'), SPLIT);
});

afterAll(async () => {
  await work.cleanup();
});

describe('writing volumes', () => {
  it('cuts the tar into NAME.000… of exactly --split bytes (the last shorter) plus a signed sidecar', async () => {
    const volumes = split.volumes ?? [];
    expect(volumes.length).toBe(Math.ceil(plain.bytes / SPLIT));
    expect(volumes.length).toBeGreaterThanOrEqual(4);
    expect(volumes.map((v) => v.name)).toEqual(volumes.map((_, i) => `app.${String(i).padStart(3, '0')}`));
    for (const v of volumes.slice(0, -1)) expect(v.size).toBe(SPLIT);
    const files = (await readdir(join(work.dir, 'split'))).sort();
    expect(files).toEqual([...volumes.map((v) => v.name), 'app.volumes.json', 'app.volumes.json.sig'].sort());
    for (const v of volumes) {
      const bytes = await readFile(join(work.dir, 'split', v.name));
      expect(bytes.length).toBe(v.size);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(v.sha256);
    }
    const sidecar = JSON.parse(await readFile(join(work.dir, 'split', 'app.volumes.json'), 'utf8')) as { bundle: { id: string }; sha256: string };
    expect(sidecar.bundle.id).toBe(split.bundleJson.id);
    expect(sidecar.sha256).toBe(plain.sha256);
  });

  it('`cat NAME.0*` gives the unsplit tar byte for byte', async () => {
    const joined = join(work.dir, 'joined.tar');
    await runOk('sh', ['-c', `cat "${join(work.dir, 'split')}"/app.0* > "${joined}"`]);
    expect((await readFile(joined)).equals(await readFile(join(work.dir, 'app.tar')))).toBe(true);
    expect(split.sha256).toBe(plain.sha256);
  });

  it('writes byte-identical volumes and sidecar twice; a shorter rewrite removes stale volumes', async () => {
    const dir = join(work.dir, 'again');
    await runOk('mkdir', ['-p', dir]);
    await writeFile(join(dir, 'app.999'), 'stale');
    const again = await write(join(dir, 'app'), SPLIT);
    for (const name of [...(again.volumes ?? []).map((v) => v.name), 'app.volumes.json', 'app.volumes.json.sig']) {
      expect((await readFile(join(dir, name))).equals(await readFile(join(work.dir, 'split', name))), name).toBe(true);
    }
    expect(await readdir(dir)).not.toContain('app.999');
  });

  it('handles a head that spans many small volumes', async () => {
    const dir = join(work.dir, 'tiny');
    await runOk('mkdir', ['-p', dir]);
    const tiny = await write(join(dir, 'app'), 8 * 1024);
    expect(tiny.volumes?.length).toBe(Math.ceil(plain.bytes / (8 * 1024)));
    expect(tiny.sha256).toBe(plain.sha256);
    const report = await inspectBundle(join(dir, 'app'), { key: keys.publicKeyPem });
    expect(report.headBytes).toBeGreaterThan(8 * 1024);
    expect((await verifyBundle(join(dir, 'app'), { key: keys.publicKeyPem })).blobs).toBe(plain.bundleJson.blobs.count);
  });

  it('parses --split sizes', () => {
    expect(parseSplitSize('fat32')).toBe(4 * 1024 ** 3 - 1);
    expect(parseSplitSize('4G')).toBe(4 * 1024 ** 3);
    expect(parseSplitSize('500M')).toBe(500 * 1024 ** 2);
    expect(parseSplitSize('500MB')).toBe(500 * 1000 ** 2);
    expect(parseSplitSize('1.5GiB')).toBe(1.5 * 1024 ** 3);
    expect(parseSplitSize(65536)).toBe(65536);
    expect(() => parseSplitSize('12Q')).toThrow(/invalid --split/);
    expect(() => parseSplitSize('10')).toThrow(/at least/);
  });
});

describe('reading volumes', () => {
  it('reads a split bundle by NAME, NAME.000 or NAME.volumes.json; verify checks every volume', async () => {
    const base = join(work.dir, 'split', 'app');
    for (const input of [base, `${base}.000`, `${base}.volumes.json`]) {
      const report = await verifyBundle(input, { key: keys.publicKeyPem });
      expect(report.blobs).toBe(plain.bundleJson.blobs.count);
      expect(report.volumes?.list.length).toBe(split.volumes?.length);
      expect(report.volumes?.signature).toBe('verified');
      expect(report.bytesRead).toBe(plain.bytes);
    }
  });

  it('inspect of a split bundle reads only the first volume', async () => {
    const report = await inspectBundle(join(work.dir, 'split', 'app'));
    expect(report.images.length).toBe(ALL_IMAGES.length);
    expect(report.bytesRead).toBeLessThanOrEqual(SPLIT);
  });

  it('names a damaged volume (one flipped bit in a layer)', async () => {
    const base = await copySet('damaged');
    const path = `${base}.002`;
    const bytes = await readFile(path);
    bytes[bytes.length - 1000] ^= 0x04;
    await writeFile(path, bytes);
    const err = await expectIntegrity(verifyBundle(base, { key: keys.publicKeyPem }), ErrorCode.bundleInvalid, 'volume app.002 is damaged');
    expect(err.message).toContain('sha256 mismatch');
  });

  it('names a missing volume before reading anything', async () => {
    const base = await copySet('missing');
    await rm(`${base}.003`);
    await expectIntegrity(verifyBundle(base), ErrorCode.bundleInvalid, 'volume app.003 is missing');
    await expectIntegrity(openBundle(base), ErrorCode.bundleInvalid, 'volume app.003 is missing');
  });

  it('names a truncated volume by its size', async () => {
    const base = await copySet('short');
    const { truncate } = await import('node:fs/promises');
    await truncate(`${base}.001`, 1000);
    const err = await expectIntegrity(verifyBundle(base), ErrorCode.bundleInvalid, 'volume app.001 is damaged');
    expect(err.message).toContain('1000 bytes');
  });

  it('detects volumes out of order (two swapped sticks of equal size)', async () => {
    const base = await copySet('swapped');
    await rename(`${base}.001`, `${base}.tmp`);
    await rename(`${base}.002`, `${base}.001`);
    await rename(`${base}.tmp`, `${base}.002`);
    const err = await expectIntegrity(verifyBundle(base), ErrorCode.bundleInvalid, 'volume app.001');
    expect(err.message).toContain('holds the bytes of app.002: volumes out of order');
  });

  it('detects the first volume swapped with another during head reading', async () => {
    const base = await copySet('swapped-head');
    await rename(`${base}.000`, `${base}.tmp`);
    await rename(`${base}.001`, `${base}.000`);
    await rename(`${base}.tmp`, `${base}.001`);
    const err = await expectIntegrity(openBundle(base), ErrorCode.bundleInvalid, 'volume app.000');
    expect(err.message).toContain('volumes out of order');
  });

  it('refuses an unlisted extra volume beside the set', async () => {
    const base = await copySet('extra');
    const last = (split.volumes ?? []).length;
    await writeFile(`${base}.${String(last).padStart(3, '0')}`, 'extra');
    await expectIntegrity(verifyBundle(base), ErrorCode.bundleInvalid, `app.${String(last).padStart(3, '0')} is not listed`);
  });

  it('refuses a tampered volume list under a key, and an unsigned one when a signature is required', async () => {
    const base = await copySet('sidecar');
    const path = `${base}.volumes.json`;
    const doc = (await readFile(path, 'utf8')).replace(/"created": "[^"]+"/, '"created": "2020-01-01T00:00:00Z"');
    await writeFile(path, doc);
    await expectIntegrity(verifyBundle(base, { key: keys.publicKeyPem }), ErrorCode.signatureInvalid, 'app.volumes.json');
    await rm(`${path}.sig`);
    await expectIntegrity(verifyBundle(base, { key: keys.publicKeyPem }), ErrorCode.signatureMissing, 'app.volumes.json.sig');
  });

  it('leaves no .partial files after a write', async () => {
    const files = await readdir(join(work.dir, 'split'));
    expect(files.filter((f) => f.includes('partial'))).toEqual([]);
    expect((await stat(join(work.dir, 'split', 'app.000'))).size).toBe(SPLIT);
  });
});

describe('the volumes in hand (verify --present / --volume)', () => {
  it('a refusal for missing volumes names every one of them, and which are there', async () => {
    const base = await copySet('several-missing');
    const names = (split.volumes ?? []).map((v) => v.name);
    const gone = [names[0], names[2], names[3]] as string[];
    for (const n of gone) await rm(join(base, '..', n));
    const err = await expectIntegrity(verifyBundle(base), ErrorCode.bundleInvalid, `volumes ${gone.join(', ')} are missing`);
    expect(err.hint).toContain('--present');
    expect(err.details).toEqual({ missing: gone, present: names.filter((n) => !gone.includes(n)) });
  });

  it('checks only the volumes there against the signed list; one holding another volume’s bytes fails, named', async () => {
    const base = await copySet('in-hand');
    const names = (split.volumes ?? []).map((v) => v.name);
    for (const n of names.slice(2)) await rm(join(base, '..', n));
    const report = await verifyVolumesInHand(`${base}.001`, { key: keys.publicKeyPem });
    expect(report.complete).toBe(false);
    expect(report.signature).toBe('verified');
    expect(report.volumes?.list.map((v) => v.status)).toEqual(names.map((_, i) => (i < 2 ? 'checked' : 'absent')));

    const only = await verifyVolumesInHand(base, { key: keys.publicKeyPem, only: ['0'] });
    expect(only.volumes?.list.slice(0, 2).map((v) => v.status)).toEqual(['checked', 'skipped']);

    await rm(`${base}.000`);
    await copyFile(`${base}.001`, `${base}.000`);
    const err = await expectIntegrity(verifyVolumesInHand(base, { key: keys.publicKeyPem }), ErrorCode.bundleInvalid, 'volume app.000 holds the bytes of app.001: volumes out of order');
    expect((err.details?.volumes as { status: string }[]).slice(0, 2).map((v) => v.status)).toEqual(['failed', 'checked']);
  });

  it('names a stray volume file beside the list (unlisted, or numbered beyond the set) without checking it', async () => {
    const base = await copySet('stray');
    const names = (split.volumes ?? []).map((v) => v.name);
    for (const n of names.slice(1)) await rm(join(base, '..', n));
    const beyond = `app.${String(names.length + 5).padStart(3, '0')}`;
    await writeFile(join(base, '..', beyond), 'not a volume of this set');
    await writeFile(join(base, '..', 'app.1234'), 'not named like a volume');
    await writeFile(join(base, '..', 'other.001'), 'another set');
    const report = await verifyVolumesInHand(base, { key: keys.publicKeyPem });
    expect(report.complete).toBe(false);
    expect(!report.complete && report.stray).toEqual([beyond]);
    expect(report.volumes?.list.map((v) => v.status)).toEqual(names.map((_, i) => (i === 0 ? 'checked' : 'absent')));
    // With every listed volume there, the full verify refuses it (the set in that folder is in doubt).
    for (const n of names.slice(1)) await copyFile(join(work.dir, 'split', n), join(base, '..', n));
    await expectIntegrity(verifyVolumesInHand(base, { key: keys.publicKeyPem }), ErrorCode.bundleInvalid, `volume ${beyond} is not listed`);
  });

  it('with every volume there, it is the full verify', async () => {
    const report = await verifyVolumesInHand(join(work.dir, 'split', 'app'), { key: keys.publicKeyPem });
    expect(report.complete).toBe(true);
    expect(report.complete && report.images).toBe(ALL_IMAGES.length);
  });
});
