import type { LimitFunction } from 'p-limit';
import type { ContentSource, ContentTarget } from '../core/content.js';
import type { Descriptor } from '../core/descriptor.js';
import { parseManifest, successors } from '../core/manifest.js';
import { isManifest } from '../core/media-types.js';
import { readManifestBytes } from './read-manifest.js';

// The plan of a pull or copy phase, made before a byte moves (issue 13.1): walk
// every resolved graph (manifests are small; those read here are kept, so the
// copy does not fetch them again), and sum the bytes that will actually move —
// what the target already holds, can mount, or holds part of is left out. The
// phase is announced with this total, so its percentage and ETA tell the truth.

export interface PlanEntry {
  /** Where this image's graph goes. */
  target: ContentTarget;
  /** Where it comes from (manifests in `written` are served from memory). */
  source: ContentSource;
  roots: Descriptor[];
  /** Manifests read by the walk are added here, by digest. */
  written: Map<string, Buffer>;
  /** A blob the target will link from elsewhere instead of fetching (a cross-repository mount). */
  mountable?: (desc: Descriptor) => boolean;
}

export interface PullPlan {
  /** Bytes of blobs that will move. */
  bytes: number;
  /** Blobs that will move. */
  blobs: number;
  /** (image, blob) pairs whose target holds the blob already. */
  present: number;
}

/** What --debug says of a plan. */
export function describePlan(plan: PullPlan, where: string): string {
  return `plan: ${plan.blobs} blob(s), ${plan.bytes} bytes to move; ${plan.present} already in ${where}`;
}

/**
 * Shared by the images of one phase. Each image's graph is walked against its
 * own target (what one repository holds says nothing of another's); a blob's
 * bytes are counted once, for the first image that will fetch them — the
 * others wait for it and link it (copyGraph, CopyScheduler).
 */
export class Planner {
  readonly plan: PullPlan = { bytes: 0, blobs: 0, present: 0 };
  /** Blobs counted, by digest. */
  private readonly counted = new Set<string>();
  /** Manifests read, by digest: an index two tags share is fetched once. */
  private readonly manifests = new Map<string, Buffer>();
  /** The nodes walked for each image, by the present set add() handed it. */
  private readonly visited = new WeakMap<Set<string>, Set<string>>();
  private readonly limit: LimitFunction;
  private readonly signal: AbortSignal | undefined;

  constructor(limit: LimitFunction, signal?: AbortSignal) {
    this.limit = limit;
    this.signal = signal;
  }

  /**
   * Adds one image's graph to the plan; resolves to the blobs its target holds already (the copy skips
   * them without asking again). More roots of the same image (its referrers, found while its root was
   * walked) are added with the set an earlier call returned: nodes walked then are not walked again.
   */
  async add(entry: PlanEntry, present = new Set<string>()): Promise<Set<string>> {
    let visited = this.visited.get(present);
    if (!visited) this.visited.set(present, (visited = new Set<string>()));
    const walked = visited;
    await Promise.all(entry.roots.map((root) => this.node(entry, root, walked, present)));
    return present;
  }

  private async node(entry: PlanEntry, desc: Descriptor, visited: Set<string>, present: Set<string>): Promise<void> {
    if (visited.has(desc.digest)) return;
    visited.add(desc.digest);
    const signal = this.signal;
    // As copyGraph does: a node the target has prunes its subtree.
    // A local target's lookup is no request: it takes no slot (downloads of images planned earlier hold them).
    const has = () => entry.target.exists(desc, signal ? { signal } : {});
    if (await (entry.target.local ? has() : this.limit(has))) {
      if (!isManifest(desc.mediaType)) {
        present.add(desc.digest);
        this.plan.present += 1;
      }
      return;
    }
    if (isManifest(desc.mediaType)) {
      const bytes = entry.written.get(desc.digest) ?? this.manifests.get(desc.digest) ?? (await this.limit(() => readManifestBytes(entry.source, desc, signal)));
      this.manifests.set(desc.digest, bytes);
      entry.written.set(desc.digest, bytes);
      const children = successors(parseManifest(bytes, desc.mediaType, desc.digest));
      await Promise.all(children.map((child) => this.node(entry, child, visited, present)));
      return;
    }
    if (this.counted.has(desc.digest) || entry.mountable?.(desc)) return;
    this.counted.add(desc.digest);
    const offset = entry.target.resumeOffset ? await entry.target.resumeOffset(desc) : 0;
    if (offset >= desc.size) return;
    this.plan.bytes += desc.size - offset;
    this.plan.blobs += 1;
  }
}
