import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import { UsageError } from '../core/errors.js';
import { writePlannedRelease } from './build-release.js';
import { MANIFEST_PATH, parseManifest, SUMS_PATH } from './release-manifest.js';
import { planFromCheckout, withManifest, type PlannedFile, type ReleasePlan } from './release-plan.js';
import { releaseTarSha256, tap } from './release-tar.js';

// The release of the ferry that is running, for `ferry export --with-ferry`
// without a file: from a source checkout it is built (into release/, where
// `npm run release` puts it, and reused from there while it is still this
// ferry); an unpacked release packs itself again — byte for byte the file it
// came from, since releases are reproducible — after every file was checked
// against its RELEASE.json. A file found beside the install is used only when
// its tar is exactly the one this ferry would make.

/** The directory this ferry runs from: a checkout (package-lock.json) or an unpacked release (RELEASE.json). */
export function installRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

const exists = (p: string) => stat(p).then(() => true, () => false);

/** The plan of an unpacked release: its own files, as its RELEASE.json lists them (each re-hashed as it is packed). */
export async function planFromInstall(root: string): Promise<ReleasePlan> {
  const manifestBytes = await readFile(join(root, MANIFEST_PATH));
  const manifest = parseManifest(manifestBytes);
  const files: PlannedFile[] = manifest.files.map((f) => ({
    path: f.path,
    mode: f.mode === '0755' ? 0o755 : 0o644,
    from: join(root, ...f.path.split('/')),
    size: f.size,
    sha256: f.sha256,
    ...(f.requires ? { requires: f.requires } : {}),
  }));
  const plan = withManifest({ ...manifest, files: [] }, files);
  const sums = plan.files.find((f) => f.path === SUMS_PATH)?.from as Buffer;
  if (!(await readFile(join(root, SUMS_PATH))).equals(sums)) throw new UsageError(`${join(root, SUMS_PATH)} does not match ${MANIFEST_PATH}: this install was changed`, { hint: 'unpack the release again' });
  return plan;
}

async function gunzippedSha256(path: string): Promise<string | undefined> {
  const hash = createHash('sha256');
  return pipeline(createReadStream(path), createGunzip(), tap((c) => hash.update(c)), async (source: AsyncIterable<Buffer>) => {
    for await (const _ of source) {
      // hashed in passing
    }
  }).then(
    () => hash.digest('hex'),
    () => undefined,
  );
}

/**
 * The path of this ferry's release file. `scratch` receives it when it must be
 * made and the install has no release/ directory of its own (an unpacked release).
 */
export async function runningRelease(scratch: string, root = installRoot()): Promise<string> {
  const unpacked = await exists(join(root, MANIFEST_PATH));
  if (!unpacked && !(await exists(join(root, 'package-lock.json')))) {
    throw new UsageError(`cannot make a release of the ferry installed at ${root} (neither a checkout nor an unpacked release)`, { hint: 'give the release file: --with-ferry ferry-<version>-<os>-<arch>.tar.gz' });
  }
  const plan = unpacked ? await planFromInstall(root) : await planFromCheckout(root);
  const beside = unpacked ? [join(root, '..', plan.fileName), join(scratch, plan.fileName)] : [join(root, 'release', plan.fileName)];
  const candidates = [];
  for (const c of beside) if (await exists(c)) candidates.push(c);
  if (candidates.length > 0) {
    const want = await releaseTarSha256(plan.files, plan.manifest.sourceDateEpoch);
    for (const c of candidates) if ((await gunzippedSha256(c)) === want) return c;
  }
  return (await writePlannedRelease(plan, unpacked ? scratch : join(root, 'release'))).path;
}
