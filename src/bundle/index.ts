// src/bundle: the ferry.bundle.v1 format (design §4) — writer, head-only
// reader, verified blob iterator, signing, volumes. Imports core only.
export { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, BundleEntry, HEAD_ORDER, OCI_LAYOUT_BYTES, TOOL_PREFIX, blobEntryName, digestOfBlobEntry, isToolEntry, parseBundleJson, parseReleaseFileName, releaseFileName, serializeBundleJson } from './format.js';
export type { BundleRelease, ReleaseName } from './format.js';
export type { ToolInput } from './tool-entries.js';
export { entryHeader, writeEntry } from './tar-writer.js';
export type { AssumedBlob, BundleImageSummary, BundleJson, EntryDigest, HeadEntryName, ImageTotals, UpstreamSignature } from './format.js';
export { EntryPolicy, quoteEntryName } from './entry-policy.js';
export type { CheckedEntry, TarHeaderLike } from './entry-policy.js';
export { formatSha256Sums, parseSha256Sums } from './checksums.js';
export { generateKeyPair, keyIdOf, parsePrivateKey, parsePublicKey, sign, verify } from './sign.js';
export type { KeyPair } from './sign.js';
export { readPrivateKeyFile, readPublicKeyFile, readPublicKeyFiles, writeKeyPair } from './key-files.js';
export type { KeyFiles } from './key-files.js';
export { checkSignature } from './signature-check.js';
export type { SignatureState, TrustOptions } from './signature-check.js';
export { ManifestDb } from './manifest-db.js';
export type { DbBlob, DbEdge, DbImage, DbManifest, DbReferrer, SizeTotals } from './manifest-db.js';
export type { BlobKind } from './manifest-db-schema.js';
export type { BundleGraph, GraphBlob, GraphEdge, GraphImage, GraphManifest, GraphReferrer } from './bundle-graph.js';
export type { BundleImageInput, FetchBlob, WalkResult } from './graph-walk.js';
// Loaded on first call (write-side.ts): inspect and verify never write.
export { buildManifestDb, remakeBundleVolume, walkBundleGraph, writeBundle } from './write-side.js';
export type { WriteBundleOptions, WriteBundleResult } from './writer.js';
export { openBundle } from './reader.js';
export { locateBlobs } from './blob-locate.js';
export { openBlobRange, openRawRange, proveBlobRanges, readSmallRange } from './blob-ranges.js';
export { TarSpan } from './tar-span.js';
export type { BlobRange } from './blob-locate.js';
export type { Bundle, OpenBundleOptions } from './reader.js';
export type { BundleBlob } from './blob-iterator.js';
export type { BundleInput } from './bundle-source.js';
// Loaded on first call (check-side.ts): inspect never verifies every blob.
export { verifyBundle, verifyVolumesInHand } from './check-side.js';
export type { VerifyReport } from './verify.js';
export type { InHandOptions, InHandReport, VerifyOutcome } from './verify-in-hand.js';
export type { VolumeState, VolumeStatus } from './volume-check.js';
export { inspectBundle } from './inspect.js';
export type { InspectReport, InspectedImage } from './inspect.js';
export { FAT32_MAX_FILE, MAX_VOLUMES, MIN_SPLIT_BYTES, parseSplitSize } from './split-size.js';
export { VOLUMES_FORMAT, parseSidecar, sidecarPathFor, volumeName } from './volume-sidecar.js';
export type { RemadeVolume, RemakeBundleVolumeOptions } from './volume-remake.js';
export type { VolumeInfo, VolumeSidecar } from './volume-sidecar.js';
export { buildIndexJson, type OciIndexJson } from './index-json.js';
export { END_OF_ARCHIVE_BYTES, paddingFor, ustarHeader } from './ustar.js';
