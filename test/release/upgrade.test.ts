import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, sign, writeBundle, type ToolInput } from '../../src/bundle/index.js';
import { digestFile } from '../../src/core/hashing.js';
import { ExitCode } from '../../src/core/errors.js';
import { ferry } from '../helpers/ferry-cli.js';
import { ALL_IMAGES, fetchFrom, imageInput, readTar, tempDir, testImages, writeTar, type RawEntry } from '../bundle/fixtures.js';
import { entryNamed } from '../helpers/tar-entries.js';

// Upgrades on the far side: a ferry reads every bundle of its format version
// that an older or a newer ferry wrote (no releases field; an unknown field, a
// newer writer, a release for another platform), and refuses a bundle in a
// newer format version with one line naming that version and the ferry that
// wrote it, pointing at the release that bundle carries.

const keys = generateKeyPair();
let work: Awaited<ReturnType<typeof tempDir>>;
let base: RawEntry[];
const ENTRY = 'ferry/tool/ferry-0.1.0-linux-x64.tar.gz';

interface Doc {
  format: string;
  tool: { name: string; version: string };
  entries: Record<string, { digest: string; size: number }>;
  releases?: Array<Record<string, unknown>>;
  [key: string]: unknown;
}

/**
 * The base bundle with bundle.json changed by `change` (and the tool entry
 * renamed to what its releases say, SHA256SUMS to match), signed again with
 * the same key: what another ferry with the same key would have written.
 */
async function variant(name: string, change: (doc: Doc) => void): Promise<string> {
  const entries = base.map((e) => ({ header: { ...e.header }, data: Buffer.from(e.data) }));
  const json = entryNamed(entries, 'ferry/bundle.json');
  const doc = JSON.parse(json.data.toString()) as Doc;
  change(doc);
  const toolEntry = entries.find((e) => e.header.name.startsWith('ferry/tool/'));
  const renamed = doc.releases?.[0]?.entry as string | undefined;
  const sums = entryNamed(entries, 'ferry/SHA256SUMS');
  if (toolEntry && renamed) {
    sums.data = Buffer.from(sums.data.toString().replace(`  ${toolEntry.header.name}\n`, `  ${renamed}\n`));
    toolEntry.header.name = renamed;
  }
  doc.entries['ferry/SHA256SUMS'] = { digest: `sha256:${createHash('sha256').update(sums.data).digest('hex')}`, size: sums.data.length };
  json.data = Buffer.from(`${JSON.stringify(doc, null, 2)}\n`);
  entryNamed(entries, 'ferry/bundle.json.sig').data = sign(json.data, keys.privateKeyPem);
  const path = join(work.dir, `${name}.tar`);
  await writeTar(path, entries);
  return path;
}

beforeAll(async () => {
  work = await tempDir('ferry-upgrade-');
  await writeFile(join(work.dir, 'site.pub'), keys.publicKeyPem);
  const toolPath = join(work.dir, 'ferry-0.1.0-linux-x64.tar.gz');
  await writeFile(toolPath, randomBytes(50_000));
  const tool: ToolInput = { entry: ENTRY, version: '0.1.0', os: 'linux', arch: 'x64', ...(await digestFile(toolPath)), requires: {}, path: toolPath };
  const { set, blobs } = await testImages();
  const written = await writeBundle({
    images: ALL_IMAGES.map((k) => imageInput(set, k)),
    fetch: fetchFrom(blobs).fetch,
    out: join(work.dir, 'base.tar'),
    signingKey: keys.privateKeyPem,
    created: new Date('2024-06-01T00:00:00Z'),
    toolVersion: '0.1.0',
    tools: [tool],
  });
  base = await readTar(written.files[0] as string);
});

afterAll(async () => {
  await work.cleanup();
});

describe('bundles from other ferry versions', () => {
  it('reads a bundle a newer ferry of the same format wrote: newer writer, an unknown field, a release for another platform', async () => {
    const path = await variant('newer', (doc) => {
      doc.tool.version = '0.9.0';
      doc.provenance = { builder: 'a future ferry', fields: ['v1 readers ignore these'] };
      const release = doc.releases?.[0] as Record<string, unknown>;
      Object.assign(release, { entry: 'ferry/tool/ferry-0.9.0-linux-arm64.tar.gz', version: '0.9.0', arch: 'arm64', requires: { GLIBC: '2.17' } });
    });
    const verified = await ferry(['verify', path, '--key', join(work.dir, 'site.pub'), '--json']);
    expect(verified.code, verified.stderr).toBe(ExitCode.ok);
    expect(verified.json).toMatchObject({ ok: true, signature: 'verified', releases: [{ entry: 'ferry/tool/ferry-0.9.0-linux-arm64.tar.gz' }] });
    const inspected = await ferry(['inspect', path]);
    expect(inspected.code, inspected.stderr).toBe(ExitCode.ok);
    expect(inspected.stdout).toContain('by ferry 0.9.0');
    expect(inspected.stdout).toContain('carries ferry 0.9.0 for linux-arm64, needs GLIBC 2.17: ferry/tool/ferry-0.9.0-linux-arm64.tar.gz');
    const imported = await ferry(['import', path, '--key', join(work.dir, 'site.pub'), '--to-store', '--store', join(work.dir, 'store')]);
    expect(imported.code, imported.stderr).toBe(ExitCode.ok);
  });

  it('reads a bundle an older ferry wrote: no releases field at all', async () => {
    const path = await variant('older', (doc) => {
      doc.tool.version = '0.0.9';
      delete doc.releases;
    });
    // The tool entry is still in the tar but no longer listed: an older writer never wrote one, so drop it.
    const entries = (await readTar(path)).filter((e) => !e.header.name.startsWith('ferry/tool/'));
    const sums = entryNamed(entries, 'ferry/SHA256SUMS');
    sums.data = Buffer.from(sums.data.toString().split('\n').filter((l) => !l.includes(' ferry/tool/')).join('\n'));
    const json = entryNamed(entries, 'ferry/bundle.json');
    const doc = JSON.parse(json.data.toString()) as Doc;
    doc.entries['ferry/SHA256SUMS'] = { digest: `sha256:${createHash('sha256').update(sums.data).digest('hex')}`, size: sums.data.length };
    json.data = Buffer.from(`${JSON.stringify(doc, null, 2)}\n`);
    entryNamed(entries, 'ferry/bundle.json.sig').data = sign(json.data, keys.privateKeyPem);
    await writeTar(path, entries);
    const verified = await ferry(['verify', path, '--key', join(work.dir, 'site.pub'), '--json']);
    expect(verified.code, verified.stderr).toBe(ExitCode.ok);
    expect(verified.json).toMatchObject({ ok: true, releases: [] });
  });

  it('refuses a bundle in a newer format version, naming the version needed and the release that bundle carries', async () => {
    const path = await variant('v2', (doc) => {
      doc.format = 'ferry.bundle.v2';
      doc.tool.version = '0.2.0';
      Object.assign(doc.releases?.[0] as Record<string, unknown>, { entry: 'ferry/tool/ferry-0.2.0-linux-x64.tar.gz', version: '0.2.0' });
    });
    for (const command of [['verify', path, '--key', join(work.dir, 'site.pub')], ['inspect', path], ['import', path, '--to-store', '--store', join(work.dir, 'store')]]) {
      const refused = await ferry(command);
      expect(refused.code, refused.stderr).toBe(ExitCode.integrity);
      // The progress line log (import's phases) may come first.
      const [message, hint] = refused.stderr.trim().split('\n').filter((l) => !/^ferry: (import|export): /.test(l));
      expect(message).toBe('ferry: error: ferry/bundle.json: this bundle is ferry.bundle.v2 (written by ferry 0.2.0); this ferry reads ferry.bundle.v1 only');
      expect(hint).toBe(
        '  hint: use a ferry that reads ferry.bundle.v2 (ferry 0.2.0 or later): the bundle carries it as ferry/tool/ferry-0.2.0-linux-x64.tar.gz — take it out and check it as docs/far-side.md shows',
      );
    }
  });
});
