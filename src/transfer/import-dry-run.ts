import type { Bundle, BundleInput } from '../bundle/index.js';
import { formatReference } from '../core/reference.js';
import type { ImportPlan, PlannedImage } from './import-plan.js';
import { localizeForeignLayers } from './localize-foreign-layers.js';
import { evidenceByPass, evidenceByRange } from './trust-import.js';

// `import --dry-run` shows what will land (issue 13.13): localizing foreign layers
// rewrites every manifest above them, so the digest the import tags is not the
// bundle's. The dry run reads those manifests (by range from a single file, else
// one pass) and localizes them in memory, exactly as the import does; nothing is pushed.

export interface DryRunImage {
  source: string;
  target: string;
  digest: string;
  /** The bundle's digest, when localizing changed it. */
  sourceDigest?: string;
  tags: string[];
}

function hasForeignLayers(bundle: Bundle, image: PlannedImage): boolean {
  return bundle.db.blobsOf(image.root.digest).some((b) => b.descriptor.urls !== undefined && b.descriptor.urls.length > 0);
}

async function onePass(open: () => Promise<Bundle>, needed: ReadonlySet<string>): Promise<Map<string, Buffer>> {
  const fresh = await open();
  try {
    return await evidenceByPass(fresh, needed);
  } finally {
    await fresh.close();
  }
}

export async function dryRunImages(
  input: BundleInput,
  bundle: Bundle,
  plan: ImportPlan,
  localize: boolean,
  /** A fresh open of the bundle, for one pass over a volume set or a stream (the import's own bundle may be read already). */
  open: () => Promise<Bundle>,
): Promise<{ images: DryRunImage[]; foreignLayerMapping: Array<{ from: string; to: string }> }> {
  const asIs = (i: PlannedImage): DryRunImage => ({ source: i.source, target: formatReference(i.target), digest: i.root.digest, tags: i.tags });
  const foreign = localize ? plan.images.filter((i) => hasForeignLayers(bundle, i)) : [];
  if (foreign.length === 0) return { images: plan.images.map(asIs), foreignLayerMapping: [] };
  // Only the manifests above foreign layers are read: the root and the manifests under it.
  const needed = new Set(foreign.flatMap((i) => bundle.db.blobsOf(i.root.digest).filter((b) => b.kind === 'manifest' && b.included).map((b) => b.descriptor.digest)));
  // A stream cannot be opened again: its own pass (not started: a dry run reads no blob before this).
  const manifests = (await evidenceByRange(bundle, needed)) ?? (typeof input === 'string' ? await onePass(open, needed) : await evidenceByPass(bundle, needed));
  const foreignLayerMapping: Array<{ from: string; to: string }> = [];
  const images = plan.images.map((image) => {
    if (!foreign.includes(image)) return asIs(image);
    const localized = localizeForeignLayers(image.root, (d) => manifests.get(d));
    foreignLayerMapping.push(...localized.mapping);
    const out = asIs(image);
    if (localized.root.digest === image.root.digest) return out;
    return { ...out, digest: localized.root.digest, sourceDigest: image.root.digest };
  });
  return { images, foreignLayerMapping };
}
