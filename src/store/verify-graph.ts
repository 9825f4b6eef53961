import type { Digest } from '../core/index.js';
import type { ChildRow, LinkRow, TagRow } from './db/verify-queries.js';

// The completeness half of `ferry store verify`, as pure functions over one
// snapshot of the index: which manifests a repository links without holding all
// they need, and which tags therefore do not reach complete content.

export interface GraphSnapshot {
  /** Committed blobs whose bytes are sound (corrupt ones already left out). */
  sound: ReadonlySet<Digest>;
  links: readonly LinkRow[];
  manifestLinks: readonly LinkRow[];
  children: readonly ChildRow[];
  tags: readonly TagRow[];
}

export interface IncompleteTag {
  repository: string;
  tag: string;
  digest: Digest;
  /** Content the tag needs that this repository does not hold (sound and linked), root causes first. */
  missing: Digest[];
}

interface Graph {
  linked: Map<number, Set<Digest>>;
  needs: Map<Digest, ChildRow[]>;
}

function graphOf(snap: GraphSnapshot): Graph {
  const linked = new Map<number, Set<Digest>>();
  for (const l of snap.links) {
    if (!linked.has(l.repoId)) linked.set(l.repoId, new Set());
    linked.get(l.repoId)?.add(l.digest);
  }
  const needs = new Map<Digest, ChildRow[]>();
  for (const c of snap.children) needs.set(c.parent, [...(needs.get(c.parent) ?? []), c]);
  return { linked, needs };
}

/**
 * Manifests linked in a repository that lack something they need there (a corrupt
 * or missing blob, a child not linked), directly or through a child manifest that
 * lacks it: repoId → digests. A foreign layer may be absent.
 */
export function brokenManifests(snap: GraphSnapshot): Map<number, Set<Digest>> {
  const { linked, needs } = graphOf(snap);
  const broken = new Map<number, Set<Digest>>();
  const holds = (repoId: number, d: Digest): boolean => snap.sound.has(d) && (linked.get(repoId)?.has(d) ?? false) && !broken.get(repoId)?.has(d);
  for (let changed = true; changed; ) {
    changed = false;
    for (const { repoId, digest } of snap.manifestLinks) {
      if (broken.get(repoId)?.has(digest)) continue;
      if ((needs.get(digest) ?? []).every((c) => holds(repoId, c.child) || (c.foreign && !snap.sound.has(c.child)))) continue;
      if (!broken.has(repoId)) broken.set(repoId, new Set());
      broken.get(repoId)?.add(digest);
      changed = true;
    }
  }
  return broken;
}

/** Tags whose manifest is missing, unlinked or broken, each with what is missing under it. */
export function incompleteTags(snap: GraphSnapshot, broken: Map<number, Set<Digest>>): IncompleteTag[] {
  const { linked, needs } = graphOf(snap);
  const present = (repoId: number, d: Digest): boolean => snap.sound.has(d) && (linked.get(repoId)?.has(d) ?? false);
  const out: IncompleteTag[] = [];
  for (const t of snap.tags) {
    if (present(t.repoId, t.digest) && !broken.get(t.repoId)?.has(t.digest)) continue;
    const missing = new Set<Digest>();
    const lacking = new Map<Digest, boolean>(); // something absent at or under it
    // Reports the root causes: content absent here with nothing absent under it (a manifest
    // unlinked by repair is explained by the layer it lost, not named itself).
    const walk = (d: Digest, foreign: boolean): boolean => {
      const known = lacking.get(d);
      if (known !== undefined) return known;
      lacking.set(d, false);
      if (foreign && !snap.sound.has(d)) return false;
      let below = false;
      if (snap.sound.has(d)) for (const c of needs.get(d) ?? []) below = walk(c.child, c.foreign) || below;
      if (!below && !present(t.repoId, d)) missing.add(d);
      const result = below || missing.has(d);
      lacking.set(d, result);
      return result;
    };
    walk(t.digest, false);
    out.push({ repository: t.repository, tag: t.tag, digest: t.digest, missing: [...missing] });
  }
  return out;
}
