// ferry's public library API: the stable types and functions. Everything else is
// internal and free to change (vitest's public/ idea).
export * from './core/index.js';
export { openStore, defaultStoreDir, type Store, type StoreRepository } from './store/index.js';
export { createRegistryClient, type RegistryClient, type RemoteRepository, type RegistryClientOptions } from './registry/client/index.js';
export { createRegistryServer, type RegistryServer, type RegistryServerOptions } from './registry/server/index.js';
export { writeBundle, openBundle, verifyBundle, inspectBundle, generateKeyPair, writeKeyPair, type Bundle, type WriteBundleOptions } from './bundle/index.js';
export { copyGraph, type CopyGraphOptions, type CopyRoot } from './transfer/copy-graph.js';
export { CopyScheduler } from './transfer/copy-scheduler.js';
export type { CopyReport } from './transfer/copy-report.js';
// FerryEvent / EventSink (core/progress-events.ts) are the one progress channel; TransferEvent is its former name.
export type { TransferEvent } from './transfer/events.js';
export { exportImages, type ExportOptions, type ExportReport } from './transfer/export.js';
export { importBundle, type ImportOptions, type ImportReport } from './transfer/import.js';
export { runDoctor, type DoctorOptions, type DoctorReport } from './doctor/index.js';
