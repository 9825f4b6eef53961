// Byte caps for everything ferry ever reads into memory. Layers are never read
// whole; only metadata is, and always through one of these caps.

/** Largest manifest or index accepted (distribution and oras use 4 MiB). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Largest registry error body parsed (ggcr maxErrorBodySize). */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** Largest JSON metadata file in a bundle (bundle.json, index.json, volume sidecar). */
export const MAX_METADATA_BYTES = 4 * 1024 * 1024;
/** Largest ferry/index.db accepted from a bundle. */
export const MAX_INDEX_DB_BYTES = 256 * 1024 * 1024;
/** Default number of blobs moved at once. */
export const DEFAULT_CONCURRENCY = 4;
