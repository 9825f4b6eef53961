import { openBundle, type Bundle, type TrustOptions } from '../bundle/index.js';
import type { Descriptor } from '../core/descriptor.js';
import type { Digest } from '../core/digest.js';
import { isFerryError } from '../core/errors.js';
import { MAX_MANIFEST_BYTES } from '../core/limits.js';
import { readCapped } from '../core/read-capped.js';
import { formatReference, type Reference } from '../core/reference.js';
import { upstreamRepositoryName } from '../core/upstream-repository.js';
import type { RepositoryCatalog, StoreHandle } from '../store/index.js';
import { localizeForeignLayers } from '../transfer/localize-foreign-layers.js';
import type { DigestPins } from './image-mapping.js';

// Digests for `ferry k8s rewrite --pin-digests`: the digest each image will have
// on the far side. From a bundle that is the exported digest — except for
// images with foreign (Windows) layers, which `ferry import` localizes by
// default, giving them new manifests; their digests are recomputed here the
// same way from the bundle's manifests (which precede its layers in the tar).
// From the store it is simply what the tag names there now.

export type ForeignLayerMode = 'localize' | 'preserve';

const key = (ref: Reference): string => formatReference({ registry: ref.registry, repository: ref.repository, tag: ref.tag ?? 'latest' });

function hasForeignLayers(bundle: Bundle, root: Digest): boolean {
  return bundle.db.blobsOf(root).some((b) => (b.descriptor.urls?.length ?? 0) > 0);
}

/** Reads manifest blobs from the bundle until every wanted one is in hand (layers are never read). */
async function readManifests(bundle: Bundle, wanted: Set<Digest>): Promise<Map<Digest, Buffer>> {
  const found = new Map<Digest, Buffer>();
  if (wanted.size === 0) return found;
  for await (const blob of bundle.blobs()) {
    if (blob.kind !== 'manifest' || !wanted.has(blob.descriptor.digest)) continue;
    found.set(blob.descriptor.digest, await readCapped(blob.stream, MAX_MANIFEST_BYTES, blob.entry));
    if (found.size === wanted.size) break;
  }
  return found;
}

export async function pinsFromBundle(path: string, options: TrustOptions & { foreignLayers?: ForeignLayerMode } = {}): Promise<DigestPins> {
  const bundle = await openBundle(path, { ...(options.key ? { key: options.key } : {}), ...(options.requireSignature ? { requireSignature: true } : {}), checkVolumes: false });
  try {
    const digests = new Map<string, Digest>();
    const foreign: Array<{ name: string; root: Descriptor }> = [];
    for (const image of bundle.db.images()) {
      if (!image.tag) continue;
      digests.set(image.name, image.digest);
      if ((options.foreignLayers ?? 'localize') === 'localize' && hasForeignLayers(bundle, image.digest)) {
        foreign.push({ name: image.name, root: { mediaType: image.mediaType, digest: image.digest, size: image.size } });
      }
    }
    const wanted = new Set<Digest>(foreign.flatMap((f) => bundle.db.blobsOf(f.root.digest).filter((b) => b.kind === 'manifest').map((b) => b.descriptor.digest)));
    const manifests = await readManifests(bundle, wanted);
    for (const f of foreign) digests.set(f.name, localizeForeignLayers(f.root, (d) => manifests.get(d)).root.digest);
    return { source: path, lookup: async (ref) => digests.get(key(ref)) };
  } finally {
    await bundle.close();
  }
}

export function pinsFromStore(store: RepositoryCatalog & Pick<StoreHandle, 'dir'>): DigestPins {
  return {
    source: `the store (${store.dir})`,
    lookup: async (ref) => {
      try {
        return (await store.repository(upstreamRepositoryName(ref.registry, ref.repository)).resolve(ref.tag ?? 'latest')).digest;
      } catch (err) {
        if (isFerryError(err)) return undefined;
        throw err;
      }
    },
  };
}
