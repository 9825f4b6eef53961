import pLimit, { type LimitFunction } from 'p-limit';
import type { Repository } from '../core/content.js';
import type { Descriptor } from '../core/descriptor.js';
import type { Digest } from '../core/digest.js';
import { ErrorCode, InternalError, NotFoundError, UsageError, isFerryError, type Outcome } from '../core/errors.js';
import { DEFAULT_CONCURRENCY } from '../core/limits.js';
import { manifestJson } from '../core/manifest.js';
import { isManifest } from '../core/media-types.js';
import { formatReference } from '../core/reference.js';
import { openBundle, verifyBundle, type Bundle, type BundleInput } from '../bundle/index.js';
import type { RepositoryCatalog, TransferRecords } from '../store/index.js';
import { copyGraph, type CopyRoot } from './copy-graph.js';
import { CopyScheduler } from './copy-scheduler.js';
import { noEvents, type EventSink } from './events.js';
import { dryRunImages } from './import-dry-run.js';
import { findMissing, landedKey, plannedBytes, pushBlobsFromBundle, type BlobPassResult } from './import-blobs.js';
import { pushBlobsByRange } from './import-parallel.js';
import { mountAssumed, type MountedAssumed } from './mount-assumed.js';
import { landAll, METADATA_LANES } from './import-lanes.js';
import { planImport, repositoryKey, splitRepositoryKey, type Destinations, type ImportPlan, type PlannedImage } from './import-plan.js';
import { unlistedRepositories } from './import-unlisted.js';
import { imagesInPlace, needsWithout, type TargetStanding } from './import-in-place.js';
import { localizeForeignLayers } from './localize-foreign-layers.js';
import { metadataSource, type ManifestLookup } from './metadata-source.js';
import { ensureReferrerListed } from './referrers-tag-schema.js';
import type { RegistryPool } from './registry-pool.js';
import type { TrustPolicy } from '../trust/index.js';
import { evidenceByPass, evidenceByRange, evidenceNeeded, judgeBundle, type TrustedImport } from './trust-import.js';
import { byCodeUnits } from '../core/code-unit-order.js';

// `ferry import`: verify the head (signature → bundle.json → index.json,
// index.db, SHA256SUMS), plan where every image goes, stream every missing blob
// from the stick into the target, then push manifests children-first and tag
// last with copyGraph. Nothing is tagged unless everything under it is in place,
// and no manifest is pushed before every blob of the bundle has been verified:
// a bad bundle can leave verified blobs on the target, never a manifest or tag
// (with verifyFirst, not even those).

export type ForeignLayerMode = 'localize' | 'preserve';

export interface ImportOptions {
  bundle: BundleInput;
  /** Trusted public key PEM(s): see TrustOptions. */
  key?: string | readonly string[];
  requireSignature?: boolean;
  destinations: Destinations;
  registries?: RegistryPool;
  /** The local store: the target with destinations.kind 'store', and where receipts are kept. */
  store?: RepositoryCatalog & Pick<TransferRecords, 'recordReceipt'>;
  foreignLayers?: ForeignLayerMode;
  /** Only images a trusted key signed (`--require-signed-by`), judged again from the bundle's bytes before anything is tagged. */
  trust?: TrustPolicy;
  dryRun?: boolean;
  /**
   * Read and verify the whole bundle (every digest, the signature, every
   * volume) before the first push or mount, so a bad bundle leaves nothing at
   * all on the target; costs a second full read of the stick.
   */
  verifyFirst?: boolean;
  concurrency?: number;
  onEvent?: EventSink;
  signal?: AbortSignal;
}

export interface ImportedImage {
  source: string;
  target: string;
  digest: Digest;
  /** Set when localizing foreign layers gave the image a new digest. */
  sourceDigest?: string;
  tags: string[];
  /** Already there under its tags (or, untagged, by digest): nothing of it was pushed or retagged. */
  unchanged?: true;
}

export interface ImportReport {
  bundle: { id: string; signature: string; keyId: string | null };
  dryRun: boolean;
  images: ImportedImage[];
  foreignLayerMapping: Array<{ from: string; to: string }>;
  blobs: { missing: number; missingBytes: number; pushed: number; mounted: number; bytes: number };
  /** With verifyFirst: what the full read before the first push proved. */
  verifiedFirst?: { blobs: number; blobBytes: number; bytesRead: number };
  failed: Outcome[];
  /** With a signature policy: which key verified each image, and when the verdict fell. */
  upstreamSignatures?: TrustedImport;
}

function repositories(options: ImportOptions): (key: string) => Repository {
  const cache = new Map<string, Repository>();
  return (key) => {
    let repo = cache.get(key);
    if (!repo) {
      const [registry, name] = splitRepositoryKey(key);
      if (options.destinations.kind === 'store') {
        if (!options.store) throw new Error('import to the store needs a store');
        repo = options.store.repository(name);
      } else {
        if (!options.registries) throw new Error('import to a registry needs a registry pool');
        repo = options.registries.client(registry).repository(name, { push: true });
      }
      cache.set(key, repo);
    }
    return repo;
  };
}

function pairCount(pending: Map<string, string[]>): number {
  return [...pending.values()].reduce((n, keys) => n + keys.length, 0);
}

/** Every repository of a target registry (or of the store). */
async function* catalogOf(registry: string, options: ImportOptions): AsyncIterable<string> {
  if (options.destinations.kind !== 'store') {
    if (options.registries) yield* options.registries.client(registry).catalog();
    return;
  }
  yield* options.store?.listRepositories().items ?? [];
}

/**
 * A registry's catalog, bearer tokens or not: the listing's `registry:catalog:*` is in its own
 * token, never in a repository's (authenticator.ts), and a refused listing is asked per blob.
 */
async function registryCatalog(registry: string, options: ImportOptions): Promise<AsyncIterable<string> | undefined> {
  return options.registries?.client(registry).catalog();
}

/** What the landing of one repository knows of the target without asking it. */
interface TargetKnowledge {
  /** Blobs the target holds in this repository. */
  present: (desc: Descriptor) => boolean;
  /** Manifests it lacks: the repository was not there when the import began, and no landing has put them since. */
  absent: (desc: Descriptor) => boolean;
  /** Marks a manifest put (by this image's landing): no longer absent for the next image of the repository. */
  put: (digest: string) => void;
}

/** Pushes one image's manifests (children first) and referrers, then its tags; of an image in place, its referrers only. */
async function landImage(image: PlannedImage, standing: TargetStanding, pass: BlobPassResult, repo: Repository, options: ImportOptions, limit: LimitFunction, report: ImportReport, known: TargetKnowledge): Promise<void> {
  let root = image.root;
  // The bundle's manifests, and over them this image's rewritten ones: an overlay, not a copy (a copy of
  // every manifest per image, 1,000 images landing at once, was most of an import's peak memory).
  let manifests: ManifestLookup = pass.manifests;
  if ((options.foreignLayers ?? 'localize') === 'localize') {
    const localized = localizeForeignLayers(image.root, (d) => pass.manifests.get(d));
    if (localized.written.size > 0) manifests = overlay(localized.written, pass.manifests);
    report.foreignLayerMapping.push(...localized.mapping);
    root = localized.root;
  }
  const source = metadataSource(manifests);
  const inPlace = standing.inPlace.has(image);
  // A root the rerun found there (not under every tag): its tags are put, nothing under it asked about again.
  const held = standing.rootHeld.has(image) ? (d: Descriptor) => d.digest === root.digest : undefined;
  const common = { scheduler: new CopyScheduler(limit), repository: repo.name, present: known.present, absent: known.absent, ...(held ? { held } : {}), inMemory: (d: Descriptor) => manifests.get(d.digest) !== undefined, ...(options.onEvent ? { onEvent: options.onEvent } : {}), ...(options.signal ? { signal: options.signal } : {}) };
  const copy = async (roots: CopyRoot[]): Promise<void> => {
    for (const node of (await copyGraph(source, repo, roots, common)).nodes) if (node.action === 'copied') known.put(node.digest);
  };
  if (!inPlace) await copy([{ descriptor: root, tags: image.tags }]);
  for (const referrer of image.referrers) {
    // One the target holds (and under its tag) is left as it is; whether a reader finds it is still seen to below.
    if (!standing.referrersHeld.has(referrer)) await copy([{ descriptor: referrer.descriptor, tags: referrer.tag ? [referrer.tag] : [] }]);
    const subject = pass.manifests.has(referrer.subject) ? subjectDescriptor(referrer.subject, manifests) : undefined;
    // A cosign tag is how such signatures are found; OCI referrers need the API or the tag-schema index.
    if (subject && !referrer.tag) await ensureReferrerListed(repo, subject, referrer.descriptor);
  }
  const landed: ImportedImage = { source: image.source, target: formatReference(image.target), digest: root.digest, tags: image.tags };
  if (root.digest !== image.root.digest) landed.sourceDigest = image.root.digest;
  if (inPlace) landed.unchanged = true;
  report.images.push(landed);
}

/** `top` read over `base`. */
function overlay(top: ManifestLookup, base: ManifestLookup): ManifestLookup {
  return { get: (digest) => top.get(digest) ?? base.get(digest) };
}

function subjectDescriptor(digest: Digest, manifests: ManifestLookup): Descriptor | undefined {
  const bytes = manifests.get(digest);
  if (!bytes) return undefined;
  const doc = manifestJson(bytes, digest) as { mediaType?: string };
  return { digest, size: bytes.length, mediaType: doc.mediaType ?? 'application/vnd.oci.image.manifest.v1+json' };
}

const PRESERVE_HINT = 'stock registries refuse layers that carry urls: import with --foreign-layers=localize (the default), or allow urls in the registry';

function hasForeignLayers(bundle: Bundle, image: PlannedImage): boolean {
  return bundle.db.blobsOf(image.root.digest).some((b) => b.descriptor.urls !== undefined && b.descriptor.urls.length > 0);
}

/**
 * A delta bundle leaves out what the target should hold; check before anything
 * is tagged, mounting what another repository of the registry holds.
 */
async function checkAssumed(bundle: Bundle, plan: ImportPlan, repository: (key: string) => Repository, absent: ReadonlySet<string>, limit: LimitFunction, options: ImportOptions): Promise<Omit<MountedAssumed, 'still'>> {
  const assumed: Descriptor[] = bundle.bundleJson.assumes.map((a) => ({ digest: a.digest, size: a.size, mediaType: a.mediaType }));
  const lacking = await findMissing(plan.needs, assumed, repository, absent);
  if (lacking.size === 0) return { mounted: 0, manifests: new Map() };
  const { still: missing, ...found } = await mountAssumed({ missing: lacking, assumed, repository, catalog: (registry) => catalogOf(registry, options), limit, ...(options.signal ? { signal: options.signal } : {}) });
  if (missing.size > 0) {
    // Every one, in one order (digest, then repository): the text shortens, the JSON does not.
    const all = [...missing.entries()].map(([digest, keys]) => ({ digest, repositories: [...keys].sort() })).sort(byCodeUnits((m) => m.digest));
    const SHOWN = 10;
    const list = all.slice(0, SHOWN).map((m) => `${m.digest} in ${m.repositories.join(', ')}`).join('; ');
    const more = all.length > SHOWN ? `; and ${all.length - SHOWN} more (--json lists them all)` : '';
    throw new NotFoundError(`this delta bundle assumes ${all.length} blob(s) the target does not hold: ${list}${more}`, {
      code: ErrorCode.blobUnknown,
      details: { missing: all },
      hint: 'import the full bundle it was made against first, or export again with an inventory taken from this target',
    });
  }
  return found;
}

export async function importBundle(options: ImportOptions): Promise<ImportReport> {
  const limit = pLimit(options.concurrency ?? DEFAULT_CONCURRENCY);
  const trust = { ...(options.key ? { key: options.key } : {}), ...(options.requireSignature ? { requireSignature: true } : {}) };
  if (options.verifyFirst && typeof options.bundle !== 'string') throw new UsageError('--verify-first reads the bundle twice: name a file, not a stream');
  const open = () => openBundle(options.bundle, trust);
  const emit = options.onEvent ?? noEvents;
  emit({ type: 'phase', phase: 'verify' });
  let bundle = await open();
  try {
    const plan = planImport(bundle.db, options.destinations);
    // A single-file bundle (or a dry run) is judged before the first push; otherwise during the blob pass, before any manifest.
    const needed = options.trust ? evidenceNeeded(bundle, plan) : undefined;
    let trusted: TrustedImport | undefined;
    if (options.trust && needed) {
      const all = new Set([...needed.manifests, ...needed.layers]);
      const early = (await evidenceByRange(bundle, all)) ?? (options.dryRun ? await evidenceByPass(bundle, all) : undefined);
      if (early) trusted = { images: await judgeBundle(plan, early, options.trust), checked: 'before-push' };
    }
    const repository = repositories(options);
    const carried = bundle.db.blobs().filter((b) => b.included && b.kind !== 'manifest').map((b) => b.descriptor);
    // The store answers a HEAD from its index: only a registry's repositories are looked up in its catalog.
    const absent = options.destinations.kind === 'store' ? new Set<string>() : await unlistedRepositories(plan.needs, (registry) => registryCatalog(registry, options), options.signal);
    // A rerun: images already there under their tags are left as they are, their blobs not asked about.
    const localize = (options.foreignLayers ?? 'localize') === 'localize';
    const delta = bundle.bundleJson.assumes.length > 0;
    const landInFull = (image: PlannedImage): boolean =>
      (localize && hasForeignLayers(bundle, image)) || (delta && bundle.db.blobsOf(image.root.digest).some((b) => b.included && b.kind !== 'manifest'));
    const standing = await imagesInPlace(plan, repository, absent, landInFull, options.signal);
    const work: ImportPlan = { images: plan.images, needs: needsWithout(plan, standing, bundle.db) };
    const missing = await findMissing(work.needs, carried, repository, absent);
    const report: ImportReport = {
      bundle: { id: bundle.bundleJson.id, signature: bundle.signature, keyId: bundle.keyId },
      dryRun: Boolean(options.dryRun),
      images: [],
      foreignLayerMapping: [],
      blobs: { missing: missing.size, missingBytes: carried.filter((d) => missing.has(d.digest)).reduce((n, d) => n + d.size, 0), pushed: 0, mounted: 0, bytes: 0 },
      failed: [],
      ...(trusted ? { upstreamSignatures: trusted } : {}),
    };
    if (options.verifyFirst) {
      // Everything proven before anything is sent: a bad bundle leaves the target untouched.
      const { blobs, blobBytes, bytesRead } = await verifyBundle(options.bundle, trust);
      report.verifiedFirst = { blobs, blobBytes, bytesRead };
    }
    if (options.dryRun) {
      // What will land: foreign layers localized in memory, as the import will (import-dry-run.ts).
      Object.assign(report, await dryRunImages(options.bundle, bundle, plan, (options.foreignLayers ?? 'localize') === 'localize', open));
      return report;
    }
    const assumed = await checkAssumed(bundle, work, repository, absent, limit, options);
    emit({ type: 'phase', phase: 'push', total: plannedBytes(missing, carried), items: missing.size });
    const passOptions = {
      repository,
      mountRefused: new Set<string>(),
      ...(options.concurrency ? { concurrency: options.concurrency } : {}),
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    };
    const blobPass = async (current: Bundle, missingNow: Map<string, string[]>, counted = false): Promise<BlobPassResult> => {
      const keep = trusted ? undefined : needed?.layers;
      const pass = { ...passOptions, bundle: current, missing: missingNow, counted, ...(keep ? { keep } : {}) };
      // Two readers, one pusher (blobPusher). A bundle on disk, one file or a set of volumes end to end, is read by
      // ranges; the one pass (pushBlobsFromBundle) runs for a tar not laid out as ferry writes it and a library
      // caller's stream (no random access). A set of one volume (--split fat32 under 4 GiB): 313 MB of the bench
      // set into docker-registry, push phase 2.7 s in one pass against 1.4 s by ranges; cut at 100M, see
      // docs/performance.md "Stop 35".
      // Ranges pay where they can run: the bench's 12 images into an empty docker-registry, 5 paired in-process
      // runs at load 13-15, the same file by ranges 7.37 s wall / 1.51 s CPU against 8.86 s / 1.84 s given as a
      // stream (one pass); ranges won all 5 pairs (issue 15.5).
      emit({ type: 'debug', text: howBlobsAreRead(current, (await current.locate()) !== undefined, options.concurrency ?? DEFAULT_CONCURRENCY) });
      const byRange = await pushBlobsByRange(pass);
      return byRange ?? (await pushBlobsFromBundle(pass));
    };
    const pass = await blobPass(bundle, missing);
    while (pass.pending.size > 0) {
      // Mounts were refused before the pass knew the registry refuses them: one more read of the stick for those.
      const before = pairCount(pass.pending);
      await bundle.close();
      bundle = await open();
      const again = await blobPass(bundle, pass.pending, true);
      pass.pushed += again.pushed;
      pass.mounted += again.mounted;
      pass.bytes += again.bytes;
      for (const landed of again.landed) pass.landed.add(landed);
      if (pairCount(again.pending) >= before) throw new InternalError(`the target took none of ${before} blob(s) it still lacks on another pass`);
      pass.pending = again.pending;
    }
    if (options.trust && !trusted) {
      trusted = { images: await judgeBundle(plan, new Map([...pass.manifests, ...(pass.kept ?? [])]), options.trust), checked: 'before-manifests' };
      report.upstreamSignatures = trusted;
    }
    Object.assign(report.blobs, { pushed: pass.pushed, mounted: pass.mounted + assumed.mounted, bytes: pass.bytes });
    for (const [digest, bytes] of assumed.manifests) pass.manifests.set(digest, bytes);
    const errors: unknown[] = [];
    // Present in a repository: the target said so for THAT repository (findMissing found it, or it took the push or
    // the mount); assumed blobs were checked by checkAssumed. Anything else is asked again (HEAD) by the graph pass.
    const landedBlobs = (key: string) => (desc: Descriptor) =>
      (work.needs.get(desc.digest)?.includes(key) ?? false) && (!missing.get(desc.digest)?.includes(key) || pass.landed.has(landedKey(key, desc.digest)));
    // A repository the registry did not list holds no manifest either: the graph pass puts them without a HEAD (an
    // index root was still asked about), unless an earlier image of the same repository (they land in turn) put one.
    const putManifests = new Set<string>();
    const knowledge = (key: string): TargetKnowledge => ({
      present: landedBlobs(key),
      absent: (desc) => isManifest(desc.mediaType) && absent.has(key) && !putManifests.has(landedKey(key, desc.digest)),
      put: (digest) => void putManifests.add(landedKey(key, digest)),
    });
    // Every blob is in place: the landing moves manifests and tags, not blobs.
    const landing = pLimit(METADATA_LANES);
    const land = (image: PlannedImage) => landImage(image, standing, pass, repository(repositoryKey(image.target)), options, landing, report, knowledge(repositoryKey(image.target)));
    emit({ type: 'phase', phase: 'tag', items: plan.images.length });
    await landAll(plan.images, METADATA_LANES, land, (image, err) => {
      if (!isFerryError(err) || options.signal?.aborted) throw err;
      errors.push(err);
      const message = options.foreignLayers === 'preserve' && hasForeignLayers(bundle, image) ? `${err.message} (${PRESERVE_HINT})` : err.message;
      report.failed.push({ subject: image.source, ok: false, error: { code: err.code, message } });
    });
    // Landed in parallel: report in the plan's order, as before.
    const order = new Map(plan.images.map((image, i) => [image.source, i]));
    report.images.sort((a, b) => (order.get(a.source) ?? 0) - (order.get(b.source) ?? 0));
    report.failed.sort((a, b) => (order.get(a.subject) ?? 0) - (order.get(b.subject) ?? 0));
    recordReceipts(options, plan, bundle, report);
    // Some images landed: the report says which did not (the CLI exits 7). None: the cause stands.
    if (report.images.length === 0 && errors.length > 0) throw errors[0];
    return report;
  } finally {
    await bundle.close();
  }
}

/** What the target now holds, kept in the local store for later delta exports. */
function recordReceipts(options: ImportOptions, plan: ImportPlan, bundle: Bundle, report: ImportReport): void {
  if (!options.store) return;
  const bySource = new Map(report.images.map((i) => [i.source, i]));
  for (const image of plan.images) {
    const landed = bySource.get(image.source);
    if (!landed) continue;
    options.store.recordReceipt({
      registry: image.target.registry || 'store',
      repository: image.target.repository,
      tag: image.tags[0],
      digest: landed.digest,
      // The referrers landed with the image are the target's too (ferry prune deletes them with an orphaned subject).
      blobs: [...new Set([image.root.digest, ...image.referrers.map((r) => r.descriptor.digest)].flatMap((d) => bundle.db.blobsOf(d).map((b) => b.descriptor.digest)))],
    });
  }
}

/** For --debug: which reader the blob pass takes, and why. */
function howBlobsAreRead(bundle: Bundle, located: boolean, concurrency: number): string {
  const volumes = bundle.volumes?.sidecar.volumes.length;
  const where = volumes ? `${volumes} volume${volumes === 1 ? '' : 's'}` : 'the file';
  if (located) return `blobs read by byte ranges from ${where}, up to ${concurrency} at a time`;
  return `blobs read in one pass, one after another: ${bundle.tarSpan ? `${where} not laid out as ferry writes a bundle` : 'a stream cannot be read by ranges'}`;
}
