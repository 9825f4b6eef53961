// src/core: pure types and functions shared by every layer. No fs, no network, no sqlite.
export * from './bounded-json.js';
export * from './content.js';
export * from './descriptor.js';
export * from './digest.js';
export * from './errors.js';
export * from './hashing.js';
export * from './key-id.js';
export * from './limits.js';
export * from './manifest.js';
export * from './media-types.js';
export * from './platform.js';
export * from './read-capped.js';
export * from './reference.js';
export * from './upstream-repository.js';
export * from './format-bytes.js';
export * from './loopback.js';
export * from './byte-size.js';
