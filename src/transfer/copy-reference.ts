import pLimit from 'p-limit';
import type { Descriptor } from '../core/descriptor.js';
import { DEFAULT_CONCURRENCY } from '../core/limits.js';
import type { Platform } from '../core/platform.js';
import { formatReference, type Reference } from '../core/reference.js';
import { copyImage } from './copy-image.js';
import { CopyScheduler } from './copy-scheduler.js';
import type { CopyReport } from './copy-report.js';
import type { EventSink } from './events.js';
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
  let signedBy: SignedBy | undefined;
  const copied = await copyImage(options.registries.client(src.registry), src, to, {
    platforms: options.platforms,
    tags: dst.tag ? [dst.tag] : [],
    scheduler,
    ...(options.trust ? { beforeCopy: signatureCheck(src, options.trust, (source, root, bytes) => collectReferrers(source, root, bytes, scheduler.limit), (s) => (signedBy = s), options.signal) } : {}),
    repository: dst.repository,
    retry: target.retry,
    ...(src.registry === dst.registry ? { mountCandidates: () => [src.repository] } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const report: CopyReferenceReport = { source: formatReference(src), target: formatReference(dst), digest: copied.root.digest, copy: copied.report };
  if (copied.rewrittenFrom) report.sourceDigest = copied.rewrittenFrom;
  if (signedBy) report.signedBy = signedBy;
  return report;
}
