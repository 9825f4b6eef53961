import pLimit from 'p-limit';
import { ANNOTATION_REFERRER_TAG, referenceTarget, type Digest, type Reference } from '../../core/index.js';
import type { RegistryClient } from '../../registry/client/index.js';
import { summarize, type ChildSummary, type ImageSummary } from './image-summary.js';
import { ManifestNodes } from './manifest-node.js';
import { explainNotFound } from './nearest-tags.js';
import { repositoryRef } from './site-target.js';

// `ferry ls REGISTRY/REPO@sha256:…` (or `:TAG`): one manifest, an index's
// children and the referrers (signatures, SBOMs) that point at it. Every row
// carries a `host/repo@digest` reference that `ferry ls` and `ferry rm` take back.

export interface ChildRow extends ChildSummary {
  reference: string;
}

export interface ReferrerRow {
  reference: string;
  digest: Digest;
  mediaType: string;
  artifactType?: string;
  size: number;
  /** The tag it was found under (cosign `sha256-<hex>.sig`), when it has one. */
  tag?: string;
}

export interface ManifestListing extends Omit<ImageSummary, 'children'> {
  /** `host/repo@digest`. */
  reference: string;
  children: ChildRow[];
  referrers: ReferrerRow[];
}

export async function describeManifest(client: RegistryClient, ref: Reference, opts: { concurrency?: number; signal?: AbortSignal } = {}): Promise<ManifestListing> {
  const repo = client.repository(ref.repository);
  const nodes = new ManifestNodes(repo, opts.signal);
  // The root first (fetched once, then cached): a typo'd tag or repository says what is there instead.
  await nodes.get(referenceTarget(ref)).catch(async (e: unknown) => Promise.reject(await explainNotFound(client, ref, e, opts.signal)));
  const summary = await summarize(nodes, referenceTarget(ref), pLimit(opts.concurrency ?? 8));
  const name = repositoryRef(client.registry, ref.repository);
  const node = await nodes.get(summary.digest);
  const referrers: ReferrerRow[] = [];
  for await (const d of repo.referrers(node.descriptor, opts.signal ? { signal: opts.signal } : {})) {
    const row: ReferrerRow = { reference: `${name}@${d.digest}`, digest: d.digest, mediaType: d.mediaType, size: d.size };
    if (d.artifactType) row.artifactType = d.artifactType;
    const tag = d.annotations?.[ANNOTATION_REFERRER_TAG];
    if (tag) row.tag = tag;
    referrers.push(row);
  }
  return {
    ...summary,
    reference: `${name}@${summary.digest}`,
    children: summary.children.map((c) => ({ ...c, reference: `${name}@${c.digest}` })),
    referrers,
  };
}
