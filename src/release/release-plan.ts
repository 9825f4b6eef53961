import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import pLimit from 'p-limit';
import { digestHex, digestOf } from '../core/digest.js';
import { digestFile } from '../core/hashing.js';
import { UsageError } from '../core/errors.js';
import { releaseFileName } from '../bundle/index.js';
import { elfVersionNeeds, raiseFloor } from './elf-requires.js';
import { launchers } from './launcher.js';
import { findNodeLicence, nodePathInRelease } from './node-runtime.js';
import { LICENCE_FILE, productionPackages, runtimeFiles, type ProdPackage } from './prod-deps.js';
import { formatReleaseSums, MANIFEST_PATH, RELEASE_FORMAT, serializeManifest, SUMS_PATH, type ReleaseFileRecord, type ReleaseManifest } from './release-manifest.js';
import { byCodeUnits } from '../core/code-unit-order.js';

// What goes into a release, from a source checkout: dist/ (JavaScript only),
// package.json, bin/ferry.cjs and bin/code-cache.cjs, the production dependencies' runtime files, the
// node binary running this build, the licences, the launcher — each file
// hashed here, and hashed again when the tar is written (release-tar.ts), so a
// file that changes mid-build fails the build instead of shipping unlisted.

/** One file of the release: its path below `ferry/`, mode, bytes (a file to read, or generated), and what they hash to. */
export interface PlannedFile {
  path: string;
  mode: 0o755 | 0o644;
  from: string | Buffer;
  size: number;
  sha256: string;
  requires?: Record<string, string>;
}

export interface ReleasePlan {
  fileName: string;
  manifest: ReleaseManifest;
  /** Every file, RELEASE.json and SHA256SUMS included. */
  files: PlannedFile[];
}

export interface CheckoutOptions {
  /** The node binary to carry (default: the one running). */
  execPath?: string;
  platform?: NodeJS.Platform;
  arch?: string;
  nodeVersion?: string;
  /** Node's LICENSE, when it is not where Node's archives or packages put it. */
  nodeLicence?: string;
  env?: NodeJS.ProcessEnv;
}

const run = promisify(execFile);

async function git(root: string, args: string[]): Promise<string | undefined> {
  return run('git', args, { cwd: root }).then(
    (r) => r.stdout.trim(),
    () => undefined,
  );
}

/** SOURCE_DATE_EPOCH, else the commit time of HEAD: two builds of one commit get the same mtimes. */
export async function sourceDateEpoch(root: string, env: NodeJS.ProcessEnv): Promise<number> {
  const given = env.SOURCE_DATE_EPOCH;
  if (given !== undefined && given !== '') {
    if (!/^\d{1,10}$/.test(given) || Number(given) >= 2 ** 31) throw new UsageError(`SOURCE_DATE_EPOCH '${given.slice(0, 40)}' is not a number of seconds before 2038`);
    return Number(given);
  }
  const committed = await git(root, ['log', '-1', '--format=%ct']);
  if (!committed || !/^\d+$/.test(committed)) throw new UsageError(`${root} is not a git checkout, so the release has no fixed time`, { hint: 'set SOURCE_DATE_EPOCH (seconds since 1970)' });
  return Number(committed);
}

async function commitOf(root: string): Promise<string | null> {
  const head = await git(root, ['rev-parse', 'HEAD']);
  if (!head) return null;
  const changes = await git(root, ['status', '--porcelain', '--untracked-files=no']);
  return changes ? `${head}-dirty` : head;
}

async function walk(dir: string, rel = ''): Promise<string[]> {
  const entries = await readdir(join(dir, rel), { withFileTypes: true });
  const out: string[] = [];
  for (const e of entries) {
    const path = rel ? posix.join(rel, e.name) : e.name;
    if (e.isDirectory()) out.push(...(await walk(dir, path)));
    else if (e.isFile()) out.push(path);
  }
  return out;
}

async function planned(path: string, mode: PlannedFile['mode'], from: string | Buffer): Promise<PlannedFile> {
  const { digest, size } = Buffer.isBuffer(from) ? { digest: digestOf(from), size: from.length } : await digestFile(from);
  const file: PlannedFile = { path, mode, from, size, sha256: digestHex(digest) };
  if (!Buffer.isBuffer(from) && (path.endsWith('.node') || mode === 0o755)) {
    const needs = await elfVersionNeeds(from);
    if (needs) file.requires = raiseFloor({}, needs);
  }
  return file;
}

function licenceListing(nodeVersion: string, ferry: { version: string; license?: string }, packages: ReadonlyArray<ProdPackage & { licences: string[] }>): Buffer {
  const lines = [
    'The licences of what this release carries.',
    '',
    `Node.js ${nodeVersion}: LICENSES/node.txt (it includes the licences of the libraries Node.js is built with)`,
    `ferry ${ferry.version}: ${ferry.license ?? 'see package.json'}`,
    '',
    'Packages under node_modules/ (name, version, licence: its licence texts):',
    ...packages.map((p) => `${p.name} ${p.version} ${p.license}: ${p.licences.map((l) => `${p.dir}/${l}`).join(', ')}`),
    '',
  ];
  return Buffer.from(lines.join('\n'));
}

/** The release of the checkout at `root`, for the platform this runs on (or the one given). */
export async function planFromCheckout(root: string, opts: CheckoutOptions = {}): Promise<ReleasePlan> {
  const platform = opts.platform ?? process.platform;
  const arch = opts.arch ?? process.arch;
  const execPath = opts.execPath ?? process.execPath;
  const nodeVersion = opts.nodeVersion ?? process.version;
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string; license?: string };
  // Not the CLI bundle's V8 code cache (bin/code-cache.cjs): its bytes differ from build to build (V8's random
  // hash seed), and a release is the same bytes for the same commit. The release compiles its chunks.
  const dist = (await walk(join(root, 'dist')).catch(() => [] as string[])).filter((f) => !/\.(d\.ts|map)$/.test(f) && !f.startsWith('cli-bundle/code-cache/'));
  if (!dist.includes('cli/main.js')) throw new UsageError(`${join(root, 'dist')} holds no build`, { hint: 'run npm run build first (npm run release does)' });

  const files: Array<Promise<PlannedFile>> = [];
  const limit = pLimit(8);
  const add = (path: string, mode: PlannedFile['mode'], from: string | Buffer) => files.push(limit(() => planned(path, mode, from)));
  add('package.json', 0o644, join(root, 'package.json'));
  add('bin/ferry.cjs', 0o644, join(root, 'bin', 'ferry.cjs'));
  add('bin/code-cache.cjs', 0o644, join(root, 'bin', 'code-cache.cjs'));
  for (const f of dist) add(`dist/${f}`, 0o644, join(root, 'dist', ...f.split('/')));
  const packages = [];
  for (const p of await productionPackages(root)) {
    const runtime = await runtimeFiles(join(root, ...p.dir.split('/')));
    const licences = runtime.filter((f) => !f.includes('/') && LICENCE_FILE.test(f));
    if (licences.length === 0) throw new UsageError(`${p.dir} ships no licence text (LICENSE, LICENCE, COPYING or NOTICE)`, { hint: 'a release must carry every licence: add it or drop the package' });
    packages.push({ ...p, licences });
    for (const f of runtime) add(`${p.dir}/${f}`, 0o644, join(root, ...p.dir.split('/'), ...f.split('/')));
  }
  add(nodePathInRelease(platform), 0o755, execPath);
  add('LICENSES/node.txt', 0o644, await findNodeLicence(execPath, platform, opts.nodeLicence));
  add('LICENSES/README', 0o644, licenceListing(nodeVersion, pkg, packages));
  for (const l of launchers(platform)) add(l.path, 0o755, l.bytes);

  const manifest: ReleaseManifest = {
    format: RELEASE_FORMAT,
    name: 'ferry',
    version: pkg.version,
    os: platform,
    arch,
    node: nodeVersion,
    commit: await commitOf(root),
    sourceDateEpoch: await sourceDateEpoch(root, opts.env ?? process.env),
    requires: {},
    files: [],
  };
  return withManifest(manifest, await Promise.all(files));
}

/** RELEASE.json and SHA256SUMS over `files`, added to them; every path checked to fit a tar header. */
export function withManifest(base: ReleaseManifest, files: PlannedFile[]): ReleasePlan {
  const sorted = [...files].sort(byCodeUnits((f) => f.path));
  for (const f of sorted) if (`ferry/${f.path}`.length > 100 || !/^[\x21-\x7e]+$/.test(f.path)) throw new UsageError(`release path ferry/${f.path} is too long or not plain ASCII for a tar header`);
  const records: ReleaseFileRecord[] = sorted.map((f) => ({
    path: f.path,
    mode: f.mode === 0o755 ? '0755' : '0644',
    size: f.size,
    sha256: f.sha256,
    ...(f.requires ? { requires: f.requires } : {}),
  }));
  const requires = records.reduce((floor, r) => raiseFloor(floor, Object.entries(r.requires ?? {}).map(([k, v]) => `${k}_${v}`)), {} as Record<string, string>);
  const manifest: ReleaseManifest = { ...base, requires: Object.fromEntries(Object.entries(requires).sort()), files: records };
  const manifestBytes = serializeManifest(manifest);
  const hex = (b: Buffer) => digestHex(digestOf(b));
  const manifestFile: PlannedFile = { path: MANIFEST_PATH, mode: 0o644, from: manifestBytes, size: manifestBytes.length, sha256: hex(manifestBytes) };
  const sums = formatReleaseSums([...records, manifestFile]);
  const sumsFile: PlannedFile = { path: SUMS_PATH, mode: 0o644, from: sums, size: sums.length, sha256: hex(sums) };
  return {
    fileName: releaseFileName({ version: manifest.version, os: manifest.os, arch: manifest.arch }),
    manifest,
    files: [...sorted, manifestFile, sumsFile],
  };
}
