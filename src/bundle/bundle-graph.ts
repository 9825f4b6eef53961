import type { Descriptor } from '../core/descriptor.js';
import type { Digest } from '../core/digest.js';
import type { EdgeKind } from '../core/manifest.js';
import type { Platform } from '../core/platform.js';
import type { UpstreamSignature } from './format.js';
import type { BlobKind } from './manifest-db-schema.js';

// What a bundle describes, as plain data: the writer's graph walk produces it,
// ferry/index.db stores it, and the reader answers queries from it.

export interface GraphImage {
  /** Canonical full reference (core formatReference): `registry/repository[:tag][@digest]`. */
  name: string;
  registry: string;
  repository: string;
  tag?: string;
  root: Descriptor;
  /** The publisher's signature accepted at export (bundle.json `upstreamSignature`). */
  upstreamSignature?: UpstreamSignature;
}

export interface GraphBlob {
  /** mediaType, digest, size, and `urls` for a foreign layer. */
  descriptor: Descriptor;
  kind: BlobKind;
  /** False for a blob a delta bundle assumes the target already holds. */
  included: boolean;
}

export interface GraphManifest {
  digest: Digest;
  mediaType: string;
  artifactType?: string;
  subject?: Digest;
  /** From the parent index's descriptor, else from the image config. */
  platform?: Platform;
}

export interface GraphEdge {
  parent: Digest;
  /** Order of the child in its parent (config 0, then layers; or index order). */
  position: number;
  kind: EdgeKind;
  child: Digest;
}

export interface GraphReferrer {
  subject: Digest;
  digest: Digest;
  artifactType?: string;
  /** The image (name) it was exported with. */
  image: string;
  /** The tag it was found under (cosign `sha256-<hex>.sig`), re-applied on import. */
  tag?: string;
}

export interface BundleGraph {
  /** Sorted by name. */
  images: GraphImage[];
  /** Every blob of the graph once, in tar order (manifests, configs, layers); assumed ones included with included=false. */
  blobs: GraphBlob[];
  manifests: GraphManifest[];
  edges: GraphEdge[];
  referrers: GraphReferrer[];
}
