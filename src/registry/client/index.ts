// Public API of the registry client (design §2: src/registry/client imports core only).
export { RegistryClient, createRegistryClient, type RegistryClientInit } from './client.js';
export { RemoteRepository } from './remote-repository.js';
export type { RegistryClientOptions, Timeouts } from './options.js';
export { DEFAULTS as CLIENT_DEFAULTS, isLoopbackHost, registryBaseUrl } from './options.js';
export { parseCreds, resolveCredentials, defaultAuthFiles, type Credentials } from './auth/credentials.js';
export { parseChallenges, type Challenge } from './auth/challenge.js';
export { repositoryScope } from './auth/scope.js';
export { fetchToken, type TokenRequest } from './auth/token.js';
export { createFileTraceSink, createMemoryTraceSink, type TraceRecord, type TraceSink } from './transport/trace.js';
export { redactUrl, redactHeaders } from './transport/redact.js';
// For RegistryClient.send (raw requests: ferry doctor's probes).
export type { RequestSpec } from './transport/http-client.js';
export { discard, dropBody, headerOf, type HttpResponse } from './transport/exchange.js';
export { nextLocation } from './transport/location.js';
export { DEFAULT_RETRY_SETTINGS, backOff, isTransient, sleep, type RetryEvent, type RetryHook, type RetryPolicy, type RetrySettings } from './retry/index.js';
/** The retry event under its earlier name. */
export type { RetryEvent as RetryInfo } from './retry/index.js';
export { fetchResumable, type ResumableFetchOptions, type OffsetFetcher } from './resumable-fetch.js';
export { registryErrorDetails, type RegistryErrorDetails } from './response-error.js';
export { ANNOTATION_REFERRER_TAG, COSIGN_SUFFIXES, type RemoteReferrersOptions } from './referrers.js';
export type { FetchedManifest } from './manifests.js';
export type { ListOptions } from './tags.js';
export { saveLogin, removeLogin, loginFilePath, type LoginFileOptions, type LoginWritten } from './auth/save-login.js';
export { refusedMessage, refusedParts, roleHint, type RefusalReason, type Refused } from './refusals.js';
