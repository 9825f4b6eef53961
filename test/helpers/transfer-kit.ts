import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { AvailableRig } from '../rig/context.js';
import { IMAGE_KEYS, type RigImageKey } from '../rig/image-set.js';
import type { Registry } from '../rig/registry.js';
import { RegistryHttp } from '../rig/registry-http.js';
import type { FerryResult } from './ferry-cli.js';

// Shared by the export/import end-to-end suites (test/transfer/): the rig's
// source references, the flags that reach a rig registry, a read-only view of a
// target registry (tags, catalog, manifest digests, blob presence) and the
// assertions every refusal shares (exit code, one error line naming the culprit).

export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export interface WorkDir {
  readonly dir: string;
  path(...parts: string[]): string;
  cleanup(): Promise<void>;
}

export async function workDir(prefix: string): Promise<WorkDir> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, path: (...parts) => join(dir, ...parts), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** `HOST/REPO:TAG` of rig images on the shared source registry (default: the five tagged images). */
export function sourceRefs(rig: AvailableRig, keys: readonly RigImageKey[] = IMAGE_KEYS): string[] {
  return keys.map((k) => `${rig.source.host}/${rig.images.images[k].reference}`);
}

/** --plain-http and --creds for a rig registry. */
export function registryFlags(registry: Pick<Registry, 'scheme' | 'username' | 'password'>): string[] {
  const flags = registry.scheme === 'http' ? ['--plain-http'] : [];
  if (registry.username !== undefined) flags.push('--creds', `${registry.username}:${registry.password ?? ''}`);
  return flags;
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface FetchedManifest {
  readonly digest: string;
  readonly mediaType: string;
  readonly doc: Record<string, unknown>;
}

/** What a registry holds, asked over the distribution API (the rig's plain client, not ferry's). */
export class TargetView {
  readonly http: RegistryHttp;
  constructor(registry: Registry) {
    this.http = new RegistryHttp(registry);
  }

  /** Tags of a repository; [] when the registry does not know it (404). */
  async tags(repository: string): Promise<string[]> {
    const answer = await this.http.send('GET', `/v2/${repository}/tags/list`);
    if (answer.status === 404) return [];
    expect(answer.status, `tags of ${repository}`).toBe(200);
    const doc = JSON.parse(answer.body.toString('utf8')) as { tags?: string[] | null };
    return doc.tags ?? [];
  }

  async catalog(): Promise<string[]> {
    const answer = await this.http.send('GET', '/v2/_catalog');
    expect(answer.status).toBe(200);
    return (JSON.parse(answer.body.toString('utf8')) as { repositories?: string[] }).repositories ?? [];
  }

  /** The manifest at REPO:REF, with the digest of exactly the bytes served; undefined on 404. */
  async manifest(repository: string, reference: string): Promise<FetchedManifest | undefined> {
    const answer = await this.http.send('GET', `/v2/${repository}/manifests/${reference}`, { accept: MANIFEST_ACCEPT });
    if (answer.status === 404) return undefined;
    expect(answer.status, `${repository}:${reference}: ${answer.body.toString('utf8').slice(0, 200)}`).toBe(200);
    const doc = JSON.parse(answer.body.toString('utf8')) as Record<string, unknown>;
    return { digest: `sha256:${sha256Hex(answer.body)}`, mediaType: String(doc.mediaType ?? answer.headers['content-type']), doc };
  }

  async blobStatus(repository: string, digest: string): Promise<number> {
    return (await this.http.send('HEAD', `/v2/${repository}/blobs/${digest}`)).status;
  }

  /** Every tag of every repository named (the ones an import would have written). */
  async allTags(repositories: readonly string[]): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    for (const repo of repositories) {
      const tags = await this.tags(repo);
      if (tags.length > 0) out[repo] = tags;
    }
    for (const repo of await this.catalog()) {
      const tags = await this.tags(repo);
      if (tags.length > 0) out[repo] = tags;
    }
    return out;
  }

  close(): Promise<void> {
    return this.http.close();
  }
}

/** The `ferry: error: …` lines of a run's stderr. */
export function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('ferry: error:') || l.startsWith('ferry: internal error:'));
}

/** The run exited `code` with exactly one error line, and that line names every culprit. */
export function expectRefusal(result: FerryResult, code: number, ...culprits: string[]): string {
  const lines = errorLines(result.stderr);
  expect(result.code, `exit code; stderr:\n${result.stderr}`).toBe(code);
  expect(lines, result.stderr).toHaveLength(1);
  const line = lines[0] ?? '';
  if (process.env.FERRY_SHOW_ERRORS) console.info(`exit ${result.code}: ${line}`);
  for (const c of culprits) expect(line, `the error line names ${c}`).toContain(c);
  return line;
}

/** The run succeeded; on failure the message carries its stderr. */
export function expectOk(result: FerryResult): FerryResult {
  expect(result.code, `exit ${result.code}; stderr:\n${result.stderr}`).toBe(0);
  return result;
}
