// Byte caps for everything ferry ever reads into memory. Layers are never read
// whole; only metadata is, and always through one of these caps.

/** Largest manifest or index accepted (distribution and oras use 4 MiB). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Largest registry error body parsed (ggcr maxErrorBodySize). */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** Largest JSON metadata file in a bundle (bundle.json, index.json, volume sidecar). */
export const MAX_METADATA_BYTES = 4 * 1024 * 1024;
/** Largest ferry/index.db accepted from a bundle, whatever its blob count. */
export const MAX_INDEX_DB_BYTES = 256 * 1024 * 1024;
/**
 * ferry/index.db may also hold at most this much per row bundle.json promises
 * (blobs carried and assumed, images) plus INDEX_DB_BASE_BYTES: a real one
 * needs well under 1 KiB a row, even with every layer shared by many images.
 */
export const INDEX_DB_BYTES_PER_ROW = 64 * 1024;
export const INDEX_DB_BASE_BYTES = 1024 * 1024;
/**
 * A bundle's ferry/index.db up to this size is opened from memory (SQLite's
 * deserialize, read-only) once its digest matched: no scratch directory, no
 * spool file written and removed, no journal lookups per statement. A larger
 * one (up to MAX_INDEX_DB_BYTES) is spooled to a private file as before, so
 * memory stays bounded: SQLite holds its own copy of the bytes.
 */
export const INDEX_DB_IN_MEMORY_BYTES = 16 * 1024 * 1024;
/** Deepest nesting of arrays and objects accepted in JSON from outside (manifests nest 4 or 5 deep). */
export const MAX_JSON_DEPTH = 64;
/** Longest media type (RFC 6838: 127 characters each side of the slash). */
export const MAX_MEDIA_TYPE_CHARS = 255;
/** Longest full image reference a bundle names (registry/repository:tag or @digest). */
export const MAX_IMAGE_NAME_CHARS = 512;
/** Default number of blobs moved at once. */
export const DEFAULT_CONCURRENCY = 4;

/**
 * Images a failure or refusal names a line each; past this many, one more line counts the rest
 * by cause, and `--json` lists every one (1,000 images under the wrong key printed 1,000 lines).
 */
export const LISTED_FAILURES = 10;
/**
 * Blobs up to this size (configs, signatures, attestation statements) are fetched
 * whole into memory and committed in one step, without a resumable ingest: a kill
 * refetches at most this much, and the blob holds its transfer slot for one write
 * and one fdatasync instead of ~12 file operations queued behind big layers.
 */
export const SMALL_BLOB_BYTES = 64 * 1024;
/**
 * A bundle smaller than this is verified, and written, on the calling thread
 * alone, with no worker: booting one (a thread, its own V8 and the ES module
 * loader for range-worker.js) costs more CPU than sha256 of this many bytes on
 * the calling thread. RangePool decides it, from its `bytes` option.
 * `ferry verify`, paired back to back at load 8-11 on 2 cores, median of 6
 * pairs each, CPU (user + sys) with a worker against without: one 16 MiB layer
 * 0.50 → 0.39 s, one 32 MiB layer 0.52 → 0.40 s, 8 layers of 24 and 32 MiB in
 * all 0.55 → 0.39 and 0.51 → 0.38 s, and no slower in wall time (48 MiB still
 * gained at that load; on an idle machine the worker boots beside the head and
 * halves the hashing of many blobs, so larger bundles keep it, as the 299 MiB
 * verify must). Measured with the worker booting as an ES module; the CLI's
 * bundle now boots it as CommonJS (range-worker.cjs: ~25 ms less CPU a boot),
 * not re-measured for this bound.
 * The writer, copying a single-file bundle from the store: an export of 10
 * small images (a 248 KB bundle, bench/scale-one.mjs), 6 pairs, wall
 * 555 → 462 ms, CPU 545 → 430 ms, peak RSS 79 → 70 MiB (medians); the 19 MB
 * bundle of 1,000 images written with and without the worker: within the
 * spread (1.79 / 1.81 s, medians of 4 pairs).
 */
export const HASH_ALONE_BYTES = 32 * 1024 * 1024;
