import pLimit from 'p-limit';
import type { Descriptor } from '../core/descriptor.js';
import { DEFAULT_CONCURRENCY } from '../core/limits.js';
import type { Platform } from '../core/platform.js';
import { formatReference, type Reference } from '../core/reference.js';
import { copyImage, resolveImage } from './copy-image.js';
import { overlaySource } from './overlay-source.js';
import { describePlan, Planner } from './pull-plan.js';
import { CopyScheduler } from './copy-scheduler.js';
import type { CopyReport } from './copy-report.js';
import { noEvents, type EventSink } from './events.js';
import type { RegistryPool } from './registry-pool.js';
import type { TrustPolicy } from '../trust/index.js';
import { collectReferrers } from './pull-image.js';
import { signatureCheck } from './trust-gate.js';
import type { SignedBy } from './trust-judge.js';

// `ferry copy SRC DST`: registry to registry on the connected side (crane copy,
// skopeo copy) — the same copyGraph as export and import, with a cross-repository
// mount tried first when both are on one registry.

export interface CopyReferenceOptions {
  source: Reference;
  target: Reference;
  registries: RegistryPool;
  platforms: Platform[];
  /** Copy only if a trusted key signed the image (checked before a byte moves; refused: UntrustedImagesError). */
  trust?: TrustPolicy;
  concurrency?: number;
  onEvent?: EventSink;
  signal?: AbortSignal;
}

export interface CopyReferenceReport {
  source: string;
  target: string;
  digest: Descriptor['digest'];
  sourceDigest?: Descriptor['digest'];
  copy: CopyReport;
  signedBy?: SignedBy;
}

export async function copyReference(options: CopyReferenceOptions): Promise<CopyReferenceReport> {
  const { source: src, target: dst } = options;
  const target = options.registries.client(dst.registry);
  const to = target.repository(dst.repository, { push: true });
  const scheduler = new CopyScheduler(pLimit(options.concurrency ?? DEFAULT_CONCURRENCY));
  const client = options.registries.client(src.registry);
  const emit = options.onEvent ?? noEvents;
  const mountable = src.registry === dst.registry;
  // Resolved and planned before a byte moves: the copy phase starts with its true total.
  emit({ type: 'phase', phase: 'resolve', items: 1 });
  const resolved = await resolveImage(client, src, options.platforms, options);
  const planner = new Planner(scheduler.limit, options.signal);
  const present = await planner.add({ target: to, source: overlaySource(resolved.source, resolved.written), roots: [resolved.root], written: resolved.written, ...(mountable ? { mountable: () => true } : {}) });
  emit({ type: 'debug', text: describePlan(planner.plan, formatReference(dst)) });
  emit({ type: 'phase', phase: 'copy', items: 1, total: planner.plan.bytes });
  const name = formatReference(src);
  emit({ type: 'image', name, state: 'start' });
  let signedBy: SignedBy | undefined;
  const copied = await copyImage(client, src, to, {
    resolved,
    present: (desc) => present.has(desc.digest),
    platforms: options.platforms,
    tags: dst.tag ? [dst.tag] : [],
    scheduler,
    ...(options.trust ? { beforeCopy: signatureCheck(src, options.trust, (source, root, bytes) => collectReferrers(source, root, bytes, scheduler.limit), (s) => (signedBy = s), options.signal) } : {}),
    repository: dst.repository,
    retry: target.retry,
    ...(mountable ? { mountCandidates: () => [src.repository] } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  emit({ type: 'image', name, state: 'done', detail: `${copied.report.copied} copied, ${copied.report.mounted} mounted, ${copied.report.skipped} already there` });
  const report: CopyReferenceReport = { source: formatReference(src), target: formatReference(dst), digest: copied.root.digest, copy: copied.report };
  if (copied.rewrittenFrom) report.sourceDigest = copied.rewrittenFrom;
  if (signedBy) report.signedBy = signedBy;
  return report;
}
