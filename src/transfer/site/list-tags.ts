import pLimit, { type LimitFunction } from 'p-limit';
import { NotFoundError, UsageError, type Digest } from '../../core/index.js';
import type { RegistryClient } from '../../registry/client/index.js';
import { summarize, type ImageSummary } from './image-summary.js';
import { ManifestNodes } from './manifest-node.js';
import { repositoryRef } from './site-target.js';

// `ferry ls REGISTRY/REPO`: every tag, following the tags/list Link pages to the
// end; with `long`, each tag resolved and summarised (digest, media type,
// platforms, size). Each row's `reference` is what `ferry rm` and `ferry ls` take.

export interface TagRow {
  tag: string;
  /** `host/repo:tag`. */
  reference: string;
  digest?: Digest;
  mediaType?: string;
  artifactType?: string;
  platforms?: string[];
  size?: number;
}

export interface ListTagsOptions {
  readonly long?: boolean;
  readonly pageSize?: number;
  /** Requests in flight at once (default 8). */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
}

function detailed(row: TagRow, s: ImageSummary): TagRow {
  const out: TagRow = { ...row, digest: s.digest, mediaType: s.mediaType, platforms: s.platforms, size: s.size };
  if (s.artifactType) out.artifactType = s.artifactType;
  return out;
}

/** Every tag of the repository; NotFoundError when it has none (distribution: a repository exists only while tagged). */
export async function listTags(client: RegistryClient, repository: string, opts: ListTagsOptions = {}): Promise<TagRow[]> {
  if (opts.pageSize !== undefined && !(Number.isInteger(opts.pageSize) && opts.pageSize >= 1 && opts.pageSize <= 10_000)) {
    throw new UsageError('--page-size must be a whole number from 1 to 10000');
  }
  const repo = client.repository(repository);
  const tags: string[] = [];
  for await (const tag of repo.tags({ ...(opts.pageSize ? { pageSize: opts.pageSize } : {}), ...(opts.signal ? { signal: opts.signal } : {}) })) tags.push(tag);
  const name = repositoryRef(client.registry, repository);
  if (tags.length === 0) throw new NotFoundError(`${name} has no tags (or does not exist)`, { hint: `ferry ls ${client.registry} lists the repositories` });
  const rows = tags.map((tag) => ({ tag, reference: `${name}:${tag}` }));
  if (!opts.long) return rows;
  const nodes = new ManifestNodes(repo, opts.signal);
  const requests: LimitFunction = pLimit(opts.concurrency ?? 8);
  // Tags are taken a few at a time; the requests inside share `requests` (never nested, so no slot waits on another).
  const perTag = pLimit(opts.concurrency ?? 8);
  return Promise.all(rows.map((row) => perTag(async () => detailed(row, await summarize(nodes, row.tag, requests)))));
}
