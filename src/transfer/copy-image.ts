import type { ContentSource, ContentTarget } from '../core/content.js';
import type { Descriptor } from '../core/descriptor.js';
import type { Platform } from '../core/platform.js';
import { formatReference, referenceTarget, type Reference } from '../core/reference.js';
import type { RegistryClient } from '../registry/client/index.js';
import { copyGraph, type CopyGraphOptions } from './copy-graph.js';
import type { CopyScheduler } from './copy-scheduler.js';
import type { CopyReport } from './copy-report.js';
import { withForeignLayerUrls } from './foreign-layer-source.js';
import { overlaySource } from './overlay-source.js';
import { selectPlatforms } from './platform-filter.js';
import { explainNotFound } from './site/nearest-tags.js';

// One image from a registry into any target (the store for export, another
// registry for `ferry copy`): resolve, apply --platform honestly, fetch foreign
// layers from their urls when the registry does not serve them, copy the graph.

export interface CopiedImage {
  /** The root that landed: the source's, or the platform-filtered one. */
  root: Descriptor;
  rewrittenFrom?: Descriptor['digest'];
  /** Where the bytes came from, for fetching referrers and manifests again. */
  source: ContentSource;
  written: Map<string, Buffer>;
  report: CopyReport;
}

export interface CopyImageOptions extends Omit<CopyGraphOptions, 'scheduler'> {
  platforms: Platform[];
  tags: string[];
  /** Shared with the caller's other work on the same source (referrer lookups). */
  scheduler: CopyScheduler;
  /** Called once the root is chosen, before its graph is copied: work that only reads the source (referrer lookups) can start alongside. */
  onRoot?: (source: ContentSource, root: Descriptor, written: Map<string, Buffer>) => void;
  /** Awaited after onRoot and before a byte is copied: a check that may refuse the image (the signature policy). */
  beforeCopy?: (source: ContentSource, root: Descriptor, written: Map<string, Buffer>, rewrittenFrom?: Descriptor['digest']) => Promise<void>;
  /** Already resolved (by the phase's plan): not fetched again. */
  resolved?: ResolvedImage;
}

/** An image resolved and platform-selected, before anything is copied (a plan can be made from it). */
export interface ResolvedImage {
  source: ContentSource;
  /** The root to copy: the source's, or the platform-filtered one. */
  root: Descriptor;
  rewrittenFrom?: Descriptor['digest'];
  /** Manifests held in memory (a filtered index, those a plan read), served to the copy from there. */
  written: Map<string, Buffer>;
}

export interface ResolveImageOptions {
  signal?: AbortSignal;
  /** How the root is resolved; `head` unless said. */
  how?: 'head' | 'get';
}

/**
 * `how: 'get'`: resolve with a GET, not a HEAD. A pull into an empty store reads the root
 * next anyway; the GET's bytes stay in the client's manifest cache, so that is one
 * round trip per image instead of two. A HEAD costs nothing against Docker Hub's
 * pull limit, so copies that may find the root at the target keep it.
 */
export async function resolveImage(client: RegistryClient, reference: Reference, platforms: Platform[], { signal, how = 'head' }: ResolveImageOptions = {}): Promise<ResolvedImage> {
  const remote = client.repository(reference.repository);
  const source = withForeignLayerUrls(remote, (url, offset, signal) => client.fetchUrl(url, { offset, ...(signal ? { signal } : {}) }));
  // A typo'd tag or repository: say what the registry has instead (site/nearest-tags.ts).
  const options = signal ? { signal } : {};
  const target = referenceTarget(reference);
  const resolved = await (how === 'get' ? remote.fetchManifest(target, options).then((f) => f.descriptor) : remote.resolve(target, options))
    .catch(async (e: unknown) => Promise.reject(await explainNotFound(client, reference, e, signal)));
  const selected = await selectPlatforms(source, resolved, platforms, formatReference(reference));
  const image: ResolvedImage = { source, root: selected.descriptor, written: selected.written };
  if (selected.rewrittenFrom) image.rewrittenFrom = selected.rewrittenFrom;
  return image;
}

export async function copyImage(client: RegistryClient, reference: Reference, target: ContentTarget, options: CopyImageOptions): Promise<CopiedImage> {
  const { platforms, tags, onRoot, beforeCopy, resolved, ...graphOptions } = options;
  const { source, root, written, rewrittenFrom } = resolved ?? (await resolveImage(client, reference, platforms, options));
  onRoot?.(source, root, written);
  await beforeCopy?.(source, root, written, rewrittenFrom);
  const report = await copyGraph(overlaySource(source, written), target, [{ descriptor: root, tags }], graphOptions);
  const copied: CopiedImage = { root, source, written, report };
  if (rewrittenFrom) copied.rewrittenFrom = rewrittenFrom;
  return copied;
}
