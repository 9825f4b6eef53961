import Database from 'better-sqlite3';
import type { Descriptor } from '../core/descriptor.js';
import type { Digest } from '../core/digest.js';
import { IntegrityError } from '../core/errors.js';
import type { EdgeKind } from '../core/manifest.js';
import type { Platform } from '../core/platform.js';
import { MAX_INDEX_DB_BYTES } from '../core/limits.js';
import type { ImageTotals } from './format.js';
import { childGraph, reachable, type ChildGraph } from './manifest-db-reach.js';
import { breachedBound, type DbPromise } from './manifest-db-bounds.js';
import { carriedBlobs, type CarriedBlobs } from './manifest-db-carried.js';
import { bad, blobOfRaw, digestCol, imageOfRaw, opt, optText, platformOfRaw, textCol, toBlob, toEdge, toImage, toManifest, type Row } from './manifest-db-rows.js';
import { MANIFEST_DB_APPLICATION_ID, MANIFEST_DB_TABLES, MANIFEST_DB_VERSION, type BlobKind } from './manifest-db-schema.js';

// Read side of ferry/index.db: opened read-only (query_only, untrusted schema
// off) from the reader's memory or its private spool file after its digest
// matched bundle.json. The schema must be exactly ours; every row is validated as it
// is read, since an unsigned bundle's index is only as good as its maker.

export interface DbImage {
  name: string;
  registry: string;
  repository: string;
  tag?: string;
  digest: Digest;
  mediaType: string;
  size: number;
}
export interface DbBlob {
  descriptor: Descriptor;
  kind: BlobKind;
  included: boolean;
  /** Index in tar order. */
  position: number;
}
export interface DbManifest {
  digest: Digest;
  mediaType: string;
  artifactType?: string;
  subject?: Digest;
  platform?: Platform;
}
export interface DbEdge {
  parent: Digest;
  position: number;
  kind: EdgeKind;
  child: Digest;
}
export interface DbReferrer {
  subject: Digest;
  digest: Digest;
  artifactType?: string;
  image: string;
  /** The tag it was found under (cosign), to re-apply on import. */
  tag?: string;
}
export interface SizeTotals {
  blobs: number;
  bytes: number;
  /** Carried in the bundle. */
  included: { blobs: number; bytes: number };
  /** Left out of a delta bundle (the target is assumed to hold them). */
  assumed: { blobs: number; bytes: number };
}

/** What inspect shows per image root: its totals and the platforms under it. */
export interface RootSummary {
  totals: SizeTotals;
  platforms: Platform[];
}


let expectedMaster: string | undefined;
/** sqlite_master of an empty database with our schema, as text. */
function schemaFingerprint(db: Database.Database): string {
  const rows = db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name').all();
  return JSON.stringify(rows);
}
function expectedSchema(): string {
  if (expectedMaster === undefined) {
    const mem = new Database(':memory:');
    for (const [, sql] of MANIFEST_DB_TABLES) mem.exec(sql);
    expectedMaster = schemaFingerprint(mem);
    mem.close();
  }
  return expectedMaster;
}


export class ManifestDb {
  private readonly db: Database.Database;
  /** Prepared once per connection: inspect and import query per image. */
  private readonly statements = new Map<string, Database.Statement>();
  private urls: Map<string, string[]> | undefined;
  private imageRows: readonly DbImage[] | undefined;
  /** blobs(), read once: the head check, locateBlobs and the blob iterator each want every row (15-20 ms a read at 4,000 blobs). */
  private allBlobs: readonly DbBlob[] | undefined;
  /** What walking an image's graph needs, read once (see reach()). */
  private graph: { edges: ChildGraph; blobs: readonly DbBlob[]; platformOf: ReadonlyArray<Platform | undefined> } | undefined;

  private constructor(db: Database.Database) {
    this.db = db;
  }

  /**
   * Opens and checks a manifest index, a file or its bytes (deserialized, read-only);
   * IntegrityError naming ferry/index.db if it is not ours, or breaks a bound
   * (with `promise`: row counts too).
   */
  static open(source: string | Buffer, promise?: DbPromise): ManifestDb {
    let db: Database.Database | undefined;
    try {
      db = new Database(source, { readonly: true, fileMustExist: true });
      db.pragma('query_only = ON');
      db.pragma('trusted_schema = OFF');
      // The file is read four times over (quick_check, the bounds scans, the queries): map it, not 2,500 preads of 4 KiB at 1,000 images.
      db.pragma(`mmap_size = ${MAX_INDEX_DB_BYTES}`);
      if (db.pragma('application_id', { simple: true }) !== MANIFEST_DB_APPLICATION_ID) throw bad('is not a ferry manifest index (application_id)');
      const version = db.pragma('user_version', { simple: true });
      if (version !== MANIFEST_DB_VERSION) throw bad(`has schema version ${String(version)}, this ferry reads ${MANIFEST_DB_VERSION}`);
      if (schemaFingerprint(db) !== expectedSchema()) throw bad('has an unexpected schema');
      if (db.pragma('quick_check', { simple: true }) !== 'ok') throw bad('fails SQLite quick_check');
      const breach = breachedBound(db, promise);
      if (breach) throw bad(breach);
      return new ManifestDb(db);
    } catch (err) {
      db?.close();
      if (err instanceof IntegrityError) throw err;
      throw bad(`cannot be read as SQLite (${(err as Error).message})`, err);
    }
  }

  close(): void {
    this.db.close();
  }

  private all(sql: string, ...params: unknown[]): Row[] {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement.all(...params) as Row[];
  }

  /** Rows as arrays, for large reads whose columns the caller checks itself. */
  private raw(sql: string, ...params: unknown[]): unknown[][] {
    let statement = this.statements.get(`raw:${sql}`);
    if (!statement) {
      statement = this.db.prepare(sql).raw(true);
      this.statements.set(`raw:${sql}`, statement);
    }
    return statement.all(...params) as unknown[][];
  }

  images(): DbImage[] {
    // Read once per open (the file is read-only): the head check and inspect both list them.
    this.imageRows ??= this.raw('SELECT name, registry, repository, tag, digest, media_type, size FROM images ORDER BY name').map(imageOfRaw);
    return [...this.imageRows];
  }

  image(name: string): DbImage | undefined {
    return this.all('SELECT * FROM images WHERE name = ?', name).map(toImage)[0];
  }

  /** The head check's sums over the blob list, made inside SQLite; undefined if a row would be refused (read blobs() for the refusal). */
  carried(): CarriedBlobs | undefined {
    return carriedBlobs(this.db);
  }

  /** Every blob, in tar order (assumed ones too; see `included`). Read once and shared, so frozen. */
  blobs(): readonly DbBlob[] {
    if (!this.allBlobs) {
      const urls = this.urlMap();
      // Arrays, not a row object per blob (4,243 at 1,000 images): the same checks, column by column, in toBlob's order.
      // Sorted after a table scan (`+position`, ties as the position index orders them), not read through that index:
      // a seek by digest per row cost twice the scan and sort (4,306 blobs: 13 → 6.5 ms warm).
      const rows = this.raw('SELECT digest, kind, media_type, size, position, included FROM blobs ORDER BY +position, digest');
      this.allBlobs = Object.freeze(rows.map((r) => frozen(blobOfRaw(r, urls))));
    }
    return this.allBlobs;
  }

  blob(digest: Digest): DbBlob | undefined {
    return this.all('SELECT * FROM blobs WHERE digest = ?', digest).map((r) => toBlob(r, this.urlMap(digest)))[0];
  }

  /** Blobs reachable from `root` (subjects not followed), in tar order. Copies: the caller may change them. */
  blobsOf(root: Digest): DbBlob[] {
    return this.reach(root).map(({ descriptor, ...rest }) => ({ ...rest, descriptor: { ...descriptor, ...(descriptor.urls ? { urls: [...descriptor.urls] } : {}) } }));
  }

  manifest(digest: Digest): DbManifest | undefined {
    return this.all('SELECT * FROM manifests WHERE digest = ?', digest).map(toManifest)[0];
  }

  /** Platforms of the platform manifests reachable from `root`, in tar order. */
  platforms(root: Digest): Platform[] {
    return this.platformsAmong(this.reach(root));
  }

  children(parent: Digest): DbEdge[] {
    return this.all('SELECT * FROM edges WHERE parent = ? ORDER BY position', parent).map(toEdge);
  }

  /** Referrers (signatures, SBOMs) of `subject`, or all of them. */
  referrers(subject?: Digest): DbReferrer[] {
    const rows = subject ? this.all('SELECT * FROM referrers WHERE subject = ? ORDER BY digest', subject) : this.all('SELECT * FROM referrers ORDER BY subject, digest');
    return rows.map((r) => ({ subject: digestCol(r, 'subject'), digest: digestCol(r, 'digest'), image: textCol(r, 'image'), ...opt('artifactType', optText(r, 'artifact_type')), ...opt('tag', optText(r, 'tag')) }));
  }

  /** Totals over every blob reachable from `root`, or over the whole bundle. */
  totals(root?: Digest): SizeTotals {
    return totalsOf(root ? this.reach(root) : this.blobs());
  }

  /** Totals and platforms of every image root: what inspect shows, without a query per image. */
  rootSummaries(): Map<Digest, RootSummary> {
    const out = new Map<Digest, RootSummary>();
    const { edges, blobs, platformOf } = this.walkGraph();
    for (const { digest: root } of this.images()) {
      if (out.has(root)) continue;
      // One walk for both, unsorted: totals do not need tar order, and only the few platform manifests are put in it.
      const totals = emptyTotals();
      const platformed: DbBlob[] = [];
      for (let i = 0, count = reachable(edges, root); i < count; i++) {
        const n = edges.found[i] as number;
        const blob = blobs[n];
        if (!blob) continue;
        addTo(totals, blob);
        if (platformOf[n]) platformed.push(blob);
      }
      out.set(root, { totals, platforms: this.platformsAmong(platformed.sort(byPosition)) });
    }
    return out;
  }

  /**
   * The blobs reachable from `root` (subjects not followed), in tar order: the
   * shared rows of blobs(). Walked in JS over the edges read once per open, not a
   * recursive query per root: inspect, import and the k8s plans ask for every
   * image (1,000 queries at N=1,000, or one over all roots with temp B-trees for
   * its UNION and ORDER BY, ~50 ms).
   */
  private reach(root: Digest): DbBlob[] {
    const { edges, blobs } = this.walkGraph();
    // Blobs only (an edge may name a digest the bundle does not list), in tar order.
    const out: DbBlob[] = [];
    for (let i = 0, count = reachable(edges, root); i < count; i++) {
      const blob = blobs[edges.found[i] as number];
      if (blob) out.push(blob);
    }
    return out.sort(byPosition);
  }

  /** The platforms of the platform manifests among `blobs`, in their order. */
  private platformsAmong(blobs: readonly DbBlob[]): Platform[] {
    const { edges, platformOf } = this.walkGraph();
    const out: Platform[] = [];
    for (const b of blobs) {
      const platform = platformOf[edges.node.get(b.descriptor.digest) as number];
      if (platform) out.push(platform);
    }
    return out;
  }

  private walkGraph(): NonNullable<ManifestDb['graph']> {
    if (!this.graph) {
      // Blob i is node i (tar order); a manifest's platform is kept under its blob's number (no blob, no use for it).
      const manifests = this.raw('SELECT digest, media_type, artifact_type, subject, os, architecture, variant, os_version FROM manifests WHERE os IS NOT NULL');
      const platforms = manifests.map(platformOfRaw);
      const edgeRows = this.raw("SELECT parent, child FROM edges WHERE kind <> 'subject'");
      const blobs = this.blobs();
      const node = new Map<string, number>();
      for (let i = 0; i < blobs.length; i++) node.set((blobs[i] as DbBlob).descriptor.digest, i);
      const platformOf: Array<Platform | undefined> = [];
      manifests.forEach((r, i) => {
        const n = node.get(r[0] as string);
        if (platforms[i] && n !== undefined) platformOf[n] = platforms[i];
      });
      this.graph = { edges: childGraph(node, edgeRows), blobs, platformOf };
    }
    return this.graph;
  }

  private urlMap(digest?: Digest): Map<string, string[]> {
    // The table is immutable once opened: read it once, not per blobsOf call.
    if (!digest && this.urls) return this.urls;
    const rows = digest ? this.all('SELECT * FROM foreign_urls WHERE digest = ? ORDER BY position', digest) : this.all('SELECT * FROM foreign_urls ORDER BY digest, position');
    const map = new Map<string, string[]>();
    for (const r of rows) {
      const url = textCol(r, 'url');
      if (!/^https?:\/\//i.test(url)) throw bad(`foreign layer URL '${url.slice(0, 80)}' is not http(s)`);
      const key = digestCol(r, 'digest');
      map.set(key, [...(map.get(key) ?? []), url]);
    }
    if (!digest) this.urls = map;
    return map;
  }
}

/** A row shared between callers: none may change it under the others. */
function frozen(blob: DbBlob): DbBlob {
  if (blob.descriptor.urls) Object.freeze(blob.descriptor.urls);
  Object.freeze(blob.descriptor);
  return Object.freeze(blob);
}

/** What bundle.json carries per image (`totals`) from a root's summary; zeros for a root that reaches nothing. */
export function imageTotalsOf(summary: RootSummary | undefined): ImageTotals {
  const t = summary?.totals;
  return { blobs: t?.blobs ?? 0, bytes: t?.bytes ?? 0, assumedBytes: t?.assumed.bytes ?? 0 };
}

function emptyTotals(): SizeTotals {
  return { blobs: 0, bytes: 0, included: { blobs: 0, bytes: 0 }, assumed: { blobs: 0, bytes: 0 } };
}

function byPosition(a: DbBlob, b: DbBlob): number {
  return a.position - b.position;
}

/** Totals over rows read by blobs() (each already checked). */
function totalsOf(blobs: readonly DbBlob[]): SizeTotals {
  const t = emptyTotals();
  for (const blob of blobs) addTo(t, blob);
  return t;
}

function addTo(t: SizeTotals, { descriptor, included }: DbBlob): void {
  const part = included ? t.included : t.assumed;
  t.blobs += 1;
  t.bytes += descriptor.size;
  part.blobs += 1;
  part.bytes += descriptor.size;
}
