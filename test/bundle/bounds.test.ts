import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { generateKeyPair, openBundle, verifyBundle, writeBundle } from '../../src/bundle/index.js';
import { COLUMN_BOUNDS } from '../../src/bundle/manifest-db-bounds.js';
import { MANIFEST_DB_TABLES } from '../../src/bundle/manifest-db-schema.js';
import { ErrorCode } from '../../src/core/errors.js';
import { MAX_JSON_DEPTH } from '../../src/core/limits.js';
import { ferry } from '../helpers/ferry-cli.js';
import { entryNamed } from '../helpers/tar-entries.js';
import { expectRefusal } from '../helpers/transfer-kit.js';
import { ALL_IMAGES, expectIntegrity, fetchFrom, imageInput, testImages } from './fixtures.js';
import { editIndexDb, hostileBench, injectIntoBundleJson, nested, rehash, resign } from './surgery.js';

// Issue 11 item 12: nothing read from an untrusted bundle is trusted for its
// size. index.db is bounded as a file (absolute, and relative to the rows
// bundle.json promises), per column and per table; every JSON document in size
// and nesting depth. Each refusal is one line (exit 5) naming the entry and the bound.

const keys = generateKeyPair();
const bench = hostileBench('ferry-bounds-', keys.privateKeyPem);
const { hostile } = bench;
let counter = 0;

const scratch = () => bench.path(`scratch-${++counter}.db`);
const LAST_BLOB = '(SELECT max(position) FROM blobs)';

describe('ferry/index.db is bounded before a row is trusted', () => {
  it('an unsigned bundle whose index.db carries an 8 MB media_type: refused by its size, naming the bound, before SQLite opens it', async () => {
    const path = await hostile(bench.good.unsigned, (e) =>
      editIndexDb(e, scratch(), (db) => db.prepare(`UPDATE blobs SET media_type = ? WHERE position = ${LAST_BLOB}`).run(`application/${'x'.repeat(8_000_000)}`)),
    );
    const err = await expectIntegrity(verifyBundle(path), ErrorCode.bundleInvalid, 'ferry/index.db');
    expect(err.message).toMatch(/: \d+ bytes, over the \d+-byte limit for a bundle of \d+ blobs and 7 images/);
  });

  it.each([
    ['blobs', 'media_type', `position = ${LAST_BLOB}`, 'application/'],
    ['images', 'registry', '1', ''],
    ['images', 'tag', 'tag IS NOT NULL', ''],
    ['manifests', 'os', 'os IS NOT NULL', ''],
    ['manifests', 'artifact_type', 'artifact_type IS NOT NULL', 'application/'],
    ['foreign_urls', 'url', '1', 'http://'],
    ['referrers', 'image', '1', ''],
  ])('%s.%s one character over its bound: refused naming the column and the bound', async (table, column, where, prefix) => {
    const bound = (COLUMN_BOUNDS[table]?.[column] as { text: number }).text;
    const path = await hostile(bench.good.unsigned, (e) =>
      editIndexDb(e, scratch(), (db) => {
        const changed = db.prepare(`UPDATE ${table} SET ${column} = ? WHERE ${where}`).run(prefix + 'x'.repeat(bound + 1 - prefix.length));
        expect(changed.changes, 'the test bundle has such a row').toBeGreaterThan(0);
      }),
    );
    const err = await expectIntegrity(verifyBundle(path), ErrorCode.bundleInvalid, 'ferry/index.db');
    expect(err.message).toContain(`${table}.${column} holds a value of ${bound + 1} characters, over the ${bound}-character limit`);
  });

  it('a number where text belongs (images.repository): refused naming the column', async () => {
    const path = await hostile(bench.good.unsigned, (e) => editIndexDb(e, scratch(), (db) => db.prepare('UPDATE images SET repository = zeroblob(16)').run()));
    const err = await expectIntegrity(verifyBundle(path), ErrorCode.bundleInvalid, 'ferry/index.db');
    expect(err.message).toContain('images.repository holds a value that is not text');
  });

  it('more edges than the bundle’s manifests could name: refused naming the table', async () => {
    const path = await hostile(bench.good.unsigned, (e) =>
      editIndexDb(e, scratch(), (db) => {
        const insert = db.prepare(`INSERT INTO edges VALUES (?, ?, 'layer', ?)`);
        const parent = `sha256:${'e'.repeat(64)}`;
        db.transaction(() => {
          for (let i = 0; i < 5000; i++) insert.run(parent, i, `sha256:${'f'.repeat(64)}`);
        })();
      }),
    );
    const err = await expectIntegrity(verifyBundle(path), ErrorCode.bundleInvalid, 'ferry/index.db');
    expect(err.message).toMatch(/has \d+ edges, more than \d+ bytes of manifests can name/);
  });

  it('every column of the schema has a bound (a new column must get one)', () => {
    const mem = new Database(':memory:');
    for (const [, sql] of MANIFEST_DB_TABLES) mem.exec(sql);
    for (const [table] of MANIFEST_DB_TABLES) {
      const columns = (mem.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name).sort();
      expect(Object.keys(COLUMN_BOUNDS[table] ?? {}).sort(), table).toEqual(columns);
    }
    mem.close();
  });
});

describe('JSON documents are bounded in size and nesting depth', () => {
  it('a signed bundle.json with a 100,000-deep nested field: refused, naming the entry and the depth limit', async () => {
    const path = await hostile(bench.good.signed, (e) => {
      injectIntoBundleJson(e, `"x":${nested(100_000)}`);
      resign(e, keys.privateKeyPem);
    });
    const err = await expectIntegrity(openBundle(path, { key: keys.publicKeyPem }), ErrorCode.bundleInvalid, 'ferry/bundle.json');
    expect(err.message).toContain(`JSON nested deeper than the ${MAX_JSON_DEPTH}-level limit`);
  });

  it(`bundle.json at exactly ${MAX_JSON_DEPTH} levels is read; one more is refused`, async () => {
    // The field sits inside the top-level object: one level of its own.
    const at = await hostile(bench.good.signed, (e) => {
      injectIntoBundleJson(e, `"x":${nested(MAX_JSON_DEPTH - 1)}`);
      resign(e, keys.privateKeyPem);
    });
    const bundle = await openBundle(at, { key: keys.publicKeyPem });
    await bundle.close();
    const over = await hostile(bench.good.signed, (e) => {
      injectIntoBundleJson(e, `"x":${nested(MAX_JSON_DEPTH)}`);
      resign(e, keys.privateKeyPem);
    });
    await expectIntegrity(openBundle(over, { key: keys.publicKeyPem }), ErrorCode.bundleInvalid, 'nested deeper');
  });

  it('brackets inside strings do not count as nesting', async () => {
    const path = await hostile(bench.good.signed, (e) => {
      injectIntoBundleJson(e, `"x":${JSON.stringify(`"\\[${'['.repeat(1000)}`)}`);
      resign(e, keys.privateKeyPem);
    });
    const bundle = await openBundle(path, { key: keys.publicKeyPem });
    await bundle.close();
  });

  it('an index.json with a deeply nested field (re-hashed, unsigned): refused naming index.json', async () => {
    const path = await hostile(bench.good.unsigned, (e) => {
      const index = entryNamed(e, 'index.json');
      index.data = Buffer.from(`{"x":${nested(10_000)},${index.data.toString('utf8').slice(1)}`);
      rehash(e, 'index.json');
    });
    const err = await expectIntegrity(openBundle(path), ErrorCode.bundleInvalid, 'index.json');
    expect(err.message).toContain('nested deeper');
  });

  it('a volume list with a deeply nested field: refused naming NAME.volumes.json', async () => {
    const { set, blobs } = await testImages();
    await mkdir(bench.path('vols'));
    const out = join(bench.path('vols'), 'app');
    await writeBundle({ images: ALL_IMAGES.map((k) => imageInput(set, k)), fetch: fetchFrom(blobs).fetch, out, split: 160 * 1024, toolVersion: 't', created: new Date('2024-05-01T00:00:00Z') });
    const sidecar = `${out}.volumes.json`;
    const text = await readFile(sidecar, 'utf8');
    await writeFile(sidecar, `{"x":${nested(10_000)},${text.slice(1)}`);
    const err = await expectIntegrity(openBundle(`${out}.000`), ErrorCode.bundleInvalid, 'app.volumes.json');
    expect(err.message).toContain('nested deeper');
  });
});

describe('through the CLI: one line, exit 5, nothing imported', () => {
  it('ferry verify and ferry import --to-store refuse the oversized index.db and leave the store without an image', async () => {
    const path = await hostile(bench.good.unsigned, (e) =>
      editIndexDb(e, scratch(), (db) => db.prepare(`UPDATE blobs SET media_type = ? WHERE position = ${LAST_BLOB}`).run(`application/${'x'.repeat(8_000_000)}`)),
    );
    expectRefusal(await ferry(['verify', path]), 5, 'ferry/index.db', 'limit');
    const store = bench.path('store');
    expectRefusal(await ferry(['import', path, '--to-store', '--store', store]), 5, 'ferry/index.db', 'limit');
    const listed = await ferry(['store', 'ls', '--store', store, '--json']);
    if (listed.code === 0) expect(listed.json, 'no image in the store').toEqual({ ok: true, images: [] });
    else expect(listed.stderr, 'or no store at all').toContain('no ferry store');
  });
});
