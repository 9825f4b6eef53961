import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { AuthError, UsageError } from '../../../core/index.js';
import { normalizeKey } from './auth-file.js';
import { serverUrlFor } from './credentials.js';
import { helperProgram, runHelper } from './credential-helper.js';

// `ferry login` / `ferry logout`: the same `auths` entry docker and podman write
// (auths[host].auth = base64(user:pass)), or the credential helper's `store` /
// `erase` when the file names one for the host (credHelpers) or for all
// (credsStore). Every other key of the file is kept as it was; the file is
// replaced atomically, mode 0600. Hosts are compared lowercased.

export interface LoginFileOptions {
  /** Normalised host[:port] (lowercase; docker.io for Docker Hub). */
  readonly registry: string;
  /** `--authfile FILE`. */
  readonly authfile?: string;
  readonly env: Record<string, string | undefined>;
  readonly homeDir?: string;
}

export interface LoginWritten {
  /** The auth file read (and written unless only a credHelpers helper was used). */
  readonly path: string;
  /** The helper that holds the secret, when one does. */
  readonly helper?: string;
  /** Entries for the same host under another spelling (capitals, a URL) that were replaced. */
  readonly replaced: readonly string[];
}

const MAX_AUTH_FILE = 1024 * 1024;

/** Where a login is written: --authfile, else $REGISTRY_AUTH_FILE, else Docker's config.json. */
export function loginFilePath(opts: Pick<LoginFileOptions, 'authfile' | 'env' | 'homeDir'>): string {
  if (opts.authfile) return opts.authfile;
  if (opts.env.REGISTRY_AUTH_FILE) return opts.env.REGISTRY_AUTH_FILE;
  return join(opts.env.DOCKER_CONFIG ?? join(opts.homeDir ?? homedir(), '.docker'), 'config.json');
}

type Doc = Record<string, unknown> & { auths?: Record<string, unknown>; credHelpers?: Record<string, unknown>; credsStore?: unknown };

async function readDoc(path: string): Promise<Doc> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new UsageError(`cannot read auth file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (text.length > MAX_AUTH_FILE) throw new UsageError(`auth file ${path} is larger than 1 MiB`);
  if (text.trim() === '') return {};
  try {
    const doc: unknown = JSON.parse(text);
    if (typeof doc === 'object' && doc !== null && !Array.isArray(doc)) return doc as Doc;
  } catch {
    // Never echo the content: it holds secrets.
  }
  throw new UsageError(`auth file ${path} is not a JSON object`, { hint: 'fix or move the file; ferry will not overwrite what it cannot read' });
}

async function writeDoc(path: string, doc: Doc): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.ferry-${process.pid}.tmp`;
  const file = await open(temp, 'w', 0o600);
  try {
    await file.writeFile(`${JSON.stringify(doc, null, '\t')}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await rename(temp, path);
  } catch (e) {
    await rm(temp, { force: true });
    throw new UsageError(`cannot write auth file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** The helper the file names for this host: credHelpers[host], else credsStore. */
function helperFor(doc: Doc, registry: string): { name: string; perHost: boolean } | undefined {
  for (const [key, name] of Object.entries(record(doc.credHelpers))) {
    if (normalizeKey(key) === registry && typeof name === 'string' && name) return { name, perHost: true };
  }
  return typeof doc.credsStore === 'string' && doc.credsStore ? { name: doc.credsStore, perHost: false } : undefined;
}

/** Removes every `auths` key that names `registry` (any spelling); returns the keys removed. */
function dropEntries(auths: Record<string, unknown>, registry: string): string[] {
  const keys = Object.keys(auths).filter((k) => normalizeKey(k) === registry);
  for (const k of keys) delete auths[k];
  return keys;
}

async function helper(name: string, verb: 'store' | 'erase', input: string, env: Record<string, string | undefined>): Promise<void> {
  const program = helperProgram(name);
  let result: { code: number; stdout: string };
  try {
    result = await runHelper(program, verb, input, env);
  } catch (e) {
    throw new AuthError(`credential helper ${program} could not be run: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, {
      hint: `install ${program} or remove it from credHelpers/credsStore in the auth file`,
    });
  }
  if (result.code !== 0 && !(verb === 'erase' && /not found/i.test(result.stdout))) {
    throw new AuthError(`credential helper ${program} failed to ${verb} the credentials (exit ${result.code})`, { hint: `run '${program} ${verb}' by hand to see why` });
  }
}

/** Stores user and password for `registry` where docker, podman, skopeo and ferry look for them. */
export async function saveLogin(opts: LoginFileOptions, creds: { username: string; password: string }): Promise<LoginWritten> {
  const path = loginFilePath(opts);
  const doc = await readDoc(path);
  const auths = record(doc.auths);
  const key = serverUrlFor(opts.registry);
  const replaced = dropEntries(auths, opts.registry).filter((k) => k !== key);
  const via = helperFor(doc, opts.registry);
  if (via) {
    await helper(via.name, 'store', JSON.stringify({ ServerURL: key, Username: creds.username, Secret: creds.password }), opts.env);
    // docker marks a credsStore login with an empty entry; a per-host helper needs none.
    if (!via.perHost) auths[key] = {};
  } else {
    auths[key] = { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') };
  }
  doc.auths = auths;
  await writeDoc(path, doc);
  return via ? { path, helper: via.name, replaced } : { path, replaced };
}

/** Forgets `registry`: its auths entries and, through the helper, its secret. False when nothing was stored. */
export async function removeLogin(opts: LoginFileOptions): Promise<{ path: string; removed: boolean; helper?: string }> {
  const path = loginFilePath(opts);
  const doc = await readDoc(path);
  const auths = record(doc.auths);
  const dropped = dropEntries(auths, opts.registry);
  const via = helperFor(doc, opts.registry);
  if (via) await helper(via.name, 'erase', serverUrlFor(opts.registry), opts.env);
  if (dropped.length > 0) {
    doc.auths = auths;
    await writeDoc(path, doc);
  }
  return via ? { path, removed: dropped.length > 0 || via.perHost, helper: via.name } : { path, removed: dropped.length > 0 };
}
