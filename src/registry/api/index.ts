// src/registry/api: the OCI distribution protocol as data — routes, headers and
// error codes — shared by the client and the server. Imports core only.
export * from './routes.js';
export * from './headers.js';
export * from './error-codes.js';
export * from './ferry-serve.js';
