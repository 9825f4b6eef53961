import { readFile } from 'node:fs/promises';
import { UsageError } from '../../../core/index.js';
import type { Credentials } from './credentials.js';

// Docker config.json and podman auth.json share one shape:
// { auths: { KEY: { auth: base64(user:pass) | username/password, identitytoken, registrytoken } },
//   credHelpers: { host: name }, credsStore: name }.
// Keys may be a bare host, a URL (`https://index.docker.io/v1/`), or host/path.

export interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
}

export interface AuthFile {
  path: string;
  auths: Record<string, AuthEntry>;
  credHelpers: Record<string, string>;
  credsStore?: string;
}

const MAX_AUTH_FILE = 1024 * 1024;

/** Reads an auth file; a missing default file is undefined, a missing --authfile is an error. */
export async function readAuthFile(path: string, required: boolean): Promise<AuthFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if (!required && (e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UsageError(`cannot read auth file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (text.length > MAX_AUTH_FILE) throw new UsageError(`auth file ${path} is larger than 1 MiB`);
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Never echo the content: it holds secrets.
    throw new UsageError(`auth file ${path} is not valid JSON`);
  }
  const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
  const helpers: Record<string, string> = {};
  for (const [host, name] of Object.entries(obj(doc.credHelpers))) if (typeof name === 'string') helpers[normalizeKey(host)] = name;
  return {
    path,
    auths: obj(doc.auths) as Record<string, AuthEntry>,
    credHelpers: helpers,
    ...(typeof doc.credsStore === 'string' && doc.credsStore ? { credsStore: doc.credsStore } : {}),
  };
}

const HUB_KEYS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'index.docker.io/v1', 'index.docker.io/v1/']);

/** `https://Host:5000/v1/` → `host:5000`; a host/namespace key keeps its path (it is repository-specific). */
export function normalizeKey(key: string): string {
  let k = key.trim().toLowerCase().replace(/^https?:\/\//, '');
  k = k.replace(/\/v[12]\/?$/, '').replace(/\/$/, '');
  return HUB_KEYS.has(k) ? 'docker.io' : k;
}

function decode(entry: AuthEntry): Credentials | undefined {
  if (typeof entry.registrytoken === 'string' && entry.registrytoken) return { registryToken: entry.registrytoken };
  if (typeof entry.identitytoken === 'string' && entry.identitytoken) return { identityToken: entry.identitytoken };
  if (typeof entry.auth === 'string' && entry.auth) {
    const plain = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = plain.indexOf(':');
    if (colon > 0) return { username: plain.slice(0, colon), password: plain.slice(colon + 1) };
  }
  if (typeof entry.username === 'string' && typeof entry.password === 'string' && entry.username) {
    return { username: entry.username, password: entry.password };
  }
  return undefined;
}

/** The entry for a whole registry (host keys only; host/namespace keys are not per-host credentials). */
export function lookupAuthFile(file: AuthFile, registry: string): Credentials | undefined {
  for (const [key, entry] of Object.entries(file.auths)) {
    if (normalizeKey(key) !== registry || typeof entry !== 'object' || entry === null) continue;
    const creds = decode(entry);
    if (creds) return creds;
  }
  return undefined;
}
