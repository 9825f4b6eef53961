import type { Descriptor } from './descriptor.js';

// The one progress channel (issue 15.2): what every phase of a command reports
// while it works, typed once here in core so every layer can emit into it and
// every presenter (TTY bars, the line log, --debug, --json counters) reads the
// same stream. Libraries only emit; src/cli decides what a person sees.
// Models: go-containerregistry remote/progress.go, oras-go CopyGraphOptions hooks.

export type NodeAction = 'copied' | 'skipped' | 'mounted';

/** The phases a person sees, in order (export: resolve → pull → write; import: verify → push → tag; copy: resolve → copy). */
export type Phase = 'resolve' | 'pull' | 'copy' | 'write' | 'verify' | 'push' | 'tag';

export type FerryEvent =
  /** A phase begins; `total` (bytes) when it is known before bytes move. */
  | { type: 'phase'; phase: Phase; total?: number; items?: number }
  /** One image of the phase is being worked on / is finished. */
  | { type: 'image'; name: string; state: 'start' | 'done' | 'failed'; detail?: string }
  /** The phase has `bytes` more to move than the total it announced (a refused mount: the blob is sent after all). */
  | { type: 'phase-grows'; bytes: number }
  | { type: 'node-start'; descriptor: Descriptor; repository: string }
  /** Bytes moved; the descriptor when they belong to one blob. */
  | { type: 'bytes'; descriptor?: Descriptor; bytes: number }
  | { type: 'node-done'; descriptor: Descriptor; repository: string; action: NodeAction; bytes: number }
  | { type: 'tagged'; repository: string; tag: string; descriptor: Descriptor }
  /** A request, chunk or blob is tried again (the registry client's retry policy). */
  | { type: 'retry'; what: string; reason: string; attempt: number; max: number; delayMs: number }
  /** What ferry decided and why: shown by the --debug presenter only. */
  | { type: 'debug'; text: string }
  | { type: 'message'; level: 'info' | 'warn'; text: string };

export type EventSink = (event: FerryEvent) => void;

export const noEvents: EventSink = () => {};
