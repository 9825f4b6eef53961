import type { Readable } from 'node:stream';
import type { ContentSource, FetchOptions } from '../core/content.js';
import type { Descriptor } from '../core/descriptor.js';
import { ErrorCode, ExitCode, NotFoundError, isFerryError } from '../core/errors.js';
import { isForeignLayer } from '../core/media-types.js';

// Foreign (non-distributable) layers: MCR does not serve Windows base layers at
// /v2/…/blobs/, only at the URLs in their descriptors. Export tries the registry
// first, then each URL (design §4); the bytes are verified by whoever consumes
// the stream, exactly as for any other blob.

export type UrlFetcher = (url: string, offset: number, signal?: AbortSignal) => Promise<Readable>;

/** Fetches a URL with Node's fetch (redirects followed), from `offset` with Range. */
function servedByUrlsOnly(err: unknown): boolean {
  return isFerryError(err) && (err.exitCode === ExitCode.notFound || err.exitCode === ExitCode.auth);
}

export function withForeignLayerUrls(base: ContentSource, fetcher: UrlFetcher): ContentSource {
  const source: ContentSource = {
    resolve: (reference, options) => base.resolve(reference, options),
    async fetch(desc: Descriptor, options?: FetchOptions) {
      if (!isForeignLayer(desc.mediaType) || !desc.urls?.length) return base.fetch(desc, options);
      let lastError: unknown;
      try {
        return await base.fetch(desc, options);
      } catch (err) {
        if (!servedByUrlsOnly(err)) throw err;
        lastError = err;
      }
      for (const url of desc.urls) {
        try {
          return await fetcher(url, options?.offset ?? 0, options?.signal);
        } catch (err) {
          lastError = err;
        }
      }
      throw new NotFoundError(`foreign layer ${desc.digest} is served neither by the registry nor by its urls (${desc.urls.join(', ')})`, {
        code: ErrorCode.blobUnknown,
        hint: 'export needs to reach the layer URLs (for Windows base layers: mcr.microsoft.com and its CDN)',
        cause: lastError,
      });
    },
  };
  if (base.referrers) source.referrers = base.referrers.bind(base);
  if (base.tags) source.tags = base.tags.bind(base);
  return source;
}
