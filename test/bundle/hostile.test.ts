import { copyFile, readFile, appendFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, openBundle, parseBundleJson, verifyBundle } from '../../src/bundle/index.js';
import { indexJsonOf, parseIndexJson } from '../../src/bundle/index-json.js';
import { digestOf } from '../../src/core/digest.js';
import { ErrorCode } from '../../src/core/errors.js';
import { cloneEntries, entryNamed } from '../helpers/tar-entries.js';
import { expectIntegrity, writeTar, type RawEntry } from './fixtures.js';
import { editIndexDb, hostileBench, rehash } from './surgery.js';

// Every hostile bundle is refused with one IntegrityError (exit 5) that names
// the culprit. Each case starts from a good bundle, read as entries, changed
// the way an attacker or a bad USB stick would, and written back as a tar.

const keys = generateKeyPair();
const otherKeys = generateKeyPair();
const bench = hostileBench('ferry-hostile-', keys.privateKeyPem);
let unsignedPath: string;
let signedPath: string;
let unsigned: RawEntry[];
let signed: RawEntry[];
let counter = 0;

beforeAll(() => {
  ({ unsignedPath, signedPath, unsigned, signed } = bench.good);
});

const clone = cloneEntries;
const find = entryNamed;
/** The first layer blob entry (the big ones come last in tar order). */
const lastBlob = (entries: readonly RawEntry[]): RawEntry => entries[entries.length - 1] as RawEntry;

async function hostile(entries: RawEntry[]): Promise<string> {
  const path = bench.path(`written-${++counter}.tar`);
  await writeTar(path, entries);
  return path;
}

describe('hostile blobs', () => {
  it('a flipped bit in a layer: digest mismatch naming the entry', async () => {
    const entries = clone(unsigned);
    const layer = lastBlob(entries);
    layer.data[Math.floor(layer.data.length / 2)] ^= 0x01;
    await expectIntegrity(verifyBundle(await hostile(entries)), ErrorCode.digestMismatch, layer.header.name);
  });

  it('the flipped bit reaches a consumer as a stream error, and the iterator refuses to go on', async () => {
    const entries = clone(unsigned);
    const layer = lastBlob(entries);
    layer.data[10] ^= 0x80;
    const bundle = await openBundle(await hostile(entries));
    try {
      const run = async () => {
        for await (const blob of bundle.blobs()) {
          for await (const _ of blob.stream) {
            // consume
          }
        }
      };
      await expectIntegrity(run(), ErrorCode.digestMismatch, layer.header.name);
    } finally {
      await bundle.close();
    }
  });

  it('a blob under the wrong name (two blobs swapped): mismatch naming the entry', async () => {
    const entries = clone(unsigned);
    const a = entries[entries.length - 1] as RawEntry;
    const b = entries[entries.length - 2] as RawEntry;
    [a.data, b.data] = [b.data, a.data];
    const err = await expectIntegrity(verifyBundle(await hostile(entries)), ErrorCode.sizeMismatch, b.header.name);
    expect(err.message).toContain('size mismatch');
  });

  it('a blob of the right size under the wrong name: digest mismatch naming the entry', async () => {
    const entries = clone(unsigned);
    const a = lastBlob(entries);
    a.data = Buffer.alloc(a.data.length, 7);
    await expectIntegrity(verifyBundle(await hostile(entries)), ErrorCode.digestMismatch, a.header.name);
  });

  it('an extra blob not listed in SHA256SUMS', async () => {
    const entries = clone(unsigned);
    const data = Buffer.from('smuggled');
    const name = `blobs/sha256/${digestOf(data).slice(7)}`;
    entries.push({ header: { name }, data });
    await expectIntegrity(verifyBundle(await hostile(entries)), ErrorCode.bundleInvalid, name);
  });

  it('a missing blob (dropped entry)', async () => {
    const entries = clone(unsigned);
    const dropped = entries.splice(10, 1)[0] as RawEntry;
    const err = await expectIntegrity(verifyBundle(await hostile(entries)), ErrorCode.bundleInvalid, dropped.header.name);
    expect(err.message).toContain('missing');
  });

  it('a truncated tar (cut inside a layer)', async () => {
    const size = (await readFile(unsignedPath)).length;
    const path = bench.path('truncated.tar');
    await copyFile(unsignedPath, path);
    const { truncate } = await import('node:fs/promises');
    await truncate(path, size - 4096);
    const err = await expectIntegrity(verifyBundle(path), ErrorCode.bundleInvalid, lastBlob(unsigned).header.name);
    expect(err.message).toContain('truncated');
  });

  it('a tar cut inside the head', async () => {
    const path = bench.path('head-cut.tar');
    await copyFile(unsignedPath, path);
    const { truncate } = await import('node:fs/promises');
    await truncate(path, 3000);
    const err = await expectIntegrity(openBundle(path), ErrorCode.bundleInvalid, 'truncated');
    expect(err.message).toMatch(/index\.json|bundle\.json|index\.db/);
  });

  it('garbage after the end of the tar', async () => {
    const path = bench.path('trailing.tar');
    await copyFile(unsignedPath, path);
    await appendFile(path, Buffer.alloc(2048, 0x41));
    const err = await expectIntegrity(verifyBundle(path), ErrorCode.bundleInvalid, 'corrupt tar header');
    expect(err.message).toContain(lastBlob(unsigned).header.name);
  });
});

describe('hostile entries (entry policy)', () => {
  const cases: { what: string; change: (e: RawEntry[]) => string; expect?: string }[] = [
    {
      what: 'a duplicate blob entry',
      change: (e) => {
        const b = e[8] as RawEntry;
        e.push({ header: { ...b.header }, data: b.data });
        return b.header.name;
      },
      expect: 'appears twice',
    },
    {
      what: 'a duplicate head entry',
      change: (e) => {
        const i = e.findIndex((x) => x.header.name === 'index.json');
        e.splice(i + 1, 0, { header: { name: 'index.json' }, data: (e[i] as RawEntry).data });
        return 'index.json';
      },
      expect: 'appears twice',
    },
    { what: 'an unknown name', change: (e) => (e.push({ header: { name: 'README.txt' }, data: Buffer.from('hi') }), 'README.txt'), expect: 'unknown name' },
    { what: 'an unknown ferry/ file in the head', change: (e) => (e.splice(3, 0, { header: { name: 'ferry/extra' }, data: Buffer.from('x') }), 'ferry/extra') },
    { what: "a '..' path", change: (e) => (e.splice(1, 0, { header: { name: '../../etc/cron.d/evil' }, data: Buffer.from('x') }), '../../etc/cron.d/evil'), expect: "'..'" },
    { what: 'an absolute path', change: (e) => (e.push({ header: { name: '/etc/passwd' }, data: Buffer.from('x') }), '/etc/passwd'), expect: 'absolute' },
    {
      what: 'a symlink posing as a blob',
      change: (e) => {
        const b = e.pop() as RawEntry;
        e.push({ header: { name: b.header.name, type: 'symlink', linkname: '/etc/shadow' }, data: Buffer.alloc(0) });
        return b.header.name;
      },
      expect: 'symbolic link',
    },
    {
      what: 'a hard link',
      change: (e) => {
        const b = e.pop() as RawEntry;
        e.push({ header: { name: b.header.name, type: 'link', linkname: 'oci-layout' }, data: Buffer.alloc(0) });
        return b.header.name;
      },
      expect: 'hard link',
    },
    { what: 'a directory entry', change: (e) => (e.splice(6, 0, { header: { name: 'blobs/sha256/', type: 'directory' }, data: Buffer.alloc(0) }), 'blobs/sha256/'), expect: 'directory' },
    {
      what: 'a character device',
      change: (e) => (e.push({ header: { name: 'blobs/sha256/' + 'a'.repeat(64), type: 'character-device', devmajor: 1, devminor: 3 }, data: Buffer.alloc(0) }), 'a'.repeat(64)),
      expect: 'character device',
    },
    {
      what: 'a blob before SHA256SUMS (metadata must precede blobs)',
      change: (e) => {
        const blob = e.splice(8, 1)[0] as RawEntry;
        e.splice(e.findIndex((x) => x.header.name === 'ferry/SHA256SUMS'), 0, blob);
        return blob.header.name;
      },
      expect: 'metadata must precede blobs',
    },
    {
      what: 'index.json before bundle.json',
      change: (e) => {
        const i = e.findIndex((x) => x.header.name === 'index.json');
        const [idx] = e.splice(i, 1);
        e.splice(1, 0, idx as RawEntry);
        return 'index.json';
      },
      expect: 'out of order',
    },
  ];
  for (const c of cases) {
    it(`refuses ${c.what}`, async () => {
      const entries = clone(unsigned);
      const culprit = c.change(entries);
      const err = await expectIntegrity(verifyBundle(await hostile(entries)), ErrorCode.bundleInvalid, culprit);
      if (c.expect) expect(err.message).toContain(c.expect);
    });
  }
});

describe('tampered head files', () => {
  it('a changed index.json: digest mismatch naming index.json', async () => {
    const entries = clone(unsigned);
    const index = find(entries, 'index.json');
    index.data = Buffer.from(index.data.toString('utf8').replace('registry.example:5000/ferry-test/app-a', 'registry.example:5000/ferry-test/app-z'));
    await expectIntegrity(openBundle(await hostile(entries)), ErrorCode.digestMismatch, 'index.json');
  });

  // index.json is what ferry writes for bundle.json's images: those bytes are taken without a parse;
  // any other bytes (another writer's layout, a forgery) take the full parse and the cross-checks.
  it('index.json as ferry writes it is derived from bundle.json; any other bytes are not', () => {
    const bytes = find(unsigned, 'index.json').data;
    const images = parseBundleJson(find(unsigned, 'ferry/bundle.json').data).images;
    expect(indexJsonOf(bytes, images)).toEqual(parseIndexJson(bytes));
    const pretty = Buffer.from(`${JSON.stringify(JSON.parse(bytes.toString('utf8')), null, 2)}\n`);
    expect(indexJsonOf(pretty, images)).toBeUndefined();
    expect(indexJsonOf(bytes, images.slice(1))).toBeUndefined();
  });

  it('an index.json laid out by another writer (re-hashed, unsigned) is parsed and opens', async () => {
    const entries = clone(unsigned);
    const index = find(entries, 'index.json');
    index.data = Buffer.from(`${JSON.stringify(JSON.parse(index.data.toString('utf8')), null, 2)}\n`);
    rehash(entries, 'index.json');
    const bundle = await openBundle(await hostile(entries));
    try {
      expect(bundle.index).toEqual(parseIndexJson(find(unsigned, 'index.json').data));
    } finally {
      await bundle.close();
    }
  });

  it('an index.json naming another image (re-hashed, unsigned) disagrees with index.db', async () => {
    const entries = clone(unsigned);
    const index = find(entries, 'index.json');
    index.data = Buffer.from(index.data.toString('utf8').replaceAll('registry.example:5000/ferry-test/app-a', 'registry.example:5000/ferry-test/app-z'));
    rehash(entries, 'index.json');
    const err = await expectIntegrity(openBundle(await hostile(entries)), ErrorCode.bundleInvalid, 'index.json');
    expect(err.message).toContain('disagrees with ferry/index.db: the images differ');
  });

  // Derived from bundle.json or parsed, index.json is compared with index.db first, and refused under its own name.
  for (const layout of ['as ferry writes it', 'laid out by another writer'] as const) {
    it(`an index.db whose images differ (re-hashed, unsigned), index.json ${layout}: index.json disagrees with index.db`, async () => {
      const entries = clone(unsigned);
      if (layout !== 'as ferry writes it') {
        const index = find(entries, 'index.json');
        index.data = Buffer.from(`${JSON.stringify(JSON.parse(index.data.toString('utf8')), null, 2)}\n`);
        rehash(entries, 'index.json');
      }
      const changeOneImage = 'UPDATE images SET size = size + 1 WHERE name = (SELECT min(name) FROM images)';
      await editIndexDb(entries, bench.path(`images-differ-${layout.length}.db`), (db) => db.exec(changeOneImage));
      const err = await expectIntegrity(openBundle(await hostile(entries)), ErrorCode.bundleInvalid, 'index.json');
      expect(err.message).toBe('index.json disagrees with ferry/index.db: the images differ');
    });
  }

  it('a changed index.db: digest mismatch naming ferry/index.db', async () => {
    const entries = clone(unsigned);
    const db = find(entries, 'ferry/index.db');
    db.data[db.data.length - 100] ^= 0xff;
    await expectIntegrity(openBundle(await hostile(entries)), ErrorCode.digestMismatch, 'ferry/index.db');
  });

  it('a changed SHA256SUMS: digest mismatch naming ferry/SHA256SUMS', async () => {
    const entries = clone(unsigned);
    const sums = find(entries, 'ferry/SHA256SUMS');
    sums.data = Buffer.from(sums.data.toString('utf8').replace(/^./, (c) => (c === 'a' ? 'b' : 'a')));
    await expectIntegrity(openBundle(await hostile(entries)), ErrorCode.digestMismatch, 'ferry/SHA256SUMS');
  });

  it('an unsigned forgery with re-hashed SHA256SUMS still disagrees with index.db', async () => {
    const entries = clone(unsigned);
    const sums = find(entries, 'ferry/SHA256SUMS');
    sums.data = Buffer.from(sums.data.toString('utf8').split('\n').slice(1).join('\n'));
    rehash(entries, 'ferry/SHA256SUMS');
    await expectIntegrity(openBundle(await hostile(entries)), ErrorCode.bundleInvalid, 'ferry/SHA256SUMS');
  });

  // The head check sums the blob list inside SQLite; a row it cannot vouch for is read as before and refused by
  // name. (A column with a CHECK, kind or size, is refused sooner: quick_check tests CHECK constraints.)
  it.each([
    ["blobs SET kind = 'socket'", 'fails SQLite quick_check'],
    ['blobs SET size = -1', 'fails SQLite quick_check'],
    ['blobs SET position = -1', 'position is not a size'],
    ["blobs SET digest = 'sha256:' || upper(substr(digest, 8))", "digest 'sha256:"],
    ["foreign_urls SET url = 'ftp://' || substr(url, 8)", "foreign layer URL 'ftp://"],
  ])('an index.db row past the schema’s CHECKs (re-hashed, unsigned): UPDATE %s is refused by name', async (update, text) => {
    const entries = clone(unsigned);
    await editIndexDb(entries, bench.path(`row-${++counter}.db`), (db) => {
      db.pragma('ignore_check_constraints = ON');
      const table = update.split(' ')[0] as string;
      const last = table === 'blobs' ? 'position = (SELECT max(position) FROM blobs)' : '1';
      expect(db.prepare(`UPDATE ${update} WHERE ${last}`).run().changes).toBeGreaterThan(0);
    });
    const err = await expectIntegrity(openBundle(await hostile(entries)), ErrorCode.bundleInvalid, 'ferry/index.db');
    expect(err.message).toContain(text);
  });

  it('an index.db carrying a view (re-hashed, unsigned) is refused for its schema', async () => {
    const entries = clone(unsigned);
    await editIndexDb(entries, bench.path('evil.db'), (db) => db.exec('CREATE VIEW sneaky AS SELECT 1'));
    const err = await expectIntegrity(openBundle(await hostile(entries)), ErrorCode.bundleInvalid, 'ferry/index.db');
    expect(err.message).toContain('schema');
  });

  it('a changed oci-layout', async () => {
    const entries = clone(unsigned);
    find(entries, 'oci-layout').data = Buffer.from('{"imageLayoutVersion":"9.9.9"}');
    await expectIntegrity(openBundle(await hostile(entries)), ErrorCode.bundleInvalid, 'oci-layout');
  });

  it('a bundle.json that is not JSON', async () => {
    const entries = clone(unsigned);
    find(entries, 'ferry/bundle.json').data = Buffer.from('{"format": "ferry.bundle.v1",');
    await expectIntegrity(openBundle(await hostile(entries)), ErrorCode.bundleInvalid, 'ferry/bundle.json');
  });
});

describe('signatures', () => {
  it('a changed bundle.json in a signed bundle: signature invalid', async () => {
    const entries = clone(signed);
    const bj = find(entries, 'ferry/bundle.json');
    bj.data = Buffer.from(bj.data.toString('utf8').replace('0.1.0-test', '0.1.0-tset'));
    await expectIntegrity(openBundle(await hostile(entries), { key: keys.publicKeyPem }), ErrorCode.signatureInvalid, 'ferry/bundle.json.sig');
  });

  it('a changed index.json re-hashed into a signed bundle.json: signature invalid', async () => {
    const entries = clone(signed);
    const index = find(entries, 'index.json');
    index.data = Buffer.from(index.data.toString('utf8').replace('app-a', 'app-z'));
    rehash(entries, 'index.json');
    await expectIntegrity(openBundle(await hostile(entries), { key: keys.publicKeyPem }), ErrorCode.signatureInvalid, 'ferry/bundle.json');
  });

  it('the wrong key: signature invalid, naming both key ids', async () => {
    const err = await expectIntegrity(openBundle(signedPath, { key: otherKeys.publicKeyPem }), ErrorCode.signatureInvalid, 'ferry/bundle.json');
    expect(err.message).toContain(keys.keyId);
    expect(err.message).toContain(otherKeys.keyId);
  });

  it('a forged signature file (right signer id, wrong bytes)', async () => {
    const entries = clone(signed);
    find(entries, 'ferry/bundle.json.sig').data = Buffer.alloc(64, 1);
    await expectIntegrity(openBundle(await hostile(entries), { key: keys.publicKeyPem }), ErrorCode.signatureInvalid, 'ferry/bundle.json.sig');
  });

  it('an unsigned bundle when a signature is required: signature missing', async () => {
    await expectIntegrity(openBundle(unsignedPath, { key: keys.publicKeyPem }), ErrorCode.signatureMissing, 'ferry/bundle.json');
    await expectIntegrity(openBundle(unsignedPath, { requireSignature: true }), ErrorCode.signatureMissing, 'ferry/bundle.json');
  });

  it('a signature stripped from a signed bundle is refused even without a key', async () => {
    const entries = clone(signed).filter((e) => e.header.name !== 'ferry/bundle.json.sig');
    await expectIntegrity(openBundle(await hostile(entries)), ErrorCode.signatureMissing, 'ferry/bundle.json.sig');
  });

  it('a signed bundle opens with the right key and reads the signer id', async () => {
    const bundle = await openBundle(signedPath, { key: keys.publicKeyPem });
    expect(bundle.signature).toBe('verified');
    expect(bundle.keyId).toBe(keys.keyId);
    await bundle.close();
  });
});
