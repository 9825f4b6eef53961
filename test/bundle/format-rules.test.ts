import { copyFile, mkdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateKeyPair, inspectBundle, openBundle, verifyBundle, writeBundle } from '../../src/bundle/index.js';
import { ustarHeader, ustarSize } from '../../src/bundle/ustar.js';
import { ErrorCode } from '../../src/core/errors.js';
import { ferry } from '../helpers/ferry-cli.js';
import { entryNamed, writeTarEntries } from '../helpers/tar-entries.js';
import { expectRefusal } from '../helpers/transfer-kit.js';
import { ALL_IMAGES, expectIntegrity, fetchFrom, imageInput, testImages } from './fixtures.js';
import { editBundleJson, hostileBench, resign } from './surgery.js';

// Issue 11 item 13: the format's rules, enforced by the reader. `created` is a
// whole-second UTC time a tar mtime holds (1970..2038); the tar is framed as
// design §4 says (no extension headers or stray zero blocks, and its two
// end-of-archive blocks); a signature by another key than the one bundle.json
// names is said to be that, not "changed after signing".

const keys = generateKeyPair();
const otherKeys = generateKeyPair();
const bench = hostileBench('ferry-format-rules-', keys.privateKeyPem);
const { hostile } = bench;

describe('created', () => {
  it.each([
    ['9999-12-31T00:00:00Z', 'outside 1970-01-01T00:00:00Z..2038-01-19T03:14:07Z'],
    ['2038-01-19T03:14:08Z', 'outside'],
    ['1969-12-31T23:59:59Z', 'outside'],
    ['2024-01-01', 'is not a time like'],
    ['2024-01-01T00:00:00.500Z', 'is not a time like'],
    ['2024-01-01T02:00:00+02:00', 'is not a time like'],
  ])('created %s: refused naming the field', async (created, words) => {
    const path = await hostile(bench.good.unsigned, (e) => editBundleJson(e, (doc) => void (doc.created = created)));
    const err = await expectIntegrity(openBundle(path), ErrorCode.bundleInvalid, `ferry/bundle.json: created '${created}'`);
    expect(err.message).toContain(words);
  });

  it('the last second a tar mtime holds is accepted', async () => {
    const path = await hostile(bench.good.unsigned, (e) => editBundleJson(e, (doc) => void (doc.created = '2038-01-19T03:14:07Z')));
    const bundle = await openBundle(path);
    expect(bundle.bundleJson.created).toBe('2038-01-19T03:14:07Z');
    await bundle.close();
  });

  it('a volume list whose created is out of range: refused naming it', async () => {
    const { set, blobs } = await testImages();
    await mkdir(bench.path('vols'));
    const out = join(bench.path('vols'), 'app');
    await writeBundle({ images: ALL_IMAGES.map((k) => imageInput(set, k)), fetch: fetchFrom(blobs).fetch, out, split: 160 * 1024, toolVersion: 't' });
    const sidecar = `${out}.volumes.json`;
    await writeFile(sidecar, (await readFile(sidecar, 'utf8')).replace(/"created": "[^"]*"/, '"created": "9999-12-31T00:00:00Z"'));
    await expectIntegrity(openBundle(`${out}.000`), ErrorCode.bundleInvalid, "app.volumes.json: created '9999-12-31T00:00:00Z'");
  });
});

describe('tar framing', () => {
  it.each([
    ['both end-of-archive blocks missing', 1024],
    ['one end-of-archive block missing', 512],
  ])('%s: truncated, naming the bundle and its last entry', async (_what, cut) => {
    const path = bench.path(`no-end-${cut}.tar`);
    await copyFile(bench.good.unsignedPath, path);
    const size = (await readFile(path)).length;
    await truncate(path, size - cut);
    const last = bench.good.unsigned[bench.good.unsigned.length - 1]?.header.name ?? '';
    const err = await expectIntegrity(verifyBundle(path), ErrorCode.bundleInvalid, `bundle ${path} is truncated`);
    expect(err.message).toContain(last);
    expect(err.message).toContain('end-of-archive');
  });

  it('zero blocks between entries (two tars glued together: plain tar would stop at the first end): refused', async () => {
    const headEnd = bench.good.unsigned.findIndex((e) => e.header.name === 'ferry/SHA256SUMS') + 1;
    const first = bench.path('glue-head.tar');
    const second = bench.path('glue-blobs.tar');
    await writeTarEntries(first, bench.good.unsigned.slice(0, headEnd));
    await writeTarEntries(second, bench.good.unsigned.slice(headEnd));
    const path = bench.path('glued.tar');
    await writeFile(path, Buffer.concat([await readFile(first), await readFile(second)]));
    const firstBlob = bench.good.unsigned[headEnd]?.header.name ?? '';
    const err = await expectIntegrity(verifyBundle(path), ErrorCode.bundleInvalid, firstBlob);
    expect(err.message).toContain('1024 bytes of extra tar blocks');
  });

  it('a pax extended header (here renaming an entry): refused, a ferry bundle has none', async () => {
    const path = await hostile(bench.good.unsigned, (e) => {
      const index = entryNamed(e, 'index.json');
      index.header = { ...index.header, name: 'not-index.json', pax: { path: 'index.json' } };
    });
    const err = await expectIntegrity(openBundle(path), ErrorCode.bundleInvalid, 'index.json');
    expect(err.message).toContain('pax or GNU extension header');
  });
});

// The head is read by its own framing reader (bundle/head-tar.ts, so inspect never loads
// tar-stream): the same framing refused there, through inspect, which reads nothing else.
describe('tar framing in the head (inspect)', () => {
  /** The good unsigned bundle's bytes, with `edit` applied at the header of index.json. */
  async function headEdited(name: string, edit: (tar: Buffer, at: number) => Buffer): Promise<string> {
    const tar = await readFile(bench.good.unsignedPath);
    let at = 0;
    while (tar.toString('latin1', at, at + 11) !== 'index.json\0') at += 512;
    const path = bench.path(name);
    await writeFile(path, edit(tar, at));
    return path;
  }

  it('a head header whose checksum does not add up: a corrupt tar header after the entry before it', async () => {
    const path = await headEdited('head-checksum.tar', (tar, at) => {
      tar[at] = 'I'.charCodeAt(0);
      return tar;
    });
    await expectIntegrity(inspectBundle(path), ErrorCode.bundleInvalid, "corrupt tar header after entry 'ferry/bundle.json'");
  });

  it('a head header without the ustar magic: a corrupt tar header', async () => {
    const path = await headEdited('head-magic.tar', (tar, at) => {
      const header = ustarHeader('index.json', ustarSize(tar.subarray(at, at + 512)), new Date(0));
      header.write('nostar', 257, 'latin1');
      header.write('000000 ', 148, 'latin1');
      let sum = 0;
      for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] as number);
      header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
      header.copy(tar, at);
      return tar;
    });
    await expectIntegrity(inspectBundle(path), ErrorCode.bundleInvalid, "corrupt tar header after entry 'ferry/bundle.json'");
  });

  it('zero blocks inside the head: refused naming the entry after them', async () => {
    const path = await headEdited('head-zeros.tar', (tar, at) => Buffer.concat([tar.subarray(0, at), Buffer.alloc(1024), tar.subarray(at)]));
    await expectIntegrity(inspectBundle(path), ErrorCode.bundleInvalid, "1024 bytes of extra tar blocks before entry 'index.json'");
  });

  it('a GNU long-name header in the head: refused, naming the entry it names', async () => {
    const path = await headEdited('head-longlink.tar', (tar, at) => {
      const name = Buffer.from('index.json\0');
      const header = ustarHeader('././@LongLink', name.length, new Date(0));
      header[156] = 'L'.charCodeAt(0);
      header.write('000000 ', 148, 'latin1');
      let sum = 0;
      for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] as number);
      header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
      return Buffer.concat([tar.subarray(0, at), header, name, Buffer.alloc(512 - name.length), tar.subarray(at)]);
    });
    const err = await expectIntegrity(inspectBundle(path), ErrorCode.bundleInvalid, "before entry 'index.json'");
    expect(err.message).toContain('pax or GNU extension header');
  });

  it('a head cut inside an entry: truncated, naming it', async () => {
    const path = await headEdited('head-cut.tar', (tar, at) => tar.subarray(0, at + 512 + 10));
    await expectIntegrity(inspectBundle(path), ErrorCode.bundleInvalid, "is truncated: it ends inside entry 'index.json'");
  });
});

describe('a signature by another key than the one bundle.json names', () => {
  /** bundle.json names `keys` (as written), but the signature is made with `otherKeys`. */
  const signedByOther = () => hostile(bench.good.signed, (e) => resign(e, otherKeys.privateKeyPem));

  it('with both keys known: "signed by another key (id B), expected A"', async () => {
    const err = await expectIntegrity(openBundle(await signedByOther(), { key: [keys.publicKeyPem, otherKeys.publicKeyPem] }), ErrorCode.signatureInvalid, `signed by another key (id ${otherKeys.keyId}), expected ${keys.keyId}`);
    expect(err.message).not.toContain('changed after signing');
  });

  it('with only the key that signed it: still "signed by another key", not "signed by key A, not by the given key"', async () => {
    await expectIntegrity(openBundle(await signedByOther(), { key: otherKeys.publicKeyPem }), ErrorCode.signatureInvalid, `signed by another key (id ${otherKeys.keyId}), expected ${keys.keyId}`);
  });

  it('with only the named key, which does not verify it: changed after signing (no known key verifies it)', async () => {
    const err = await expectIntegrity(openBundle(await signedByOther(), { key: keys.publicKeyPem }), ErrorCode.signatureInvalid, 'changed after signing');
    expect(err.hint).toContain('--key may be repeated');
  });

  it('several trusted keys: the one the bundle names verifies it', async () => {
    const bundle = await openBundle(bench.good.signedPath, { key: [otherKeys.publicKeyPem, keys.publicKeyPem] });
    expect(bundle.signature).toBe('verified');
    expect(bundle.keyId).toBe(keys.keyId);
    await bundle.close();
  });

  it('ferry verify --key A.pub --key B.pub: one line, exit 5, naming both ids', async () => {
    const a = bench.path('a.pub');
    const b = bench.path('b.pub');
    await writeFile(a, keys.publicKeyPem);
    await writeFile(b, otherKeys.publicKeyPem);
    const path = await signedByOther();
    expectRefusal(await ferry(['verify', path, '--key', a, '--key', b]), 5, `signed by another key (id ${otherKeys.keyId}), expected ${keys.keyId}`);
    expect((await ferry(['verify', bench.good.signedPath, '--key', b, '--key', a])).code).toBe(0);
  });
});
