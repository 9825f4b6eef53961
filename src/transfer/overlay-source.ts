import { Readable } from 'node:stream';
import type { ContentSource, FetchOptions } from '../core/content.js';
import type { Descriptor } from '../core/descriptor.js';

/**
 * A source that serves some manifests from memory and the rest from another
 * source. Export's platform filter and import's foreign-layer localizing write
 * new manifests that exist nowhere else; copyGraph reads them through this.
 */
export function overlaySource(base: ContentSource, extra: ReadonlyMap<string, Buffer>): ContentSource {
  const overlay: ContentSource = {
    resolve: (reference, options) => base.resolve(reference, options),
    async fetch(desc: Descriptor, options?: FetchOptions) {
      const bytes = extra.get(desc.digest);
      if (bytes) return Readable.from([bytes.subarray(options?.offset ?? 0)]);
      return base.fetch(desc, options);
    },
    fromMemory: (desc) => extra.has(desc.digest) || (base.fromMemory?.(desc) ?? false),
  };
  if (base.referrers) overlay.referrers = base.referrers.bind(base);
  if (base.tags) overlay.tags = base.tags.bind(base);
  return overlay;
}
