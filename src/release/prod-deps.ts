import { readdir, readFile, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { UsageError } from '../core/errors.js';
import { byCodeUnits } from '../core/code-unit-order.js';

// The production dependencies of a source checkout, from package-lock.json
// (every package not marked dev: what `npm ls --omit=dev` lists), and of each
// one only the files it needs at run time. Nothing is resolved or fetched:
// the lockfile names the packages, node_modules holds them, and a package the
// lockfile names that is not installed is an error (unless it is an optional
// one for another platform).

interface LockPackage {
  version?: string;
  license?: string;
  dev?: boolean;
  optional?: boolean;
}

export interface ProdPackage {
  /** `node_modules/yargs`, `node_modules/tar-fs/node_modules/tar-stream`: the path under the checkout, '/'-separated. */
  dir: string;
  name: string;
  version: string;
  license: string;
}

/** Licence texts a package must ship (kept in place in the release, listed in LICENSES/README). */
export const LICENCE_FILE = /^(licen[cs]e|copying|notice)([.-].*)?$/i;

/** Files that are documentation, types, maps, sources or build rules: never needed to run. */
const SKIP_FILE = /(\.d\.[cm]?ts|\.[cm]?ts|\.map|\.md|\.markdown|\.c|\.cc|\.cpp|\.h|\.hpp|\.gyp|\.gypi|\.bare|\.tsbuildinfo)$|^(CMakeLists\.txt|Makefile|\.npmignore|\.eslintrc.*|\.prettierrc.*|\.editorconfig|\.travis\.yml|tsconfig\.json)$/i;
const SKIP_DIR = /^(test|tests|__tests__|\.github)$/;

export async function productionPackages(root: string): Promise<ProdPackage[]> {
  const lock = JSON.parse(await readFile(join(root, 'package-lock.json'), 'utf8')) as { lockfileVersion?: number; packages?: Record<string, LockPackage> };
  if (!lock.packages || (lock.lockfileVersion ?? 0) < 2) throw new UsageError(`${join(root, 'package-lock.json')} is not a lockfile v2/v3 with "packages"`, { hint: 'run npm install with npm 7 or later' });
  const out: ProdPackage[] = [];
  for (const [dir, pkg] of Object.entries(lock.packages)) {
    if (dir === '' || pkg.dev || !dir.startsWith('node_modules/')) continue;
    const installed = await stat(join(root, dir)).catch(() => undefined);
    if (!installed) {
      if (pkg.optional) continue;
      throw new UsageError(`${dir} is in package-lock.json but not installed`, { hint: 'run npm ci' });
    }
    const name = dir.slice(dir.lastIndexOf('node_modules/') + 'node_modules/'.length);
    out.push({ dir, name, version: pkg.version ?? '?', license: pkg.license ?? 'UNKNOWN' });
  }
  return out.sort(byCodeUnits((d) => d.dir));
}

/**
 * The files of one package needed at run time, '/'-separated paths relative to
 * the package: its JavaScript, JSON and licence texts; for a native addon
 * (binding.gyp) only the compiled `build/Release/*.node`, none of its C
 * sources, object files or test extensions. Nested node_modules are packages
 * of their own (the lockfile lists them).
 */
export async function runtimeFiles(packageDir: string): Promise<string[]> {
  const native = await stat(join(packageDir, 'binding.gyp')).then(
    () => true,
    () => false,
  );
  const files: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(join(packageDir, rel), { withFileTypes: true });
    for (const e of entries) {
      const path = rel ? posix.join(rel, e.name) : e.name;
      if (e.isDirectory()) {
        if (e.name === 'node_modules' || SKIP_DIR.test(e.name)) continue;
        if (native && (path === 'src' || path === 'deps' || path === 'build')) continue;
        await walk(path);
      } else if (e.isFile() && (LICENCE_FILE.test(e.name) || !SKIP_FILE.test(e.name))) {
        files.push(path);
      }
    }
  };
  await walk('');
  if (native) {
    const release = join(packageDir, 'build', 'Release');
    const built = (await readdir(release).catch(() => [] as string[])).filter((f) => f.endsWith('.node') && !f.startsWith('test_'));
    if (built.length === 0) throw new UsageError(`${packageDir} has no compiled build/Release/*.node`, { hint: 'run npm ci (or npm rebuild) on this machine first' });
    files.push(...built.map((f) => `build/Release/${f}`));
  }
  return files.sort();
}
