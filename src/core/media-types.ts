import { ErrorCode, UsageError } from './errors.js';

// Every media type ferry knows, in one place. No other file compares media type
// strings: they call the predicates below (ggcr pkg/v1/types).
export const MediaType = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  ociLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  ociLayerNondistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  cosignSimpleSigning: 'application/vnd.dev.cosign.simplesigning.v1+json',
  dsseEnvelope: 'application/vnd.dsse.envelope.v1+json',
  octetStream: 'application/octet-stream',
} as const;
export type KnownMediaType = (typeof MediaType)[keyof typeof MediaType];
/** A media type: one we know, or any other string a registry hands us. */
export type MediaTypeName = KnownMediaType | (string & {});

export function isIndex(mt: MediaTypeName | undefined): boolean {
  return mt === MediaType.ociIndex || mt === MediaType.dockerManifestList;
}

export function isImageManifest(mt: MediaTypeName | undefined): boolean {
  return mt === MediaType.ociManifest || mt === MediaType.dockerManifest;
}

/** A manifest of either kind: something with children that is pushed to /manifests/. */
export function isManifest(mt: MediaTypeName | undefined): boolean {
  return isIndex(mt) || isImageManifest(mt);
}

export function isSchema1(mt: MediaTypeName | undefined): boolean {
  return mt === MediaType.dockerSchema1 || mt === MediaType.dockerSchema1Signed;
}

export function isConfig(mt: MediaTypeName | undefined): boolean {
  return mt === MediaType.ociConfig || mt === MediaType.dockerConfig;
}

/** Foreign / non-distributable layers (Windows base layers): they carry `urls`. */
export function isForeignLayer(mt: MediaTypeName | undefined): boolean {
  return (
    mt === MediaType.dockerForeignLayer ||
    mt === MediaType.ociLayerNondistributable ||
    mt === MediaType.ociLayerNondistributableGzip ||
    mt === MediaType.ociLayerNondistributableZstd
  );
}

export function isLayer(mt: MediaTypeName | undefined): boolean {
  return (
    mt === MediaType.ociLayer ||
    mt === MediaType.ociLayerGzip ||
    mt === MediaType.ociLayerZstd ||
    mt === MediaType.dockerLayer ||
    isForeignLayer(mt)
  );
}

/**
 * The distributable equivalent of a foreign layer media type, used when import
 * localizes foreign layers (design §4): same bytes, ordinary layer type.
 */
export function distributableLayerType(mt: MediaTypeName): MediaTypeName {
  switch (mt) {
    case MediaType.dockerForeignLayer:
      return MediaType.dockerLayer;
    case MediaType.ociLayerNondistributable:
      return MediaType.ociLayer;
    case MediaType.ociLayerNondistributableGzip:
      return MediaType.ociLayerGzip;
    case MediaType.ociLayerNondistributableZstd:
      return MediaType.ociLayerZstd;
    default:
      return mt;
  }
}

/** What a client sends in Accept when it asks for a manifest. */
export const MANIFEST_ACCEPT: readonly KnownMediaType[] = [
  MediaType.ociIndex,
  MediaType.ociManifest,
  MediaType.dockerManifestList,
  MediaType.dockerManifest,
];

export function refuseSchema1(mt: MediaTypeName | undefined, subject: string): void {
  if (isSchema1(mt)) {
    throw new UsageError(`${subject} is a Docker schema 1 manifest, which ferry does not carry`, {
      code: ErrorCode.unsupportedMediaType,
      hint: 'schema 1 is deprecated: re-push the image with a current Docker or skopeo to get a schema 2 or OCI manifest',
    });
  }
}
