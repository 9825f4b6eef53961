import { parseManifest, type Descriptor, type Digest, type Manifest } from '../../core/index.js';
import type { RemoteRepository } from '../../registry/client/index.js';

// One manifest of a remote repository, fetched once (GET, digest checked by the
// client) and parsed: what ls describes, rm deletes and prune walks. The cache
// is per command run and per repository; a manifest is at most 4 MiB.

export interface ManifestNode {
  readonly descriptor: Descriptor;
  readonly manifest: Manifest;
  /** Manifests it holds (an index's children), digests only. */
  readonly children: readonly Digest[];
  /** The manifest it refers to (OCI 1.1 `subject`), when it is a referrer. */
  readonly subject?: Digest;
}

export class ManifestNodes {
  private readonly cache = new Map<string, Promise<ManifestNode>>();
  readonly repo: RemoteRepository;
  private readonly signal: AbortSignal | undefined;

  constructor(repo: RemoteRepository, signal?: AbortSignal) {
    this.repo = repo;
    this.signal = signal;
  }

  /** The node a tag or digest names; each is fetched once per run. */
  get(reference: string): Promise<ManifestNode> {
    let node = this.cache.get(reference);
    if (!node) {
      node = this.load(reference);
      this.cache.set(reference, node);
      node.catch(() => this.cache.delete(reference));
    }
    return node;
  }

  private async load(reference: string): Promise<ManifestNode> {
    const { descriptor, bytes } = await this.repo.fetchManifest(reference, this.signal ? { signal: this.signal } : {});
    const manifest = parseManifest(bytes, descriptor.mediaType, `${this.repo.describe}@${descriptor.digest}`);
    const children = manifest.kind === 'index' ? manifest.manifests.map((d) => d.digest) : [];
    const node: ManifestNode = manifest.subject ? { descriptor, manifest, children, subject: manifest.subject.digest } : { descriptor, manifest, children };
    if (reference !== descriptor.digest) this.cache.set(descriptor.digest, Promise.resolve(node));
    return node;
  }
}

/** A referrer tag names its subject: `sha256-<hex>` (the tag-schema index) or `sha256-<hex>.sig|.att|.sbom|…` (cosign). */
export function referrerTagSubject(tag: string): Digest | undefined {
  const m = /^sha256-([a-f0-9]{64})(?:\..+)?$/.exec(tag);
  return m ? (`sha256:${m[1]}` as Digest) : undefined;
}

/** Is this the tag-schema index of a subject (no suffix), rather than a cosign tag? */
export function isReferrersIndexTag(tag: string): boolean {
  return /^sha256-[a-f0-9]{64}$/.test(tag);
}
