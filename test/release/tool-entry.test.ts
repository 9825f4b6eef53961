import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, inspectBundle, openBundle, verifyBundle, writeBundle, type ToolInput, type WriteBundleResult } from '../../src/bundle/index.js';
import { ErrorCode, ExitCode, UsageError } from '../../src/core/errors.js';
import { digestFile } from '../../src/core/hashing.js';
import { run, runOk } from '../rig/peers.js';
import { ALL_IMAGES, expectIntegrity, fetchFrom, imageInput, readTar, tempDir, testImages, writeTar, type RawEntry } from '../bundle/fixtures.js';
import { BLOB_ENTRY, cloneEntries, entryNamed } from '../helpers/tar-entries.js';

// The ferry/tool/… entry (ferry export --with-ferry), at the bundle level: where
// the writer puts it (right after the head, listed in bundle.json and
// SHA256SUMS, whole in volume 0), and what a reader does with it (verifies it,
// never hands it to an importer as a blob, refuses it out of place, altered,
// unlisted or missing). A stand-in release file is enough here: the writer
// carries bytes; test/release/far-side.test.ts carries the real release.

const keys = generateKeyPair();
const CREATED = new Date('2024-06-01T00:00:00Z');
const ENTRY = 'ferry/tool/ferry-0.1.0-linux-x64.tar.gz';
let work: Awaited<ReturnType<typeof tempDir>>;
let tool: ToolInput;
let single: WriteBundleResult;

async function write(out: string, opts: { split?: number; tools?: ToolInput[]; local?: boolean } = {}): Promise<WriteBundleResult> {
  const { set, blobs } = await testImages();
  const local = new Map<string, string>();
  if (opts.local) {
    // The placed writer (every blob in a local file, as from the store).
    for (const [digest, bytes] of blobs.bytes) {
      const path = join(work.dir, 'blobs', digest.slice(7));
      await writeFile(path, bytes);
      local.set(digest, path);
    }
  }
  return writeBundle({
    images: ALL_IMAGES.map((k) => imageInput(set, k)),
    fetch: fetchFrom(blobs).fetch,
    ...(opts.local ? { localFile: (d) => local.get(d.digest) } : {}),
    out,
    ...(opts.split ? { split: opts.split } : {}),
    signingKey: keys.privateKeyPem,
    created: CREATED,
    toolVersion: '0.1.0-test',
    tools: opts.tools ?? [tool],
  });
}

beforeAll(async () => {
  work = await tempDir('ferry-tool-entry-');
  await runOk('mkdir', ['-p', join(work.dir, 'blobs'), join(work.dir, 'split'), join(work.dir, 'x')]);
  const path = join(work.dir, 'ferry-0.1.0-linux-x64.tar.gz');
  await writeFile(path, randomBytes(300_000));
  const { digest, size } = await digestFile(path);
  tool = { entry: ENTRY, version: '0.1.0', os: 'linux', arch: 'x64', digest, size, requires: { GLIBC: '2.34' }, path };
  single = await write(join(work.dir, 'app.tar'), { local: true });
});

afterAll(async () => {
  await work.cleanup();
});

describe('writing the ferry release into a bundle', () => {
  it('puts it right after the head, listed in bundle.json and first in SHA256SUMS (under the signature)', async () => {
    const entries = await readTar(single.files[0] as string);
    const names = entries.map((e) => e.header.name);
    expect(names.slice(0, 7)).toEqual(['oci-layout', 'ferry/bundle.json', 'ferry/bundle.json.sig', 'index.json', 'ferry/index.db', 'ferry/SHA256SUMS', ENTRY]);
    expect(names.slice(7).every((n) => BLOB_ENTRY.test(n))).toBe(true);
    expect(entryNamed(entries, ENTRY).data.equals(await readFile(tool.path))).toBe(true);
    expect(single.bundleJson.releases).toEqual([{ entry: ENTRY, version: '0.1.0', os: 'linux', arch: 'x64', digest: tool.digest, size: tool.size, requires: { GLIBC: '2.34' } }]);
    const sums = entryNamed(entries, 'ferry/SHA256SUMS').data.toString();
    expect(sums.split('\n')[0]).toBe(`${tool.digest.slice(7)}  ${ENTRY}`);

    // Plain tools: tar -x the one member, sha256sum -c its line.
    await runOk('tar', ['-xf', single.files[0] as string, '-C', join(work.dir, 'x'), '--occurrence', 'ferry/SHA256SUMS', ENTRY]);
    const checked = await run('sh', ['-c', `grep '  ${ENTRY}$' ferry/SHA256SUMS | sha256sum -c`], { cwd: join(work.dir, 'x') });
    expect(checked.stdout.trim()).toBe(`${ENTRY}: OK`);
  });

  it('writes the same bytes placed (from local files) and streamed', async () => {
    const streamed = await write(join(work.dir, 'streamed.tar'));
    expect((await readFile(streamed.files[0] as string)).equals(await readFile(single.files[0] as string))).toBe(true);
  });

  it('a bundle without --with-ferry has no releases field: older ferries wrote exactly this', async () => {
    const plain = await write(join(work.dir, 'plain.tar'), { tools: [] });
    expect('releases' in plain.bundleJson).toBe(false);
    expect(plain.bundleJson.id).not.toBe(single.bundleJson.id);
  });

  it('holds it whole in volume 0; a --split too small is refused before writing, naming the smallest size that works', async () => {
    const out = join(work.dir, 'split', 'app');
    const err = await write(out, { split: 64 * 1024 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    const smallest = Number(/use --split (\d+) or more/.exec((err as UsageError).hint ?? '')?.[1]);
    expect((err as UsageError).message).toContain(`--split 65536 is too small to carry ferry in volume 0`);
    expect((await run('ls', [join(work.dir, 'split')])).stdout.trim()).toBe('');

    const tight = await write(out, { split: smallest - 1 }).catch((e: unknown) => e);
    expect(tight).toBeInstanceOf(UsageError);
    const split = await write(out, { split: smallest });
    expect(split.files.length).toBeGreaterThan(1);
    // Volume 0 alone, with GNU tar: the member is whole, and --occurrence stops before the cut.
    await runOk('tar', ['-xf', `${out}.000`, '-C', join(work.dir, 'x'), '--occurrence', ENTRY]);
    expect((await readFile(join(work.dir, 'x', ENTRY))).equals(await readFile(tool.path))).toBe(true);
    expect((await verifyBundle(`${out}.000`, { key: keys.publicKeyPem })).releases).toEqual([{ entry: ENTRY, digest: tool.digest, size: tool.size }]);
  });
});

describe('reading a bundle that carries ferry', () => {
  it('verify checks the release; inspect lists it; an importer sees only blobs', async () => {
    const report = await verifyBundle(single.files[0] as string, { key: keys.publicKeyPem });
    expect(report.releases).toEqual([{ entry: ENTRY, digest: tool.digest, size: tool.size }]);
    expect(report.blobs).toBe(single.bundleJson.blobs.count);
    const inspected = await inspectBundle(single.files[0] as string);
    expect(inspected.releases.map((r) => r.entry)).toEqual([ENTRY]);
    expect(inspected.headBytes).toBeLessThan(tool.size);

    const bundle = await openBundle(single.files[0] as string, { key: keys.publicKeyPem });
    try {
      const seen: string[] = [];
      for await (const blob of bundle.blobs()) {
        seen.push(blob.entry);
        blob.stream.resume();
      }
      expect(seen.length).toBe(single.bundleJson.blobs.count);
      expect(seen.every((n) => BLOB_ENTRY.test(n))).toBe(true);
    } finally {
      await bundle.close();
    }
  });

  async function rewritten(name: string, change: (entries: RawEntry[]) => RawEntry[]): Promise<string> {
    const path = join(work.dir, `${name}.tar`);
    await writeTar(path, change(cloneEntries(await readTar(single.files[0] as string))));
    return path;
  }

  it('refuses an altered release, by its entry name, both through the tar and by ranges', async () => {
    const path = await rewritten('altered', (entries) => {
      const e = entryNamed(entries, ENTRY);
      e.data[1000] = (e.data[1000] as number) ^ 0xff;
      return entries;
    });
    await expectIntegrity(verifyBundle(path, { key: keys.publicKeyPem }), ErrorCode.digestMismatch, ENTRY);
    const bundle = await openBundle(path, { key: keys.publicKeyPem });
    try {
      await expectIntegrity(
        (async () => {
          for await (const blob of bundle.blobs()) blob.stream.resume();
        })(),
        ErrorCode.digestMismatch,
        ENTRY,
      );
    } finally {
      await bundle.close();
    }
  });

  it('refuses the release after a blob, missing, or a second time', async () => {
    const late = await rewritten('late', (entries) => {
      const at = entries.findIndex((e) => e.header.name === ENTRY);
      const [moved] = entries.splice(at, 1);
      entries.splice(at + 1, 0, moved as RawEntry);
      return entries;
    });
    await expectIntegrity(verifyBundle(late), ErrorCode.bundleInvalid, `${ENTRY} is missing from the bundle: ferry/bundle.json lists it, before the first blob`);
    const missing = await rewritten('missing', (entries) => entries.filter((e) => e.header.name !== ENTRY));
    await expectIntegrity(verifyBundle(missing), ErrorCode.bundleInvalid, `${ENTRY} is missing from the bundle`);
    const other = 'ferry/tool/ferry-6.6.6-linux-x64.tar.gz';
    const stray = await rewritten('stray', (entries) => [...entries, { header: { ...entryNamed(entries, ENTRY).header, name: other }, data: Buffer.from('x') }]);
    await expectIntegrity(verifyBundle(stray), ErrorCode.bundleInvalid, `'${other}' comes after a blob`);
    const twice = await rewritten('twice', (entries) => {
      const at = entries.findIndex((e) => e.header.name === ENTRY);
      entries.splice(at, 0, entries[at] as RawEntry);
      return entries;
    });
    await expectIntegrity(verifyBundle(twice), ErrorCode.bundleInvalid, 'appears twice');
  });

  it('refuses a release entry bundle.json does not list, and one before the head is complete', async () => {
    const other = 'ferry/tool/ferry-6.6.6-linux-x64.tar.gz';
    const unlisted = await rewritten('unlisted', (entries) => {
      const e = entryNamed(entries, ENTRY);
      entries.splice(entries.indexOf(e) + 1, 0, { header: { ...e.header, name: other }, data: e.data });
      return entries;
    });
    await expectIntegrity(verifyBundle(unlisted), ErrorCode.bundleInvalid, `'${other}' is not listed in ferry/bundle.json releases`);
    const early = await rewritten('early', (entries) => {
      const at = entries.findIndex((e) => e.header.name === ENTRY);
      const [moved] = entries.splice(at, 1);
      entries.splice(2, 0, moved as RawEntry);
      return entries;
    });
    await expectIntegrity(verifyBundle(early), ErrorCode.bundleInvalid, 'a carried ferry release follows the head');
  });

  it('refuses SHA256SUMS whose release lines disagree with bundle.json (an unsigned bundle forged around them)', async () => {
    const path = await rewritten('sums', (entries) => {
      const sums = entryNamed(entries, 'ferry/SHA256SUMS');
      const lines = sums.data.toString().split('\n');
      sums.data = Buffer.from(lines.slice(1).join('\n'));
      const json = entryNamed(entries, 'ferry/bundle.json');
      const doc = JSON.parse(json.data.toString()) as { signer: unknown; entries: Record<string, { digest: string; size: number }> };
      doc.signer = null;
      doc.entries['ferry/SHA256SUMS'] = { digest: `sha256:${createHash('sha256').update(sums.data).digest('hex')}`, size: sums.data.length };
      json.data = Buffer.from(`${JSON.stringify(doc, null, 2)}\n`);
      return entries.filter((e) => e.header.name !== 'ferry/bundle.json.sig');
    });
    const err = await expectIntegrity(verifyBundle(path), ErrorCode.bundleInvalid, 'ferry/SHA256SUMS disagrees with ferry/bundle.json: the ferry releases carried differ');
    expect(err.exitCode).toBe(ExitCode.integrity);
  });
});
