import type { Digest } from '../../src/core/digest.js';
import type { RigDescriptor } from './image-blobs.js';

// What the rig tells tests about the images it built and seeded. Plain JSON
// (global setup hands it to the test workers through vitest's provide/inject).

export type RigImageKey =
  | 'multi' // ferry-test/multi:1.0 — OCI index: linux/amd64 + linux/arm64/v8
  | 'docker' // ferry-test/docker:1.0 — Docker schema2 manifest
  | 'appA' // ferry-test/app-a:1.0 — OCI, base layer shared with appB
  | 'appB' // ferry-test/app-b:1.0
  | 'windows' // ferry-test/windows:ltsc2022 — Docker schema2, first layer foreign (urls)
  | 'sbom' // ferry-test/app-a@<digest> — OCI artifact, subject = appA (pushed by digest)
  | 'referrersIndex' // ferry-test/app-a:sha256-<hex of appA> — referrers tag schema index
  | 'signature'; // ferry-test/app-a:sha256-<hex of appA>.sig — cosign simple signing

export interface RigImage {
  readonly key: RigImageKey;
  readonly repository: string;
  /** Absent for the SBOM referrer, which is pushed by digest only. */
  readonly tag?: string;
  /** `repository:tag`, or `repository@digest` without a tag; prefix with a registry host to pull. */
  readonly reference: string;
  readonly digest: Digest;
  readonly mediaType: string;
  readonly size: number;
  readonly artifactType?: string;
  /** For referrers: the digest of the manifest they point at. */
  readonly subject?: Digest;
  /** Every manifest of the graph, root first (an index then its children). */
  readonly manifests: readonly RigDescriptor[];
  /** Every config and layer, each once; the foreign layer (with `urls`) included. */
  readonly blobs: readonly RigDescriptor[];
  /** 'linux/amd64', 'linux/arm64/v8', 'windows/amd64'; empty for artifacts. */
  readonly platforms: readonly string[];
}

export interface RigImageSet {
  readonly images: Readonly<Record<RigImageKey, RigImage>>;
  /** The Windows image's foreign layer: served only by the foreign server, never by a registry. */
  readonly foreignLayer: RigDescriptor & { readonly url: string };
}

/** Images that a registry serves as ordinary tags (the rest are artifacts attached to appA). */
export const IMAGE_KEYS = ['multi', 'docker', 'appA', 'appB', 'windows'] as const satisfies readonly RigImageKey[];
export const ARTIFACT_KEYS = ['sbom', 'referrersIndex', 'signature'] as const satisfies readonly RigImageKey[];

/** The blobs a registry holds for an image: every blob except foreign layers. */
export function registryBlobs(image: RigImage): RigDescriptor[] {
  return image.blobs.filter((b) => b.urls === undefined);
}
