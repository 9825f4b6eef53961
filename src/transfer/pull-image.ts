import type { LimitFunction } from 'p-limit';
import type { ContentSource } from '../core/content.js';
import { ANNOTATION_REFERRER_TAG, type Descriptor } from '../core/descriptor.js';
import { parseManifest } from '../core/manifest.js';
import { isIndex } from '../core/media-types.js';
import type { Platform } from '../core/platform.js';
import { formatReference, type Reference } from '../core/reference.js';
import { upstreamRepositoryName } from '../core/upstream-repository.js';
import type { RegistryClient } from '../registry/client/index.js';
import type { Store } from '../store/index.js';
import { copyGraph } from './copy-graph.js';
import type { CopyReport } from './copy-report.js';
import type { EventSink, NodeAction } from './events.js';
import { copyImage } from './copy-image.js';
import { readManifestBytes } from './read-manifest.js';

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
}

export interface PullImageOptions {
  client: RegistryClient;
  store: Store;
  platforms: Platform[];
  withReferrers: boolean;
  limit: LimitFunction;
  inflight: Map<string, Promise<NodeAction>>;
  onEvent?: EventSink;
  signal?: AbortSignal;
}

/** Referrers of the root and (for an index) of each kept child: signatures often sign the index, attestations the platform manifests. */
async function collectReferrers(source: ContentSource, root: Descriptor, rootBytes: Buffer): Promise<Descriptor[]> {
  if (!source.referrers) return [];
  const subjects = [root];
  if (isIndex(root.mediaType)) {
    const index = parseManifest(rootBytes, root.mediaType, root.digest);
    if (index.kind === 'index') subjects.push(...index.manifests);
  }
  const found = new Map<string, Descriptor>();
  for (const subject of subjects) {
    for await (const referrer of source.referrers(subject)) found.set(referrer.digest, referrer);
  }
  return [...found.values()];
}

export async function pullImage(reference: Reference, options: PullImageOptions): Promise<PulledImage> {
  const { store, signal } = options;
  const target = store.repository(upstreamRepositoryName(reference.registry, reference.repository));
  const common = {
    limit: options.limit,
    inflight: options.inflight,
    repository: target.name,
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(signal ? { signal } : {}),
  };
  const tags = reference.tag ? [reference.tag] : [];
  const copied = await copyImage(options.client, reference, target, { ...common, platforms: options.platforms, tags });
  if (tags.length === 0) store.keep(copied.root.digest);
  let referrers: Descriptor[] = [];
  if (options.withReferrers) {
    const rootBytes = copied.written.get(copied.root.digest) ?? (await readManifestBytes(copied.source, copied.root, signal));
    referrers = await collectReferrers(copied.source, copied.root, rootBytes);
    for (const referrer of referrers) {
      const tag = referrer.annotations?.[ANNOTATION_REFERRER_TAG];
      await copyGraph(copied.source, target, [{ descriptor: referrer, tags: tag ? [tag] : [] }], common);
    }
  }
  store.recordExport(formatReference(reference), copied.root);
  const pulled: PulledImage = { reference, root: copied.root, referrers, report: copied.report };
  if (copied.rewrittenFrom) pulled.rewrittenFrom = copied.rewrittenFrom;
  return pulled;
}
