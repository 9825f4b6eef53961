import { resolve } from 'node:path';
import pLimit from 'p-limit';
import type { Descriptor } from '../core/descriptor.js';
import { DEFAULT_CONCURRENCY } from '../core/limits.js';
import { isFerryError, type Outcome } from '../core/errors.js';
import { formatReference, type Reference } from '../core/reference.js';
import { writeBundle, type BundleImageInput, type ToolInput, type WriteBundleResult } from '../bundle/index.js';
import type { BlobIngester, BlobProvider, TransferRecords } from '../store/index.js';
import { CopyScheduler } from './copy-scheduler.js';
import { noEvents, type EventSink, type TransferEvent } from './events.js';
import { recordWritten } from './export-record.js';
import { inLanes } from './lanes.js';
import type { Inventory } from './inventory.js';
import { overlaySource } from './overlay-source.js';
import { describePlan, Planner } from './pull-plan.js';
import { pullImage, pullTarget, resolvePull, type PulledImage, type PullTarget } from './pull-image.js';
import type { ResolvedImage } from './copy-image.js';
import type { RegistryPool } from './registry-pool.js';
import type { SpecImage } from './spec.js';
import { UntrustedImagesError, type ImageRefusal, type TrustPolicy } from '../trust/index.js';
import { TRUST_HINT, type SignedBy } from './trust-judge.js';
import { byCodeUnits } from '../core/code-unit-order.js';

// `ferry export`: pull every image into the store (resumable, deduplicated),
// then serialise that subgraph of the store as a bundle. Two phases, because a
// bundle's metadata precedes its blobs and a tar cannot be rewritten.

export interface ExportOptions {
  images: SpecImage[];
  registries: RegistryPool;
  /** Pulled into, then read back from while the bundle is written. */
  store: PullTarget & BlobProvider & Pick<BlobIngester, 'watchCommits'> & Pick<TransferRecords, 'recordBundle'>;
  output: string;
  split?: number;
  signingKey?: string;
  since?: Inventory;
  /** Only images a trusted key signed (`--require-signed-by`): checked before their layers are fetched; any refusal writes nothing. */
  trust?: TrustPolicy;
  concurrency?: number;
  toolVersion: string;
  /** bundle.json `created` (the export time); default: SOURCE_DATE_EPOCH, else the newest image config (reproducible). */
  created?: Date;
  /** ferry releases to carry in the bundle (ferry/tool/…, in volume 0). */
  tools?: ToolInput[];
  onEvent?: EventSink;
  signal?: AbortSignal;
}

export interface ExportReport {
  images: Array<{ name: string; digest: string; sourceDigest?: string; referrers: number; signedBy?: SignedBy }>;
  failed: Outcome[];
  /** copied and skipped count graph nodes (a manifest found in the store stands for its graph); inStore, the bundle's blobs not pulled by this run. */
  pulled: { copied: number; skipped: number; bytes: number; inStore: number };
  bundle: WriteBundleResult;
}

/** A spec entry with a tag pattern stands for every matching tag of its repository. */
async function expand(image: SpecImage, registries: RegistryPool, signal?: AbortSignal): Promise<Reference[]> {
  if (!image.tagPattern) return [image.reference];
  const repo = registries.client(image.reference.registry).repository(image.reference.repository);
  const refs: Reference[] = [];
  for await (const tag of repo.tags(signal ? { signal } : {})) {
    if (image.tagPattern.test(tag)) refs.push({ registry: image.reference.registry, repository: image.reference.repository, tag });
  }
  return refs;
}

/**
 * Requests beyond `--concurrency` that only round trips take (a plan's manifest reads, referrer lookups,
 * configs and attestation blobs): the mix's small blobs waited 0.5-0.8 s behind its large layers' slots.
 */
const SMALL_REQUEST_SLOTS = 2;

export interface PulledSet {
  pulled: PulledImage[];
  failed: Outcome[];
}

/** Export's first half: every image into the store; a failed image is reported, unless none got there. */
export async function pullImages(options: Omit<ExportOptions, 'output' | 'toolVersion'>): Promise<PulledSet> {
  const scheduler = new CopyScheduler(pLimit(options.concurrency ?? DEFAULT_CONCURRENCY), { smallSlots: SMALL_REQUEST_SLOTS });
  const pulled: PulledImage[] = [];
  const failed: Outcome[] = [];
  const errors: unknown[] = [];
  const refusals: ImageRefusal[] = [];
  const emit = options.onEvent ?? noEvents;
  emit({ type: 'phase', phase: 'resolve', items: options.images.length });
  const references: Array<{ image: SpecImage; reference: Reference }> = [];
  for (const image of options.images) {
    for (const reference of await expand(image, options.registries, options.signal)) references.push({ image, reference });
  }
  const failure = (name: string, err: unknown, report: EventSink = emit): void => {
    if (err instanceof UntrustedImagesError) return void refusals.push(...err.refusals);
    if (!isFerryError(err) || options.signal?.aborted) throw err;
    report({ type: 'image', name, state: 'failed', detail: err.message });
    failed.push({ subject: name, ok: false, error: { code: err.code, message: err.message } });
    errors.push(err);
  };
  // Each image resolved and its graph planned before its bytes move (pull-plan.ts).
  const planner = new Planner(scheduler.limit, options.signal);
  const lanes = 2 * (options.concurrency ?? DEFAULT_CONCURRENCY);
  const resolveOne = async ({ image, reference }: { image: SpecImage; reference: Reference }) => {
    const name = formatReference(reference);
    const client = options.registries.client(reference.registry);
    const planOf = ({ source, written }: ResolvedImage, roots: Descriptor[], present?: Set<string>) =>
      planner.add({ target: pullTarget(options.store, reference), source: overlaySource(source, written), roots, written, mountable: (desc) => options.store.linkingRepository(desc.digest) !== undefined }, present);
    // The root's graph is walked while its referrers are looked up (their round trips are not the walk's), then theirs.
    let rootPlan: Promise<Set<string>> | undefined;
    try {
      const found = await resolvePull(reference, {
        client,
        store: options.store,
        platforms: image.platforms,
        withReferrers: image.withReferrers,
        ...(options.trust ? { trust: options.trust } : {}),
        limit: scheduler.limit,
        onImage: (resolved) => void (rootPlan = planOf(resolved, [resolved.root])).catch(() => undefined),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const present = await planOf(found.image, found.referrers, await (rootPlan ?? planOf(found.image, [found.image.root])));
      return { image, reference, name, client, found, present };
    } catch (err) {
      failure(name, err);
      return undefined;
    }
  };
  // An image is pulled as soon as it is planned, while the others still resolve (their round trips are
  // not bytes). What its pull reports is held until every plan is made, then follows the pull phase's
  // announcement, whose total is the whole plan: the progress channel reads as if the phases ran in turn.
  let held: TransferEvent[] | undefined = options.onEvent ? [] : undefined;
  const pullEmit: EventSink = (event) => (held ? held.push(event) : emit(event));
  const pullLanes = pLimit(lanes);
  const pulls: Array<Promise<void>> = [];
  const pullOne = ({ image, reference, name, client, found, present }: NonNullable<Awaited<ReturnType<typeof resolveOne>>>): Promise<void> => {
    pullEmit({ type: 'image', name, state: 'start' });
    return pullImage(reference, {
      client,
      store: options.store,
      platforms: image.platforms,
      withReferrers: image.withReferrers,
      ...(options.trust ? { trust: options.trust } : {}),
      scheduler,
      resolved: found,
      present: (desc) => present.has(desc.digest),
      ...(options.onEvent ? { onEvent: pullEmit } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    }).then(
      (p) => {
        pulled.push(p);
        pullEmit({ type: 'image', name, state: 'done', detail: `${p.report.copied} blobs pulled, ${p.report.skipped} in the store` });
      },
      (err: unknown) => failure(name, err, pullEmit),
    );
  };
  // Resolved in lanes, in list order, and at most 2 × concurrency pulls at once (their requests share the
  // limiter): 1,000 resolves or pulls at once held every one's state together, most of an export's peak memory.
  let planned = 0;
  try {
    await inLanes(references, lanes, async (ref) => {
      const found = await resolveOne(ref);
      if (!found) return;
      planned += 1;
      const pull = pullLanes(() => pullOne(found));
      pull.catch(() => undefined); // awaited below, with the others
      pulls.push(pull);
    });
  } finally {
    emit({ type: 'debug', text: describePlan(planner.plan, 'the store') });
    emit({ type: 'phase', phase: 'pull', items: planned, total: planner.plan.bytes });
    for (const event of held ?? []) emit(event);
    held = undefined;
    // A failed resolve stops the lanes: the pulls started stop only once settled, as inLanes' items do.
    await Promise.allSettled(pulls);
  }
  for (const pull of pulls) await pull;
  // The policy is all or nothing: one unsigned image and no bundle is written.
  if (refusals.length > 0) throw new UntrustedImagesError(refusals, TRUST_HINT);
  // Nothing exported is not a partial success: the (first) cause and its exit code stand.
  if (pulled.length === 0 && errors.length > 0) throw errors[0];
  // The order the bundle writer gives the images (graph-walk.ts); each name formatted once.
  const named = pulled.map((p) => ({ name: formatReference(p.reference), p }));
  named.sort(byCodeUnits((n) => n.name));
  return { pulled: named.map((n) => n.p), failed };
}

/** What the bundle writer is given for a pulled set (and a record keeps, to re-make a volume). */
export function writerInputs(pulled: readonly PulledImage[], since?: Inventory): { images: BundleImageInput[]; assumes: Descriptor[] } {
  return {
    images: pulled.map((p) => ({ name: formatReference(p.reference), root: p.root, referrers: p.referrers, ...(p.signedBy ? { upstreamSignature: p.signedBy } : {}) })),
    assumes: (since?.blobs ?? []).map((b) => ({ mediaType: 'application/octet-stream', digest: b.digest, size: b.size }) as Descriptor),
  };
}

export async function exportImages(options: ExportOptions): Promise<ExportReport> {
  // The blobs this pull writes into the store, hashed on the way in: the writer need not hash them again.
  const pulledHere = new Set<string>();
  const unwatch = options.store.watchCommits((digest) => pulledHere.add(digest));
  let set: PulledSet;
  try {
    set = await pullImages(options);
  } finally {
    unwatch();
  }
  const { pulled, failed } = set;
  const { images, assumes } = writerInputs(pulled, options.since);
  const bundle = await writeBundle({
    images,
    fetch: (desc) => options.store.openBlob(desc.digest),
    localFile: (desc) => options.store.blobPath(desc.digest),
    hashedHere: (desc) => pulledHere.has(desc.digest),
    out: options.output,
    ...(options.split ? { split: options.split } : {}),
    ...(options.signingKey ? { signingKey: options.signingKey } : {}),
    ...(assumes.length ? { assumes } : {}),
    toolVersion: options.toolVersion,
    ...(options.created ? { created: options.created } : {}),
    ...(options.tools?.length ? { tools: options.tools } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const { bundleJson } = bundle;
  recordWritten(options.store, { id: bundleJson.id, path: bundle.files[0] ?? options.output, blobCount: bundleJson.blobs.count, bytes: bundle.bytes }, {
    out: resolve(options.output),
    split: options.split ?? null,
    created: bundleJson.created,
    toolVersion: options.toolVersion,
    keyId: bundle.keyId,
    images,
    assumes,
    ...(options.tools?.length ? { tools: options.tools } : {}),
    volumes: bundle.volumes ?? null,
  });
  return {
    images: pulled.map((p) => ({
      name: formatReference(p.reference),
      digest: p.root.digest,
      ...(p.rewrittenFrom ? { sourceDigest: p.rewrittenFrom } : {}),
      referrers: p.referrers.length,
      ...(p.signedBy ? { signedBy: p.signedBy } : {}),
    })),
    failed,
    pulled: pulled.reduce(
      (acc, p) => ({ ...acc, copied: acc.copied + p.report.copied, skipped: acc.skipped + p.report.skipped, bytes: acc.bytes + p.report.bytesTransferred }),
      { copied: 0, skipped: 0, bytes: 0, inStore: bundleJson.blobs.count - bundle.hashedHere },
    ),
    bundle,
  };
}
