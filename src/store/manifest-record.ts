import { edges, successors, type Descriptor, type Manifest } from '../core/index.js';
import type { ManifestRecord } from './db/manifests.js';
import type { StoreContext } from './store-context.js';

/** The index rows for a parsed manifest: edges from core `edges()`, subject, and the artifact type referrers report. */
export function manifestRecord(desc: Descriptor, manifest: Manifest): ManifestRecord {
  return {
    digest: desc.digest,
    mediaType: manifest.mediaType,
    // OCI referrers: an image manifest without artifactType reports its config's media type.
    artifactType: manifest.artifactType ?? (manifest.kind === 'manifest' ? manifest.config.mediaType : undefined),
    subject: manifest.subject?.digest,
    annotations: manifest.annotations,
    edges: edges(manifest),
  };
}

/**
 * The children a manifest needs that repository `repoId` does not hold (linked and
 * committed): what a registry answers with MANIFEST_BLOB_UNKNOWN. Layers that carry
 * `urls` (foreign layers) and the subject are not required, as in distribution and
 * OCI 1.1. Children found are touched, so a GC cannot take them between this check
 * and the manifest's commit.
 */
export function missingChildren(ctx: StoreContext, repoId: number | undefined, manifest: Manifest): Descriptor[] {
  const required = successors(manifest).filter((d) => !(d.urls && d.urls.length > 0));
  if (!ctx.readOnly) {
    // Touch first, then look (see StoreRepository.exists): no sweep can fall in between.
    ctx.index.immediate(() => {
      const now = ctx.clock();
      for (const child of required) ctx.index.blobs.touch(child.digest, now);
    });
  }
  return required.filter(
    (child) => repoId === undefined || !ctx.index.repos.isLinked(repoId, child.digest) || ctx.index.blobs.get(child.digest) === undefined,
  );
}
