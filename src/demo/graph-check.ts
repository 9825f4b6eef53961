import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ContentSource } from '../core/content.js';
import type { Descriptor } from '../core/descriptor.js';
import { verifyBytes, verifyStream } from '../core/hashing.js';
import { MAX_MANIFEST_BYTES } from '../core/limits.js';
import { parseManifest, successors } from '../core/manifest.js';
import { isManifest } from '../core/media-types.js';
import { readCapped } from '../core/read-capped.js';

// The demo's proof: resolve a tag on both registries, walk both graphs from the
// root, and re-hash every manifest and blob each registry serves. The image
// made the trip intact when the root digests are equal and the two walks list
// the same digests in the same order.

export interface GraphWalk {
  root: Descriptor;
  /** Every node reached, depth first in manifest order (a shared blob listed once). */
  digests: string[];
  bytes: number;
}

const discard = (): Writable =>
  new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });

/** Resolves `tag` and fetches everything under it, verifying each byte against its descriptor. */
export async function walkVerified(source: ContentSource, tag: string, where: string, signal?: AbortSignal): Promise<GraphWalk> {
  const root = await source.resolve(tag, signal ? { signal } : {});
  const seen = new Set<string>();
  const walk: GraphWalk = { root, digests: [], bytes: 0 };
  const visit = async (desc: Descriptor): Promise<void> => {
    if (seen.has(desc.digest)) return;
    seen.add(desc.digest);
    walk.digests.push(desc.digest);
    walk.bytes += desc.size;
    const subject = `${where} ${desc.digest}`;
    const body = await source.fetch(desc, signal ? { signal } : {});
    if (!isManifest(desc.mediaType)) {
      await pipeline(body, verifyStream(desc, subject), discard(), signal ? { signal } : {});
      return;
    }
    const bytes = await readCapped(body, MAX_MANIFEST_BYTES, subject);
    verifyBytes(bytes, desc, subject);
    for (const child of successors(parseManifest(bytes, desc.mediaType, subject))) await visit(child);
  };
  await visit(root);
  return walk;
}

export interface ImageCheck {
  /** repository:tag on the source registry. */
  source: string;
  /** repository:tag on the target registry. */
  target: string;
  /** The digest the sample was built with. */
  builtDigest: string;
  sourceDigest: string;
  targetDigest: string;
  /** Manifests, configs and layers walked on each side. */
  nodes: number;
  bytes: number;
  equal: boolean;
  /** What differed, when not equal. */
  problem?: string;
}

/** Compares one image on both sides; never throws for a difference (it is reported), only for I/O. */
export async function checkImage(
  built: Descriptor,
  source: { repo: ContentSource; name: string },
  target: { repo: ContentSource; name: string },
  tag: string,
  signal?: AbortSignal,
): Promise<ImageCheck> {
  const a = await walkVerified(source.repo, tag, `source ${source.name}:${tag}`, signal);
  const b = await walkVerified(target.repo, tag, `target ${target.name}:${tag}`, signal);
  const check: ImageCheck = {
    source: `${source.name}:${tag}`,
    target: `${target.name}:${tag}`,
    builtDigest: built.digest,
    sourceDigest: a.root.digest,
    targetDigest: b.root.digest,
    nodes: b.digests.length,
    bytes: b.bytes,
    equal: false,
  };
  const missing = a.digests.filter((d) => !b.digests.includes(d));
  if (a.root.digest !== built.digest) check.problem = `the source registry serves ${a.root.digest}, not the ${built.digest} that was pushed`;
  else if (b.root.digest !== a.root.digest) check.problem = `the target serves ${b.root.digest}, the source ${a.root.digest}`;
  else if (missing.length > 0) check.problem = `the target lacks ${missing.length} node(s), first ${missing[0]}`;
  else if (a.digests.join() !== b.digests.join()) check.problem = 'the two graphs list different nodes';
  else check.equal = true;
  return check;
}
