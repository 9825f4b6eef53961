import { parseDigest, type Digest } from '../core/digest.js';
import { UsageError } from '../core/errors.js';
import { parseManifest } from '../core/manifest.js';
import { validateRepository, validateTag } from '../core/reference.js';
import type { RemoteRepository } from '../registry/client/index.js';

// Which blob the redirect check downloads: the config of the image REPO:TAG
// names (the first platform's, for an index). A config is small and, unlike a
// foreign layer, always held by the registry. Without a tag, the first one listed.

export interface RepositoryRef {
  readonly repository: string;
  /** A tag or a digest; undefined = the first tag the registry lists. */
  readonly reference?: string;
}

/** `REPO`, `REPO:TAG` or `REPO@DIGEST` (no registry host: that is the positional REGISTRY). */
export function parseRepositoryRef(text: string, flag: string): RepositoryRef {
  const at = text.indexOf('@');
  const colon = text.lastIndexOf(':');
  try {
    if (at >= 0) return { repository: validateRepository(text.slice(0, at)), reference: parseDigest(text.slice(at + 1)) };
    if (colon > text.lastIndexOf('/')) return { repository: validateRepository(text.slice(0, colon)), reference: validateTag(text.slice(colon + 1)) };
    return { repository: validateRepository(text) };
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(`${flag} ${text.slice(0, 200)}: ${e.message}`, { code: e.code, hint: e.hint ?? `${flag} takes REPO[:TAG], without the registry host` });
    throw e;
  }
}

export interface PickedBlob {
  readonly digest: Digest;
  readonly kind: 'config' | 'layer';
}

/** The blob to fetch, or a sentence saying why there is none (the check is then skipped). */
export async function pickBlob(repo: RemoteRepository, reference: string | undefined): Promise<PickedBlob | string> {
  let ref = reference;
  if (ref === undefined) {
    for await (const tag of repo.tags()) {
      ref = tag;
      break;
    }
    if (ref === undefined) return `${repo.name} has no tags to download a blob of`;
  }
  let fetched = await repo.fetchManifest(ref);
  let manifest = parseManifest(fetched.bytes, fetched.descriptor.mediaType, `${repo.name}:${ref}`);
  if (manifest.kind === 'index') {
    const child = manifest.manifests[0];
    if (!child) return `${repo.name}:${ref} is an empty index`;
    fetched = await repo.fetchManifest(child.digest);
    manifest = parseManifest(fetched.bytes, fetched.descriptor.mediaType, `${repo.name}@${child.digest}`);
    if (manifest.kind === 'index') return `${repo.name}:${ref} is an index of indexes`;
  }
  if (manifest.config.size > 0) return { digest: manifest.config.digest, kind: 'config' };
  const layer = manifest.layers.find((l) => !l.urls);
  return layer ? { digest: layer.digest, kind: 'layer' } : `${repo.name}:${ref} has no blob to download`;
}
