import { ErrorCode, NotFoundError, edges, successors, type Descriptor, type Manifest } from '../core/index.js';
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

/** The children a manifest needs: not its subject (OCI 1.1 allows a dangling one), not layers with `urls` (foreign). */
function requiredChildren(manifest: Manifest): Descriptor[] {
  return successors(manifest).filter((d) => !(d.urls && d.urls.length > 0));
}

/** Of `children`, those repository `repoId` does not hold (linked and committed). */
function notHeld(ctx: StoreContext, repoId: number | undefined, children: Descriptor[]): Descriptor[] {
  return children.filter(
    (child) => repoId === undefined || !ctx.index.repos.isLinked(repoId, child.digest) || ctx.index.blobs.get(child.digest) === undefined,
  );
}

/**
 * The children a manifest needs that repository `repoId` does not hold (linked and
 * committed): what a registry answers with MANIFEST_BLOB_UNKNOWN. Layers that carry
 * `urls` (foreign layers) and the subject are not required, as in distribution and
 * OCI 1.1. Children found are touched, so a GC cannot take them between this check
 * and the manifest's commit.
 */
export function missingChildren(ctx: StoreContext, repoId: number | undefined, manifest: Manifest): Descriptor[] {
  const required = requiredChildren(manifest);
  if (!ctx.readOnly) {
    // Touch first, then look (see StoreRepository.exists): no sweep can fall in between.
    ctx.index.immediate(() => {
      const now = ctx.clock();
      for (const child of required) ctx.index.blobs.touch(child.digest, now);
    });
  }
  return notHeld(ctx, repoId, required);
}

/**
 * Refuses a manifest whose children repository `repoId` does not hold, as
 * distribution refuses it with MANIFEST_BLOB_UNKNOWN. Called inside the manifest's
 * commit transaction, so no GC sweep can fall between this check and the commit.
 */
export function requireChildren(ctx: StoreContext, repoId: number | undefined, manifest: Manifest, subject: string): void {
  const missing = notHeld(ctx, repoId, requiredChildren(manifest));
  if (missing.length === 0) return;
  const what = missing.length === 1 ? 'a blob' : `${missing.length} blobs`;
  throw new NotFoundError(`${subject}: the manifest references ${what} not in the store: ${missing.map((d) => d.digest).join(', ')}`, {
    code: ErrorCode.blobUnknown,
    hint: 'store the children before the manifest (rerun the same export or import: it fetches what is missing)',
  });
}
