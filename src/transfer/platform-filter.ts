import type { ContentSource } from '../core/content.js';
import type { Descriptor } from '../core/descriptor.js';
import { digestOf } from '../core/digest.js';
import { ErrorCode, NotFoundError } from '../core/errors.js';
import { manifestJson } from '../core/manifest.js';
import { formatPlatform, platformMatches, type Platform } from '../core/platform.js';
import { readManifest } from './read-manifest.js';

/** The root to copy after platform selection, and any manifest bytes that exist only in memory. */
export interface SelectedRoot {
  descriptor: Descriptor;
  /** Manifests written by the filter (a reduced index), keyed by digest. */
  written: Map<string, Buffer>;
  /** Set when the root's digest differs from the source's (design §4: reported, never silent). */
  rewrittenFrom?: Descriptor['digest'];
}

/**
 * Applies `--platform` to a root (design §4). An index whose children are not
 * all kept is never copied under its original digest: with one platform the
 * platform manifest becomes the root; with several, a new index holding only
 * those children is written and its digest reported. No platforms = everything.
 */
export async function selectPlatforms(source: ContentSource, root: Descriptor, platforms: Platform[], subject: string): Promise<SelectedRoot> {
  const written = new Map<string, Buffer>();
  if (platforms.length === 0) return { descriptor: root, written };
  const { bytes, manifest } = await readManifest(source, root);
  if (manifest.kind !== 'index') return { descriptor: root, written };
  const kept = manifest.manifests.filter((child) => platforms.some((p) => platformMatches(p, child.platform)));
  if (kept.length === 0) {
    const offered = manifest.manifests.map((c) => (c.platform ? formatPlatform(c.platform) : 'unknown')).join(', ');
    throw new NotFoundError(`${subject}: no manifest for platform ${platforms.map(formatPlatform).join(', ')} (offered: ${offered})`, {
      code: ErrorCode.manifestUnknown,
      hint: 'pick one of the offered platforms with --platform, or use --all-platforms',
    });
  }
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
