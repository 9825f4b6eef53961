import type { ContentSource } from '../core/content.js';
import type { Descriptor } from '../core/descriptor.js';
import { digestOf } from '../core/digest.js';
import { ErrorCode, NotFoundError } from '../core/errors.js';
import { manifestJson } from '../core/manifest.js';
import { formatPlatform, platformMatches, type Platform } from '../core/platform.js';
import { configPlatform } from './config-platform.js';
import { readManifest } from './read-manifest.js';

/** The root to copy after platform selection, and any manifest bytes that exist only in memory. */
export interface SelectedRoot {
  descriptor: Descriptor;
  /** Manifests written by the filter (a reduced index), keyed by digest. */
  written: Map<string, Buffer>;
  /** Set when the root's digest differs from the source's (design §4: reported, never silent). */
  rewrittenFrom?: Descriptor['digest'];
}

function noPlatform(subject: string, wanted: Platform[], offered: Array<Platform | undefined>, kind: string): NotFoundError {
  const has = offered.map((p) => (p ? formatPlatform(p) : 'unknown')).join(', ');
  return new NotFoundError(`${subject}: no image for platform ${wanted.map(formatPlatform).join(', ')}: it is ${kind} of ${has}`, {
    code: ErrorCode.manifestUnknown,
    hint: `pick a platform it has with --platform (${has}), or leave the image out`,
  });
}

/**
 * Applies `--platform` to a root (design §4). An index whose children are not
 * all kept is never copied under its original digest: with one platform the
 * platform manifest becomes the root; with several, a new index holding only
 * those children is written and its digest reported. No platforms = everything.
 * An image (index or single-platform manifest) with none of the platforms is
 * refused, naming the platforms it has, as skopeo refuses ("no image found in
 * manifest list for architecture"); an artifact (no image config) has no
 * platform and is carried.
 */
export async function selectPlatforms(source: ContentSource, root: Descriptor, platforms: Platform[], subject: string): Promise<SelectedRoot> {
  const written = new Map<string, Buffer>();
  if (platforms.length === 0) return { descriptor: root, written };
  const { bytes, manifest } = await readManifest(source, root);
  if (manifest.kind !== 'index') {
    // One rule for an index and a single-platform image: neither is carried for a platform it lacks.
    const own = await configPlatform(source, manifest.config, subject);
    if (own && !platforms.some((p) => platformMatches(p, own))) throw noPlatform(subject, platforms, [own], 'a single-platform image');
    return { descriptor: root, written };
  }
  const kept = manifest.manifests.filter((child) => platforms.some((p) => platformMatches(p, child.platform)));
  if (kept.length === 0) throw noPlatform(subject, platforms, manifest.manifests.map((c) => c.platform), 'an index');
  if (kept.length === manifest.manifests.length) return { descriptor: root, written };
  if (kept.length === 1) return { descriptor: kept[0]!, written, rewrittenFrom: root.digest };
  const doc = manifestJson(bytes, root.digest);
  const keptDigests = new Set<string>(kept.map((k) => k.digest));
  doc.manifests = (doc.manifests as Array<{ digest: string }>).filter((m) => keptDigests.has(m.digest));
  const newBytes = Buffer.from(JSON.stringify(doc));
  const descriptor: Descriptor = { ...root, digest: digestOf(newBytes), size: newBytes.length };
  written.set(descriptor.digest, newBytes);
  return { descriptor, written, rewrittenFrom: root.digest };
}
