import { IntegrityError } from '../core/errors.js';
import { formatPlatform } from '../core/platform.js';
import type { BundleImageSummary, ImageTotals } from './format.js';
import { imageTotalsOf, type ManifestDb } from './manifest-db.js';

// Each image's platforms and totals, by name. The writer sums them once into
// bundle.json (signed with it), so inspect walks nothing; index.db's edges say
// the same thing a second way, so verify walks them once and refuses a
// bundle.json that disagrees: two copies of one fact never show two answers.

export type ImageSummaries = Map<string, { platforms: string[]; totals: ImageTotals }>;

/** As bundle.json carries them; undefined when an image has no totals (a bundle written before them). */
export function storedSummaries(images: readonly BundleImageSummary[]): ImageSummaries | undefined {
  const out: ImageSummaries = new Map();
  for (const { name, platforms, totals } of images) {
    if (!totals) return undefined;
    out.set(name, { platforms, totals });
  }
  return out;
}

/** By walking index.db's edges from every root: a fixed number of queries whatever the image count (per-image queries made inspect O(N²)). */
export function walkedSummaries(db: ManifestDb): ImageSummaries {
  const byRoot = db.rootSummaries();
  const out: ImageSummaries = new Map();
  for (const { name, digest } of db.images()) {
    const s = byRoot.get(digest);
    out.set(name, { platforms: (s?.platforms ?? []).map(formatPlatform), totals: imageTotalsOf(s) });
  }
  return out;
}

/** Refuses, naming the image, a bundle.json whose totals or platforms are not what index.db's graph gives. */
export function checkStoredSummaries(images: readonly BundleImageSummary[], db: ManifestDb): void {
  if (!images.some((i) => i.totals)) return;
  const walked = walkedSummaries(db);
  images.forEach(({ name, platforms, totals }, i) => {
    const graph = walked.get(name);
    const where = `bundle.json: images[${i}] (${name})`;
    const told = totals ? `${shown(totals)}, platforms [${platforms.join(', ')}]` : 'no totals';
    const found = graph ? `${shown(graph.totals)}, platforms [${graph.platforms.join(', ')}]` : 'no such image';
    if (told !== found) throw new IntegrityError(`${where} says ${told}; index.db's graph gives ${found}`, { subject: 'bundle.json', expected: found, actual: told });
  });
}

function shown(t: ImageTotals): string {
  return `${t.blobs} blobs, ${t.bytes} bytes (${t.assumedBytes} assumed)`;
}
