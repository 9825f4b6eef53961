import type { Descriptor } from '../core/descriptor.js';

// What transfers report while they work. The library only emits these; the CLI
// turns them into progress bars or --json output (changesets reporter idea).

export type NodeAction = 'copied' | 'skipped' | 'mounted';

export type TransferEvent =
  | { type: 'node-start'; descriptor: Descriptor; repository: string }
  | { type: 'bytes'; descriptor: Descriptor; bytes: number }
  | { type: 'node-done'; descriptor: Descriptor; repository: string; action: NodeAction; bytes: number }
  | { type: 'tagged'; repository: string; tag: string; descriptor: Descriptor }
  | { type: 'message'; level: 'info' | 'warn'; text: string };

export type EventSink = (event: TransferEvent) => void;

export const noEvents: EventSink = () => {};
