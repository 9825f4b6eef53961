import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, inspectBundle, verifyBundle, writeBundle, type InspectReport } from '../../src/bundle/index.js';
import { countingSql } from '../helpers/sql-count.js';
import { cloneEntries, writeTarEntries } from '../helpers/tar-entries.js';
import { ALL_IMAGES, descriptorOf, fetchFrom, imageInput, readTar, tempDir, testImages, type RawEntry } from './fixtures.js';
import { editBundleJson, resign } from './surgery.js';

// The writer sums each image's blobs once (bundle.json `images[].totals`), so
// inspect reads one entry per image and walks nothing; a bundle written before
// the totals is inspected by walking index.db's edges, as before, to the same
// report. A delta bundle of every rig image (several platforms, a Windows
// foreign layer, referrers, assumed blobs) exercises every column.

const keys = generateKeyPair();
let work: Awaited<ReturnType<typeof tempDir>>;
let withTotals: string;
let entries: RawEntry[];

beforeAll(async () => {
  work = await tempDir('ferry-inspect-totals-');
  const { set, blobs } = await testImages();
  withTotals = join(work.dir, 'totals.tar');
  await writeBundle({
    images: ALL_IMAGES.map((k) => imageInput(set, k)),
    fetch: fetchFrom(blobs).fetch,
    out: withTotals,
    assumes: set.images.appA.blobs.map(descriptorOf),
    signingKey: keys.privateKeyPem,
    toolVersion: '0.1.0-test',
  });
  entries = await readTar(withTotals);
});

afterAll(async () => {
  await work.cleanup();
});

/** What inspect shows, without the file's name and what differs with the head's length. */
function shown({ source: _s, headBytes: _h, bytesRead: _r, ...rest }: InspectReport): Omit<InspectReport, 'source' | 'headBytes' | 'bytesRead'> {
  return rest;
}

/** The same bundle as an older ferry wrote it: bundle.json without `totals`, signed again. */
async function withoutTotals(): Promise<string> {
  const older = cloneEntries(entries);
  let removed = 0;
  editBundleJson(older, (doc) => {
    for (const image of doc.images as Array<Record<string, unknown>>) {
      if ('totals' in image) removed += 1;
      delete image.totals;
    }
  });
  expect(removed, 'the writer gave every image its totals').toBe(ALL_IMAGES.length);
  resign(older, keys.privateKeyPem);
  const out = join(work.dir, 'older.tar');
  await writeTarEntries(out, older);
  return out;
}

describe('inspect takes each image’s totals from bundle.json', () => {
  it('answers from the totals the writer summed: no edge or manifest row is read, and of blobs only digests', async () => {
    let report: InspectReport | undefined;
    const { sql } = await countingSql(async () => {
      report = await inspectBundle(withTotals, { key: keys.publicKeyPem });
    });
    expect(sql.filter((s) => /FROM (edges|manifests)\b/.test(s))).toEqual([]);
    // The head check compares the blob list inside SQLite and by digest, not through a row object per blob.
    expect(sql.filter((s) => /SELECT digest, kind, media_type/.test(s))).toEqual([]);
    expect(report?.images.some((i) => i.assumedBytes > 0 && i.platforms.length > 0)).toBe(true);
  });

  it('walks index.db for a bundle written before the totals, to the same report', async () => {
    const older = await withoutTotals();
    let walked: InspectReport | undefined;
    const { sql } = await countingSql(async () => {
      walked = await inspectBundle(older, { key: keys.publicKeyPem });
    });
    expect(sql.some((s) => /FROM edges\b/.test(s))).toBe(true);
    const stored = await inspectBundle(withTotals, { key: keys.publicKeyPem });
    expect(shown(walked as InspectReport)).toEqual(shown(stored));
    expect(stored.images.map((i) => i.platforms).flat()).toContain('linux/arm64/v8');
  });
});

describe('verify refuses a bundle.json whose totals or platforms the graph does not give', () => {
  /** The bundle with one image's entry in bundle.json edited, signed again (as only the signer could). */
  async function edited(name: string, edit: (image: Record<string, unknown>) => void): Promise<string> {
    const copy = cloneEntries(entries);
    editBundleJson(copy, (doc) => edit((doc.images as Array<Record<string, unknown>>)[1]!));
    resign(copy, keys.privateKeyPem);
    const out = join(work.dir, name);
    await writeTarEntries(out, copy);
    return out;
  }

  it('passes the bundle as written', async () => {
    await expect(verifyBundle(withTotals, { key: keys.publicKeyPem })).resolves.toMatchObject({ complete: true });
  });

  it('names the image whose bytes were changed', async () => {
    const out = await edited('bytes.tar', (image) => {
      (image.totals as { bytes: number }).bytes += 1;
    });
    await expect(verifyBundle(out, { key: keys.publicKeyPem })).rejects.toThrow(/^bundle\.json: images\[1\] \(.+\) says \d+ blobs, \d+ bytes .*; index\.db's graph gives /);
  });

  it('names the image whose platforms were changed', async () => {
    const out = await edited('platforms.tar', (image) => {
      image.platforms = ['plan9/mips'];
    });
    await expect(verifyBundle(out, { key: keys.publicKeyPem })).rejects.toThrow(/images\[1\] .* platforms \[plan9\/mips\]; index\.db's graph gives .*platforms \[/);
  });
});
