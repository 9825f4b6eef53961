// A big store for the store and serve measures, made fast: ferry's own
// openStore() creates the store (VERSION, schema), then the blob files are
// written in batches and every index row goes in through one transaction of
// prepared statements. Shape: `big/app` with BIG tags plus REPOS-1 repositories
// of one tag each; every tag names its own manifest (config + LAYERS layers);
// GARBAGE unreferenced blobs, old enough for gc to sweep. The same repositories
// and tags (manifests only) are written into distribution's layout for the
// docker-registry it is compared with.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { REPO_ROOT } from './context.mjs';
import { Layout } from './scale-set.mjs';

const LAYERS = 6;
const MT = 'application/vnd.oci.image.manifest.v1+json';

export function fillShape(quick) {
  const repos = quick ? 200 : 2000;
  const big = quick ? 1000 : 10000;
  const manifests = big + repos - 1;
  const garbage = Math.max(0, (quick ? 10_000 : 100_000) - manifests * (LAYERS + 2));
  return { repos, big, manifests, garbage, blobs: manifests * (LAYERS + 2) + garbage, tags: manifests };
}

function blob(text) {
  const bytes = Buffer.from(text);
  return { bytes, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length };
}

function* images(shape) {
  for (let m = 0; m < shape.manifests; m++) {
    const [repo, tag] = m < shape.big ? ['big/app', `t${String(m).padStart(5, '0')}`] : [`many/r${String(m - shape.big).padStart(4, '0')}`, '1.0'];
    const config = blob(JSON.stringify({ architecture: 'amd64', os: 'linux', n: m }));
    const layers = Array.from({ length: LAYERS }, (_, k) => blob(`layer ${m}.${k}`));
    const manifest = blob(JSON.stringify({
      schemaVersion: 2,
      mediaType: MT,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size })),
    }));
    yield { repo, tag, config, layers, manifest };
  }
}

async function writeBatch(files) {
  await Promise.all(files.map(([path, bytes]) => writeFile(path, bytes)));
  files.length = 0;
}

/** Fills a new ferry store at `dir`; returns the shape. */
export async function fillStore(dir, shape) {
  const { openStore } = await import(join(REPO_ROOT, 'dist', 'store', 'index.js'));
  await (await openStore(dir)).close();
  const blobsDir = join(dir, 'blobs', 'sha256');
  await mkdir(blobsDir, { recursive: true });
  const db = new Database(join(dir, 'index.db'));
  db.pragma('journal_mode = WAL');
  const now = Date.now();
  const old = now - 30 * 24 * 3600 * 1000;
  const s = {
    blob: db.prepare('INSERT OR IGNORE INTO blobs (digest, size, media_type, created_at, touched_at) VALUES (?, ?, ?, ?, ?)'),
    manifest: db.prepare('INSERT OR IGNORE INTO manifests (digest, media_type, created_at) VALUES (?, ?, ?)'),
    edge: db.prepare('INSERT OR IGNORE INTO edges (parent, kind, position, child, descriptor) VALUES (?, ?, ?, ?, ?)'),
    repo: db.prepare('INSERT OR IGNORE INTO repositories (name, created_at) VALUES (?, ?)'),
    repoId: db.prepare('SELECT id FROM repositories WHERE name = ?'),
    link: db.prepare('INSERT OR IGNORE INTO links (repo_id, digest, linked_at) VALUES (?, ?, ?)'),
    tag: db.prepare('INSERT OR REPLACE INTO tags (repo_id, tag, digest, updated_at) VALUES (?, ?, ?, ?)'),
  };
  const files = [];
  const rows = [];
  for (const img of images(shape)) {
    for (const b of [img.manifest, img.config, ...img.layers]) files.push([join(blobsDir, b.digest.slice(7)), b.bytes]);
    rows.push(img);
    if (files.length >= 2048) await writeBatch(files);
  }
  for (let g = 0; g < shape.garbage; g++) {
    const b = blob(`garbage ${g}`);
    files.push([join(blobsDir, b.digest.slice(7)), b.bytes]);
    rows.push({ garbage: b });
    if (files.length >= 2048) await writeBatch(files);
  }
  await writeBatch(files);
  db.transaction(() => {
    const ids = new Map();
    for (const r of rows) {
      if (r.garbage) {
        s.blob.run(r.garbage.digest, r.garbage.size, null, old, old);
        continue;
      }
      if (!ids.has(r.repo)) {
        s.repo.run(r.repo, now);
        ids.set(r.repo, s.repoId.get(r.repo).id);
      }
      const id = ids.get(r.repo);
      s.blob.run(r.manifest.digest, r.manifest.size, MT, now, now);
      s.manifest.run(r.manifest.digest, MT, now);
      for (const [k, b] of [r.config, ...r.layers].entries()) {
        s.blob.run(b.digest, b.size, null, now, now);
        s.edge.run(r.manifest.digest, k ? 'layer' : 'config', k ? k - 1 : 0, b.digest, JSON.stringify({ digest: b.digest, size: b.size }));
        s.link.run(id, b.digest, now);
      }
      s.link.run(id, r.manifest.digest, now);
      s.tag.run(id, r.tag, r.manifest.digest, now);
    }
  })();
  db.close();
  return shape;
}

/** The same repositories and tags (manifest blobs only) in distribution's layout under `dir`. */
export async function fillRegistryLayout(dir, shape) {
  const layout = new Layout(dir);
  for (const img of images(shape)) {
    const desc = layout.manifestIn(img.repo, img.manifest.bytes, MT);
    layout.tag(img.repo, img.tag, desc.digest);
    layout.layerIn(img.repo, desc); // distribution's _catalog counts a directory holding _layers as a repository
    if (layout.files.length > 5000) await layout.flush();
  }
  await layout.flush();
}
