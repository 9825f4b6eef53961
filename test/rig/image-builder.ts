import { MediaType } from '../../src/core/media-types.js';
import type { BlobSet, RigDescriptor, RigPlatform } from './image-blobs.js';
import { FIXED_MTIME, type BuiltLayer } from './layer-tar.js';

// Configs, manifests and indexes as real builders write them: a config whose
// rootfs.diff_ids match the layers, one history entry per layer, and OCI or
// Docker schema2 media types throughout (never mixed in one image).

export type Flavour = 'oci' | 'docker';

export interface ImageLayer {
  readonly layer: BuiltLayer;
  readonly createdBy: string;
  /** A foreign (non-distributable) layer: its blob lives at these URLs, not in the registry. */
  readonly foreignUrls?: readonly string[];
}

export interface ImageSpec {
  readonly flavour: Flavour;
  readonly platform: RigPlatform;
  readonly layers: readonly ImageLayer[];
  readonly cmd: readonly string[];
}

const CREATED = FIXED_MTIME.toISOString();

function layerMediaType(flavour: Flavour, foreign: boolean): string {
  if (flavour === 'docker') return foreign ? MediaType.dockerForeignLayer : MediaType.dockerLayer;
  return foreign ? MediaType.ociLayerNondistributableGzip : MediaType.ociLayerGzip;
}

/** Adds config, layers and manifest to `blobs`; returns the manifest descriptor, platform included. */
export function addImage(blobs: BlobSet, spec: ImageSpec): RigDescriptor {
  const { platform } = spec;
  const config = {
    created: CREATED,
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    ...(platform['os.version'] ? { 'os.version': platform['os.version'] } : {}),
    config: {
      Env: platform.os === 'windows' ? [] : ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      Cmd: [...spec.cmd],
    },
    rootfs: { type: 'layers', diff_ids: spec.layers.map((l) => l.layer.diffId) },
    history: spec.layers.map((l) => ({ created: CREATED, created_by: l.createdBy })),
  };
  const configDesc = blobs.addJson(spec.flavour === 'oci' ? MediaType.ociConfig : MediaType.dockerConfig, config);
  const layerDescs = spec.layers.map((l) => {
    const foreign = l.foreignUrls !== undefined;
    const desc = blobs.add(layerMediaType(spec.flavour, foreign), l.layer.bytes);
    return foreign ? { ...desc, urls: [...(l.foreignUrls ?? [])] } : desc;
  });
  const manifestType = spec.flavour === 'oci' ? MediaType.ociManifest : MediaType.dockerManifest;
  const manifest = { schemaVersion: 2, mediaType: manifestType, config: configDesc, layers: layerDescs };
  return blobs.addJson(manifestType, manifest, { platform });
}

/** An index (OCI) or manifest list (Docker) over manifests that already carry their platform. */
export function addIndex(blobs: BlobSet, flavour: Flavour, manifests: readonly RigDescriptor[]): RigDescriptor {
  const mediaType = flavour === 'oci' ? MediaType.ociIndex : MediaType.dockerManifestList;
  return blobs.addJson(mediaType, { schemaVersion: 2, mediaType, manifests });
}
