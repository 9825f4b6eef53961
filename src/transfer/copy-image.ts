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
}

export async function copyImage(client: RegistryClient, reference: Reference, target: ContentTarget, options: CopyImageOptions): Promise<CopiedImage> {
  const { platforms, tags, onRoot, beforeCopy, ...graphOptions } = options;
  const remote = client.repository(reference.repository);
  const source = withForeignLayerUrls(remote, (url, offset, signal) => client.fetchUrl(url, { offset, ...(signal ? { signal } : {}) }));
  // A typo'd tag or repository: say what the registry has instead (site/nearest-tags.ts).
  const resolved = await remote.resolve(referenceTarget(reference), options.signal ? { signal: options.signal } : {})
    .catch(async (e: unknown) => Promise.reject(await explainNotFound(client, reference, e, options.signal)));
  const selected = await selectPlatforms(source, resolved, platforms, formatReference(reference));
  onRoot?.(source, selected.descriptor, selected.written);
  await beforeCopy?.(source, selected.descriptor, selected.written, selected.rewrittenFrom);
  const report = await copyGraph(overlaySource(source, selected.written), target, [{ descriptor: selected.descriptor, tags }], graphOptions);
  const copied: CopiedImage = { root: selected.descriptor, source, written: selected.written, report };
  if (selected.rewrittenFrom) copied.rewrittenFrom = selected.rewrittenFrom;
  return copied;
}
