import type { FerryEvent, Phase } from '../core/progress-events.js';
import { formatBytes } from '../core/format-bytes.js';

// What the presenters count from the channel: the phase, its bytes moved of
// its total, the image being worked on, and the rate since the phase began.
// The total is the phase's own when it was known before bytes moved (pull and
// copy plan theirs from the manifests, write and push know theirs); otherwise
// it grows as blobs start. A planned total grows only when the phase says so
// (phase-grows), so moved never passes it.

export class Tally {
  phase: Phase | undefined;
  total = 0;
  moved = 0;
  image = '';
  /** The phase announced its total: it will not grow. */
  known = false;
  private started = Date.now();
  private readonly seen = new Set<string>();

  /** Folds one event in; true when it began a new phase. */
  add(event: FerryEvent): boolean {
    switch (event.type) {
      case 'phase':
        this.phase = event.phase;
        this.known = event.total !== undefined;
        this.total = event.total ?? 0;
        this.moved = 0;
        this.image = '';
        this.started = Date.now();
        this.seen.clear();
        return true;
      case 'node-start':
        if (!this.known && !this.seen.has(event.descriptor.digest)) {
          this.seen.add(event.descriptor.digest);
          this.total += event.descriptor.size;
        }
        return false;
      case 'phase-grows':
        this.total += event.bytes;
        return false;
      case 'bytes':
        this.moved += event.bytes;
        return false;
      case 'image':
        if (event.state === 'start') this.image = event.name;
        return false;
      default:
        return false;
    }
  }

  /** Bytes a second since the phase began. */
  rate(): number {
    const seconds = (Date.now() - this.started) / 1000;
    return seconds > 0 ? this.moved / seconds : 0;
  }

  /** `12.0 MB/120.0 MB 8.1 MB/s ETA 13 s` (ETA only once there is a rate). */
  describe(): string {
    const rate = this.rate();
    const left = Math.max(this.total - this.moved, 0);
    const eta = rate > 0 && this.total > 0 ? ` ETA ${formatSeconds(left / rate)}` : '';
    return `${formatBytes(this.moved)}/${formatBytes(this.total)} ${formatBytes(Math.round(rate))}/s${eta}`;
  }

  seconds(): number {
    return (Date.now() - this.started) / 1000;
  }
}

/** How long a phase took: `43 ms` under a second (a small verify said `in 0.0 s`), else `1.2 s`. */
export function formatDuration(s: number): string {
  return s < 1 ? `${Math.round(s * 1000)} ms` : `${s.toFixed(1)} s`;
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${Math.ceil(s)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${Math.round(s % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/**
 * What a phase line says it does: `pull: 3 images`, `write: 5 blobs, 120.0 MB`. The phase named as the
 * command is (`ferry verify`'s verify phase) goes without its name: `verify: 5 blobs`, not `verify: verify: …`.
 */
export function phaseLine(event: Extract<FerryEvent, { type: 'phase' }>, label?: string): string {
  const noun = event.phase === 'resolve' || event.phase === 'pull' || event.phase === 'copy' || event.phase === 'tag' ? 'images' : 'blobs';
  const parts = [event.items !== undefined ? `${event.items} ${noun}` : '', event.total !== undefined ? formatBytes(event.total) : ''].filter(Boolean);
  return parts.length ? `${label === undefined ? `${event.phase}: ` : phasePrefix(event.phase, label)}${parts.join(', ')}` : event.phase;
}

/** A phase's name before what it did, unless the command bears the same name (phaseLine). */
export function phasePrefix(phase: Phase | undefined, label: string): string {
  return phase && phase !== label ? `${phase}: ` : '';
}
