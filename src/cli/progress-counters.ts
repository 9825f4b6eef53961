import type { EventSink, Phase } from '../core/progress-events.js';

// The --json presenter of the one progress channel: counters folded from the
// same events the bars and the line log read, added to the command's document
// as `progress`. What each phase announced (`items`, `total`) stands beside
// what it then moved, so a script can check the one against the other.

export interface PhaseCounters {
  phase: Phase;
  items?: number;
  /** Bytes announced before the phase moved any (when known), plus what it said it had to add (phase-grows). */
  total?: number;
  /** Bytes the phase moved. */
  moved: number;
}

export interface ProgressCounters {
  phases: PhaseCounters[];
  /** Requests, chunks or blobs tried again. */
  retries: number;
  /** Nodes (blobs and manifests) copied, skipped (already there) or mounted from another repository. */
  copied: number;
  skipped: number;
  mounted: number;
}

export function progressCounters(): { sink: EventSink; read(): ProgressCounters } {
  const counters: ProgressCounters = { phases: [], retries: 0, copied: 0, skipped: 0, mounted: 0 };
  const sink: EventSink = (event) => {
    switch (event.type) {
      case 'phase':
        counters.phases.push({
          phase: event.phase,
          ...(event.items !== undefined ? { items: event.items } : {}),
          ...(event.total !== undefined ? { total: event.total } : {}),
          moved: 0,
        });
        return;
      case 'phase-grows': {
        const current = counters.phases.at(-1);
        if (current?.total !== undefined) current.total += event.bytes;
        return;
      }
      case 'bytes': {
        const current = counters.phases.at(-1);
        if (current) current.moved += event.bytes;
        return;
      }
      case 'node-done':
        counters[event.action] += 1;
        return;
      case 'retry':
        counters.retries += 1;
        return;
      default:
        return;
    }
  };
  return { sink, read: () => structuredClone(counters) };
}
