import type { Digest } from '../../src/core/digest.js';
import { digestOf } from '../../src/core/digest.js';
import { isIndex, isImageManifest } from '../../src/core/media-types.js';

// The rig's content-addressed blob set: everything the test images are made of,
// in memory (a few hundred KiB), plus the graph walk that lists an image's nodes.

export interface RigPlatform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
  readonly 'os.version'?: string;
}

export interface RigDescriptor {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  readonly urls?: string[];
  readonly platform?: RigPlatform;
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

export type DescriptorExtras = Omit<RigDescriptor, 'mediaType' | 'digest' | 'size'>;

export class BlobSet {
  readonly bytes = new Map<Digest, Buffer>();

  add(mediaType: string, bytes: Uint8Array, extras: DescriptorExtras = {}): RigDescriptor {
    const digest = digestOf(bytes);
    this.bytes.set(digest, Buffer.from(bytes));
    return { mediaType, digest, size: bytes.length, ...extras };
  }

  /** Manifests and configs: compact JSON, so the digest is that of exactly these bytes. */
  addJson(mediaType: string, value: unknown, extras: DescriptorExtras = {}): RigDescriptor {
    return this.add(mediaType, Buffer.from(JSON.stringify(value)), extras);
  }

  get(digest: Digest): Buffer {
    const found = this.bytes.get(digest);
    if (!found) throw new Error(`rig blob set has no ${digest}`);
    return found;
  }

  json(digest: Digest): Record<string, unknown> {
    return JSON.parse(this.get(digest).toString('utf8')) as Record<string, unknown>;
  }

  /** Every node under root (root first, each digest once): manifests, then their configs and layers. */
  graph(root: RigDescriptor): { manifests: RigDescriptor[]; blobs: RigDescriptor[] } {
    const manifests: RigDescriptor[] = [];
    const blobs: RigDescriptor[] = [];
    const seen = new Set<string>();
    const visit = (desc: RigDescriptor): void => {
      if (seen.has(desc.digest)) return;
      seen.add(desc.digest);
      const body = this.json(desc.digest);
      manifests.push(desc);
      if (isIndex(desc.mediaType)) {
        for (const child of body.manifests as RigDescriptor[]) visit(child);
        return;
      }
      for (const blob of [body.config as RigDescriptor, ...(body.layers as RigDescriptor[])]) {
        if (seen.has(blob.digest)) continue;
        seen.add(blob.digest);
        blobs.push(blob);
      }
    };
    if (!isIndex(root.mediaType) && !isImageManifest(root.mediaType)) throw new Error(`not a manifest: ${root.mediaType}`);
    visit(root);
    return { manifests, blobs };
  }
}
