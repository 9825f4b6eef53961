import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { planFromCheckout, type CheckoutOptions, type ReleasePlan } from './release-plan.js';
import { writeReleaseTarGz, type WrittenRelease } from './release-tar.js';

// `npm run release`: the self-contained release of the checkout at `root`, for
// the platform this runs on, written to OUTDIR/ferry-<version>-<os>-<arch>.tar.gz.

export interface BuiltRelease extends WrittenRelease {
  path: string;
  plan: ReleasePlan;
}

export async function writePlannedRelease(plan: ReleasePlan, outDir: string): Promise<BuiltRelease> {
  await mkdir(outDir, { recursive: true });
  const path = join(outDir, plan.fileName);
  const written = await writeReleaseTarGz(plan.files, plan.manifest.sourceDateEpoch, path);
  return { ...written, path, plan };
}

export async function buildRelease(root: string, outDir: string, opts: CheckoutOptions = {}): Promise<BuiltRelease> {
  return writePlannedRelease(await planFromCheckout(root, opts), outDir);
}
