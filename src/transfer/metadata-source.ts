import { Readable } from 'node:stream';
import type { ContentSource } from '../core/content.js';
import type { Descriptor } from '../core/descriptor.js';
import { ErrorCode, InternalError, NotFoundError } from '../core/errors.js';

/** Manifest bytes by digest (a Map, or a Map seen through another). */
export type ManifestLookup = Pick<ReadonlyMap<string, Buffer>, 'get'>;

/**
 * A source holding only manifests in memory: import's graph pass pushes
 * manifests from here after the streaming pass put every other blob in place,
 * so any blob request means the target lost something in between.
 */
export function metadataSource(manifests: ManifestLookup): ContentSource {
  return {
    async resolve(reference: string): Promise<Descriptor> {
      throw new NotFoundError(`${reference}: a bundle resolves images through its index, not by tag`, { code: ErrorCode.manifestUnknown });
    },
    async fetch(desc: Descriptor) {
      const bytes = manifests.get(desc.digest);
      if (!bytes) throw new InternalError(`${desc.digest} (${desc.mediaType}) went missing from the target during import; rerun the import`);
      return Readable.from([bytes]);
    },
  };
}
