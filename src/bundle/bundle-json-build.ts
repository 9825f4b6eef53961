import { createHash } from 'node:crypto';
import { UsageError } from '../core/errors.js';
import type { BundleGraph } from './bundle-graph.js';
import { BUNDLE_FORMAT, type BundleJson, type BundleRelease, type EntryDigest } from './format.js';
import { walkedSummaries } from './image-summaries.js';
import { imageTotalsOf, type ManifestDb } from './manifest-db.js';
import { MAX_TAR_MTIME } from './tar-writer.js';
import { byCodeUnits } from '../core/code-unit-order.js';

// bundle.json for a planned bundle, and the two values that must be
// reproducible for the same input: the creation time and the bundle id.

/**
 * The creation time, whole seconds. First `created` (the caller's choice), then
 * SOURCE_DATE_EPOCH (the reproducible-builds convention, read at call time),
 * then the newest image config `created`, then the Unix epoch. Never "now":
 * the same content must give the same bytes.
 */
export function resolveCreated(created: Date | undefined, newestConfig: Date | undefined, env: NodeJS.ProcessEnv = process.env): Date {
  let when = created;
  const epoch = env.SOURCE_DATE_EPOCH;
  if (!when && epoch !== undefined && epoch !== '') {
    if (!/^\d+$/.test(epoch)) throw new UsageError(`SOURCE_DATE_EPOCH '${epoch.slice(0, 40)}' is not a number of seconds`);
    when = new Date(Number(epoch) * 1000);
  }
  when ??= newestConfig ?? new Date(0);
  const seconds = Math.floor(when.getTime() / 1000);
  if (!Number.isFinite(seconds) || seconds < 0 || seconds * 1000 > MAX_TAR_MTIME.getTime()) {
    throw new UsageError(`bundle creation time ${String(when)} is outside 1970..2038, which tar headers cannot hold`);
  }
  return new Date(seconds * 1000);
}

/** A content id: the same head content and creation time give the same id (the releases carried count too). */
export function bundleId(created: string, entries: BundleJson['entries'], assumes: readonly string[], releases: readonly BundleRelease[] = []): string {
  const hash = createHash('sha256').update(`${BUNDLE_FORMAT}\n${created}\n`);
  for (const e of [entries['index.json'], entries['ferry/index.db'], entries['ferry/SHA256SUMS']]) hash.update(`${e.digest} ${e.size}\n`);
  for (const a of assumes) hash.update(`${a}\n`);
  for (const r of releases) hash.update(`${r.entry} ${r.digest} ${r.size}\n`);
  return hash.digest('hex').slice(0, 32);
}

export interface BundleJsonInput {
  graph: BundleGraph;
  /** The built index.db, opened, for the per-image platforms and totals. */
  db: ManifestDb;
  created: Date;
  toolVersion: string;
  keyId: string | null;
  indexJson: EntryDigest;
  indexDb: EntryDigest;
  sums: EntryDigest;
  /** The ferry releases carried (`ferry/tool/…`); none: no `releases` field at all. */
  releases?: readonly BundleRelease[];
}

export function buildBundleJson(input: BundleJsonInput): BundleJson {
  const { graph, db } = input;
  const created = input.created.toISOString().replace('.000Z', 'Z');
  const entries = { 'index.json': input.indexJson, 'ferry/index.db': input.indexDb, 'ferry/SHA256SUMS': input.sums };
  const included = graph.blobs.filter((b) => b.included);
  const assumes = graph.blobs
    .filter((b) => !b.included)
    .map((b) => ({ digest: b.descriptor.digest, size: b.descriptor.size, mediaType: b.descriptor.mediaType }))
    .sort(byCodeUnits((d) => d.digest));
  const releases = input.releases ?? [];
  // One walk for both what inspect shows and the platforms: a reader takes them from here, not from a walk of its own.
  const summaries = walkedSummaries(db);
  return {
    format: BUNDLE_FORMAT,
    id: bundleId(created, entries, assumes.map((a) => a.digest), releases),
    created,
    tool: { name: 'ferry', version: input.toolVersion },
    signer: input.keyId ? { algorithm: 'ed25519', keyId: input.keyId } : null,
    entries,
    blobs: { count: included.length, bytes: included.reduce((n, b) => n + b.descriptor.size, 0) },
    images: graph.images.map((i) => {
      const s = summaries.get(i.name);
      return {
        name: i.name,
        digest: i.root.digest,
        mediaType: i.root.mediaType,
        size: i.root.size,
        platforms: s?.platforms ?? [],
        totals: s?.totals ?? imageTotalsOf(undefined),
        ...(i.upstreamSignature ? { upstreamSignature: i.upstreamSignature } : {}),
      };
    }),
    assumes,
    ...(releases.length > 0 ? { releases: releases.map((r) => ({ entry: r.entry, version: r.version, os: r.os, arch: r.arch, digest: r.digest, size: r.size, requires: r.requires })) } : {}),
  };
}
