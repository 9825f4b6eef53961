import type { ContentSource } from '../core/content.js';
import type { Descriptor } from '../core/descriptor.js';
import { verifyBytes } from '../core/hashing.js';
import { MAX_MANIFEST_BYTES } from '../core/limits.js';
import { isConfig } from '../core/media-types.js';
import type { Platform } from '../core/platform.js';
import { readCapped } from '../core/read-capped.js';

/**
 * The platform an image config names (os, architecture, variant, os.version),
 * read with one small capped GET; undefined for an artifact (its "config" is
 * not an image config) or a config that names none.
 */
export async function configPlatform(source: ContentSource, config: Descriptor, subject: string, signal?: AbortSignal): Promise<Platform | undefined> {
  if (!isConfig(config.mediaType) || config.size > MAX_MANIFEST_BYTES) return undefined;
  const bytes = await readCapped(await source.fetch(config, signal ? { signal } : {}), MAX_MANIFEST_BYTES, config.digest);
  verifyBytes(bytes, config, `${subject}@${config.digest}`);
  let doc: Partial<Platform>;
  try {
    doc = JSON.parse(bytes.toString('utf8')) as Partial<Platform>;
  } catch {
    return undefined;
  }
  if (typeof doc.os !== 'string' || typeof doc.architecture !== 'string') return undefined;
  const p: Platform = { os: doc.os, architecture: doc.architecture };
  if (typeof doc.variant === 'string') p.variant = doc.variant;
  if (typeof doc['os.version'] === 'string') p['os.version'] = doc['os.version'];
  return p;
}
