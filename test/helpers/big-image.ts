import { randomBytes } from 'node:crypto';
import { MediaType } from '../../src/core/media-types.js';
import type { Registry } from '../rig/registry.js';
import { RegistryHttp } from '../rig/registry-http.js';
import { sha256Hex } from './transfer-kit.js';

// An OCI image with a few large random layers, pushed into a registry a suite
// started itself (never the shared source): big enough that a kill -9 lands in
// the middle of an import, and incompressible so sizes mean what they say.
// Layers are opaque to ferry, so random bytes stand in for tar+gzip content.

export interface BigImage {
  readonly repository: string;
  readonly tag: string;
  readonly digest: string;
  readonly config: { readonly digest: string; readonly size: number };
  readonly layers: ReadonlyArray<{ readonly digest: string; readonly size: number }>;
}

export async function pushBigImage(registry: Registry, repository: string, tag: string, layerSizes: readonly number[]): Promise<BigImage> {
  const http = new RegistryHttp(registry);
  try {
    const layers = [];
    for (const size of layerSizes) {
      const bytes = randomBytes(size);
      const digest = `sha256:${sha256Hex(bytes)}`;
      await http.pushBlob(repository, digest, bytes);
      layers.push({ mediaType: MediaType.ociLayer, digest, size });
    }
    const configBytes = Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Cmd: ['/big'] },
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      }),
    );
    const config = { mediaType: MediaType.ociConfig, digest: `sha256:${sha256Hex(configBytes)}`, size: configBytes.length };
    await http.pushBlob(repository, config.digest, configBytes);
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers }));
    await http.pushManifest(repository, tag, MediaType.ociManifest, manifest);
    return {
      repository,
      tag,
      digest: `sha256:${sha256Hex(manifest)}`,
      config: { digest: config.digest, size: config.size },
      layers: layers.map((l) => ({ digest: l.digest, size: l.size })),
    };
  } finally {
    await http.close();
  }
}
