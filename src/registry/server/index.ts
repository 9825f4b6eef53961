// src/registry/server: `ferry serve`, the embedded OCI distribution-spec v1.1
// registry served straight from the store. Imports store, core and registry/api.
export { createRegistryServer, type RegistryServer } from './server.js';
export { isLoopback, type RegistryServerOptions } from './options.js';
export type { RequestLogEntry } from './request-log.js';
export type { TlsFiles } from './tls.js';
export { MIN_TLS_VERSION } from './tls.js';
export { addUser, removeUser, loadUsersFile, validateUserName, type UserEntry, type UsersFile } from './auth/users-file.js';
export { ROLES, type AccessRule, type Role } from './auth/access.js';
export { upstreamRepositoryName } from './mirror-namespace.js';
