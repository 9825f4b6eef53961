import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { RegistryHttp } from '../rig/registry-http.js';
import { sha256Hex } from '../helpers/transfer-kit.js';

// Shared by the housekeeping suites (ls, rm, prune, login, speed): small images
// pushed over the rig's plain HTTP client, the manifests a docker-registry holds
// per repository read from its storage directory (the truth prune is judged by),
// and the requests a --trace file recorded.

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

export interface TinyImage {
  readonly digest: string;
  readonly bytes: Buffer;
}

/** A one-layer OCI image unique to `seed`, pushed by digest into `repository` (blobs first). */
export async function pushTiny(http: RegistryHttp, repository: string, seed: string, tags: readonly string[] = []): Promise<TinyImage> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, seed }));
  const layer = Buffer.from(`layer of ${seed}`);
  await http.pushBlob(repository, `sha256:${sha256Hex(config)}`, config);
  await http.pushBlob(repository, `sha256:${sha256Hex(layer)}`, layer);
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha256Hex(config)}`, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${sha256Hex(layer)}`, size: layer.length }],
    }),
  );
  const digest = `sha256:${sha256Hex(bytes)}`;
  await http.pushManifest(repository, digest, OCI_MANIFEST, bytes);
  for (const tag of tags) await http.pushManifest(repository, tag, OCI_MANIFEST, bytes);
  return { digest, bytes };
}

/** Runs `f` over `items`, `width` at a time. */
export async function inBatches<T>(items: readonly T[], width: number, f: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(f));
}

/**
 * The manifests a docker-registry holds in `repository`, from its storage:
 * `_manifests/revisions/sha256/<hex>/link` (a deleted manifest loses its link).
 */
export async function revisions(storageDir: string, repository: string): Promise<string[]> {
  const dir = join(storageDir, 'docker/registry/v2/repositories', repository, '_manifests/revisions/sha256');
  const names = await readdir(dir).catch(() => [] as string[]);
  const held = await Promise.all(names.map(async (hex) => ((await stat(join(dir, hex, 'link')).catch(() => undefined)) ? `sha256:${hex}` : undefined)));
  return held.filter((d): d is string => d !== undefined).sort();
}

/** The path of a blob's bytes in a docker-registry's storage (to break a manifest on purpose). */
export function blobDataPath(storageDir: string, digest: string): string {
  const hex = digest.replace(/^sha256:/, '');
  return join(storageDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
}

/** The URLs of the requests a --trace file recorded. */
export async function tracedUrls(traceFile: string): Promise<string[]> {
  const text = await readFile(traceFile, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => String((JSON.parse(l) as { url?: unknown }).url ?? ''));
}
