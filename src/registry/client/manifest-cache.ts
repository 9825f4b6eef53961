import type { Digest } from '../../core/index.js';

// Manifests this client pushed or fetched recently, so tagging right after a
// push needs no GET (a tag is a PUT of the same bytes under another name).
// Bounded by entries and bytes; manifests are small, but an import may push thousands.

const MAX_ENTRIES = 256;
const MAX_BYTES = 32 * 1024 * 1024;

export interface CachedManifest {
  mediaType: string;
  bytes: Uint8Array;
}

export class ManifestCache {
  private readonly entries = new Map<string, CachedManifest>();
  private bytes = 0;

  private key(repository: string, digest: Digest): string {
    return `${repository}@${digest}`;
  }

  get(repository: string, digest: Digest): CachedManifest | undefined {
    const key = this.key(repository, digest);
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  put(repository: string, digest: Digest, value: CachedManifest): void {
    const key = this.key(repository, digest);
    const old = this.entries.get(key);
    if (old) {
      this.bytes -= old.bytes.byteLength;
      this.entries.delete(key);
    }
    this.entries.set(key, value);
    this.bytes += value.bytes.byteLength;
    for (const [k, v] of this.entries) {
      if (this.entries.size <= MAX_ENTRIES && this.bytes <= MAX_BYTES) break;
      this.entries.delete(k);
      this.bytes -= v.bytes.byteLength;
    }
  }
}
