import type { LimitFunction } from 'p-limit';
import type { ContentSource } from '../core/content.js';
import { ANNOTATION_REFERRER_TAG, type Descriptor } from '../core/descriptor.js';
import { parseManifest } from '../core/manifest.js';
import { isIndex } from '../core/media-types.js';
import type { Platform } from '../core/platform.js';
import { formatReference, type Reference } from '../core/reference.js';
import { upstreamRepositoryName } from '../core/upstream-repository.js';
import type { RegistryClient } from '../registry/client/index.js';
import type { ContentPins, GraphIndex, RepositoryCatalog, TransferRecords } from '../store/index.js';
import { copyGraph } from './copy-graph.js';
import { recordNode, type CopyReport } from './copy-report.js';
import type { CopyScheduler } from './copy-scheduler.js';
import type { EventSink } from './events.js';
import { copyImage, resolveImage, type ResolvedImage } from './copy-image.js';
import { overlaySource } from './overlay-source.js';
import { readManifestBytes } from './read-manifest.js';
import type { TrustPolicy } from '../trust/index.js';
import { signatureCheck, type FindReferrers } from './trust-gate.js';
import type { SignedBy } from './trust-judge.js';

// Export's first half for one image: registry → store (design §3, "pull into the
// store first, then write the bundle"). Resumable and deduplicated because the
// store's exists() prunes what an earlier run already fetched.

export interface PulledImage {
  /** The reference as asked, normalised (tag or digest kept). */
  reference: Reference;
  /** What goes into the bundle: the source root, or the platform-filtered one. */
  root: Descriptor;
  /** The source's root digest when a platform filter replaced it. */
  rewrittenFrom?: Descriptor['digest'];
  referrers: Descriptor[];
  report: CopyReport;
  /** With a signature policy: the trusted key that signed the root, checked before its layers were fetched. */
  signedBy?: SignedBy;
}

/** The faces of the store a pull uses: a repository to write, where a blob is linked already (mounts), keeping untagged roots, the export record. */
export type PullTarget = RepositoryCatalog & Pick<GraphIndex, 'linkingRepository'> & Pick<ContentPins, 'keep'> & Pick<TransferRecords, 'recordExport'>;

export interface PullImageOptions {
  client: RegistryClient;
  store: PullTarget;
  platforms: Platform[];
  withReferrers: boolean;
  /** Refuse the image (UntrustedImagesError) unless a trusted key signed it; implies looking up its referrers. */
  trust?: TrustPolicy;
  /** Shared by every image of one export: one request bound, each blob moved once. */
  scheduler: CopyScheduler;
  onEvent?: EventSink;
  signal?: AbortSignal;
  /** Resolved by the phase's plan (resolvePull): nothing is fetched twice. */
  resolved?: ResolvedPull;
  /** Blobs the plan found in the store: skipped without asking again. */
  present?: (desc: Descriptor) => boolean;
}

/** One image of a pull, resolved with its referrers, before bytes move (the plan walks both). */
export interface ResolvedPull {
  image: ResolvedImage;
  referrers: Descriptor[];
}

export async function resolvePull(
  reference: Reference,
  options: Pick<PullImageOptions, 'client' | 'platforms' | 'withReferrers' | 'trust' | 'signal'> & {
    limit: LimitFunction;
    store?: PullTarget;
    /** Called with the image as soon as it is resolved, while its referrers are still looked up (a plan can walk it meanwhile). */
    onImage?: (image: ResolvedImage) => void;
  },
): Promise<ResolvedPull> {
  // An image the store has not pulled before is read next (the plan walks it): one GET, not a HEAD then a GET.
  const how = options.store && !pulledBefore(options.store, reference) ? 'get' : 'head';
  const image = await resolveImage(options.client, reference, options.platforms, { ...(options.signal ? { signal: options.signal } : {}), how });
  options.onImage?.(image);
  if (!options.withReferrers && options.trust === undefined) return { image, referrers: [] };
  const rootBytes = async (): Promise<Buffer> => image.written.get(image.root.digest) ?? readManifestBytes(image.source, image.root, options.signal);
  return { image, referrers: await collectReferrers(image.source, image.root, rootBytes, options.limit) };
}

/** Referrers of the root and (for an index) of each kept child: signatures often sign the index, attestations the platform manifests. */
export async function collectReferrers(source: ContentSource, root: Descriptor, rootBytes: () => Promise<Buffer>, limit: LimitFunction): Promise<Descriptor[]> {
  if (!source.referrers) return [];
  const subjects = [root];
  if (isIndex(root.mediaType)) {
    const index = parseManifest(await limit(rootBytes), root.mediaType, root.digest);
    if (index.kind === 'index') subjects.push(...index.manifests);
  }
  const list = async (subject: Descriptor): Promise<Descriptor[]> => {
    const out: Descriptor[] = [];
    if (source.referrers) for await (const referrer of source.referrers(subject)) out.push(referrer);
    return out;
  };
  // Subjects looked up side by side, within the shared limit (requests in flight stay bounded); merged in subject order.
  const perSubject = await Promise.all(subjects.map((subject) => limit(() => list(subject))));
  const found = new Map<string, Descriptor>();
  for (const referrers of perSubject) for (const referrer of referrers) found.set(referrer.digest, referrer);
  return [...found.values()];
}

/** The store holds this tag (or digest) from an earlier pull: its root is likely there, so a HEAD may be all the resolve needs. */
function pulledBefore(store: PullTarget, reference: Reference): boolean {
  if (reference.digest) return store.linkingRepository(reference.digest) !== undefined;
  return reference.tag !== undefined && pullTarget(store, reference).tagged(reference.tag) !== undefined;
}

/** The store repository an image is pulled into: named after its registry and repository. */
export function pullTarget(store: PullTarget, reference: Reference): ReturnType<PullTarget['repository']> {
  return store.repository(upstreamRepositoryName(reference.registry, reference.repository));
}

export async function pullImage(reference: Reference, options: PullImageOptions): Promise<PulledImage> {
  const { store, signal } = options;
  const target = pullTarget(store, reference);
  const common = {
    scheduler: options.scheduler,
    repository: target.name,
    // A layer another image already brought into the store is linked, not fetched again. One repository
    // that has it is enough: the list of all of them (a shared base layer: every image's) made 1,000 images O(N²).
    mountCandidates: (desc: Descriptor) => {
      const from = store.linkingRepository(desc.digest, target.name);
      return from === undefined ? [] : [from];
    },
    // A blob whose body broke is fetched again from where the store stopped, within the client's budget.
    retry: options.client.retry,
    ...(options.present ? { present: options.present } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(signal ? { signal } : {}),
  };
  const tags = reference.tag ? [reference.tag] : [];
  // Export finds referrers while it plans (resolvePull, every image side by side).
  // Without a plan, the lookups (several round trips per subject, mostly 404s) only
  // read the source: they run while the image's layers are copied, not after
  // (bench: they were the last ~7% of an export's pull phase).
  let lookup: Promise<Descriptor[]> | undefined = options.resolved ? Promise.resolve(options.resolved.referrers) : undefined;
  // The signatures a policy checks are referrers: they travel with the image so import can check them again.
  const withReferrers = options.withReferrers || options.trust !== undefined;
  /** The image's referrer lookup, started once: by onRoot as soon as the root is known, else when first asked for. */
  const referrerLookup = (source: ContentSource, root: Descriptor, written: Map<string, Buffer>): Promise<Descriptor[]> => {
    if (!lookup) {
      lookup = collectReferrers(source, root, async () => written.get(root.digest) ?? readManifestBytes(source, root, signal), options.scheduler.limit);
      lookup.catch(() => undefined); // awaited below; a failed copy must not leave it unhandled
    }
    return lookup;
  };
  const onRoot = (source: ContentSource, root: Descriptor, written: Map<string, Buffer>): void => {
    if (withReferrers) void referrerLookup(source, root, written);
  };
  let signedBy: SignedBy | undefined;
  // With a policy the signatures are checked before a layer moves, from the lookup onRoot started.
  const findReferrers: FindReferrers = (source, root, rootBytes) => lookup ?? collectReferrers(source, root, rootBytes, options.scheduler.limit);
  const check = options.trust ? signatureCheck(reference, options.trust, findReferrers, (s) => (signedBy = s), signal) : undefined;
  // The referrers are copied beside the image's own graph, once its check (if any) passed: each is a small
  // graph of its own, round trips more than bytes, and after the image's last layer they were the pull's tail
  // (the mix: a signature's two blobs 0.3 s after it). Side by side, recorded in the order found.
  let referrers: Descriptor[] = [];
  let copies: Promise<Array<PromiseSettledResult<CopyReport>>> | undefined;
  const beforeCopy = async (source: ContentSource, root: Descriptor, written: Map<string, Buffer>, rewrittenFrom?: Descriptor['digest']): Promise<void> => {
    await check?.(source, root, written, rewrittenFrom);
    if (!withReferrers) return;
    copies = referrerLookup(source, root, written).then((list) => {
      referrers = list;
      return Promise.allSettled(
        list.map((referrer) => {
          const tag = referrer.annotations?.[ANNOTATION_REFERRER_TAG];
          // Through the overlay: the plan read the referrers' manifests already.
          return copyGraph(overlaySource(source, written), target, [{ descriptor: referrer, tags: tag ? [tag] : [] }], common);
        }),
      );
    });
    copies.catch(() => undefined); // awaited below, after the image's copy
  };
  let copied: Awaited<ReturnType<typeof copyImage>>;
  try {
    copied = await copyImage(options.client, reference, target, { ...common, platforms: options.platforms, tags, onRoot, beforeCopy, ...(options.resolved ? { resolved: options.resolved.image } : {}) });
  } catch (err) {
    // Every copy settles before a failure is thrown: none outlives the pull.
    await copies?.catch(() => undefined);
    throw err;
  }
  if (tags.length === 0) store.keep(copied.root.digest);
  if (copies) {
    const reports = (await copies).map((s) => {
      if (s.status === 'rejected') throw s.reason;
      return s.value;
    });
    for (const report of reports) {
      // What the pull did includes its referrers (the progress counters count them too).
      for (const node of report.nodes) recordNode(copied.report, node, node.action, 0);
      copied.report.bytesTransferred += report.bytesTransferred;
    }
  }
  store.recordExport(formatReference(reference), copied.root);
  const pulled: PulledImage = { reference, root: copied.root, referrers, report: copied.report };
  if (copied.rewrittenFrom) pulled.rewrittenFrom = copied.rewrittenFrom;
  if (signedBy) pulled.signedBy = signedBy;
  return pulled;
}
