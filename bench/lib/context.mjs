// What every measure shares: the arguments, the cached image set, one source
// docker-registry serving it for the whole bench, a work directory, and the
// artefacts one measure leaves for the next (a bundle, a warm store, skopeo
// dirs). A measure run on its own makes the artefacts it needs, untimed.
import { existsSync } from 'node:fs';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureImageSet } from './seed.mjs';
import { startRegistry } from './registry.mjs';
import { runTimed } from './run-timed.mjs';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
// FERRY_BIN: another build's bin/ferry.cjs (or bin/ferry.js), for paired old/new runs.
const FERRY = process.env.FERRY_BIN ?? join(REPO_ROOT, 'bin', 'ferry.cjs');

export function parseArgs(argv) {
  const args = { runs: 3, quick: false, only: undefined, profile: false, concurrency: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') args.quick = true;
    else if (a === '--runs') args.runs = Number(argv[++i]);
    else if (a.startsWith('--runs=')) args.runs = Number(a.slice(7));
    else if (a === '--only') args.only = argv[++i].split(',');
    else if (a.startsWith('--only=')) args.only = a.slice(7).split(',');
    else if (a === '--concurrency') args.concurrency = Number(argv[++i]);
    else if (a === '--profile') args.profile = true;
    else if (a === '--help' || a === '-h') args.help = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(args.runs) || args.runs < 1) throw new Error('--runs wants a positive integer');
  return args;
}

export function log(message) {
  process.stderr.write(`${message}\n`);
}

/**
 * A ferry run without --store (import records its receipts there) uses $XDG_DATA_HOME/ferry: point it
 * under the bench's work directory, so a bench never reads or grows the user's ~/.local/share/ferry
 * and every run starts from the same (empty) default store.
 */
export function isolateDefaultStore(work) {
  process.env.XDG_DATA_HOME = join(work, 'data-home');
  delete process.env.FERRY_STORE;
}

export async function createContext(args) {
  const root = join(REPO_ROOT, '.bench');
  const mode = args.quick ? 'quick' : 'full';
  const set = await ensureImageSet(root, mode, log);
  const work = join(root, 'work');
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  isolateDefaultStore(work);
  const source = await startRegistry({ storageDir: set.storageDir, workDir: work });
  const ctx = {
    args,
    mode,
    runs: args.runs,
    set,
    source,
    work,
    artefacts: {},
    rows: [],
    notes: [],
    refs: set.images.map((i) => `${source.host}/${i.ref}`),
    async close() {
      await source.stop();
      await rm(work, { recursive: true, force: true });
    },
  };
  return ctx;
}

let counter = 0;
/** A fresh, not yet existing path under the work directory. */
export function workPath(ctx, name) {
  counter += 1;
  return join(ctx.work, `${String(counter).padStart(3, '0')}-${name}`);
}

/**
 * `-f SPEC` naming `refs`: export takes its image list from a spec file (the
 * bundles/*.yaml form), defaults as on the command line (every platform, referrers on).
 */
export async function imageSpec(ctx, refs) {
  const path = workPath(ctx, 'images.yaml');
  // JSON is YAML.
  await writeFile(path, JSON.stringify({ apiVersion: 'ferry/v1', kind: 'Bundle', metadata: { name: 'bench' }, images: refs.map((ref) => ({ ref })) }));
  return ['-f', path];
}

/** `node bin/ferry.cjs ARGS`, timed; with --profile a .cpuprofile lands in .bench/profiles/. */
export function ferry(ctx, args, options = {}) {
  const node = ctx.args.profile ? ['--cpu-prof', '--cpu-prof-dir', join(REPO_ROOT, '.bench', 'profiles')] : [];
  const extra = ctx.args.concurrency ? ['--concurrency', String(ctx.args.concurrency)] : [];
  const withConcurrency = ['export', 'import'].includes(args[0]) ? [...args, ...extra] : args;
  // A bare `ferry --version` as users and scripts type it: with --no-progress after it, it is not the
  // bare form bin/ferry.cjs answers before loading the CLI.
  const progress = args.length === 1 && args[0] === '--version' ? [] : ['--no-progress'];
  return runTimed(process.execPath, [...node, FERRY, ...withConcurrency, ...progress], options);
}

export function skopeo(args) {
  return runTimed('skopeo', args);
}

export async function sizeOf(path) {
  return (await stat(path)).size;
}

/** A bundle of the export list, written by a fresh ferry export (reused if an earlier measure made one). */
export async function ensureBundle(ctx) {
  if (ctx.artefacts.bundle && existsSync(ctx.artefacts.bundle)) return ctx.artefacts;
  const store = workPath(ctx, 'store');
  const bundle = workPath(ctx, 'bundle.tar');
  log('  (preparing a bundle with ferry export, untimed)');
  await ferry(ctx, ['export', ...(await imageSpec(ctx, ctx.refs)), '-o', bundle, '--plain-http', '--store', store]);
  Object.assign(ctx.artefacts, { bundle, store });
  return ctx.artefacts;
}

/** skopeo dir: copies of every exported image (what skopeo's import reads). */
export async function ensureSkopeoDirs(ctx) {
  if (ctx.artefacts.skopeoDirs) return ctx.artefacts.skopeoDirs;
  log('  (preparing skopeo dir: copies, untimed)');
  const base = workPath(ctx, 'skopeo');
  await mkdir(base, { recursive: true });
  const dirs = [];
  for (const [i, ref] of ctx.refs.entries()) {
    const dir = join(base, String(i));
    await skopeo(['copy', '--all', '--preserve-digests', '--src-tls-verify=false', `docker://${ref}`, `dir:${dir}`]);
    dirs.push({ ref, dir });
  }
  ctx.artefacts.skopeoDirs = dirs;
  return dirs;
}

/** The image path of a source reference (host stripped): `bench/node:20`. */
export function pathOf(ref) {
  return ref.slice(ref.indexOf('/') + 1);
}
