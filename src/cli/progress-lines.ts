import type { EventSink, Phase } from '../core/progress-events.js';
import { formatBytes } from '../core/format-bytes.js';
import { formatRetry } from './retry-log.js';
import { formatDuration, phaseLine, phasePrefix, Tally } from './progress-tally.js';

// The line log: progress when stderr is not a terminal (cron, CI, a pipe).
// One line per event worth a line — a phase beginning and ending, an image
// done or failed, a retry — never a redraw:
//   ferry: export: pull: 2 images, 595.4 kB
//   ferry: export: pulled 127.0.0.1_5000/acme/api:1 (3 blobs pulled, 0 in the store)
//   ferry: export: retrying blob sha256:ab12… (HTTP 503), 2/4 in 0.8 s

/** What an image finished in each phase is said to be. */
const DONE: Record<Phase, string> = { resolve: 'resolved', pull: 'pulled', copy: 'copied', write: 'written', verify: 'verified', push: 'pushed', tag: 'tagged' };

export function lineLog(label: string, stderr: NodeJS.WritableStream): { sink: EventSink; end(): void } {
  const tally = new Tally();
  const say = (text: string): void => void stderr.write(`ferry: ${label}: ${text}\n`);
  const endPhase = (): void => {
    if (tally.phase && tally.moved > 0) say(`${phasePrefix(tally.phase, label)}${formatBytes(tally.moved)} in ${formatDuration(tally.seconds())} (${formatBytes(Math.round(tally.rate()))}/s)`);
  };
  const sink: EventSink = (event) => {
    if (event.type === 'phase') endPhase();
    tally.add(event);
    switch (event.type) {
      case 'phase':
        return say(phaseLine(event, label));
      case 'image':
        if (event.state === 'start') return;
        return say(`${event.state === 'done' ? DONE[tally.phase ?? 'pull'] : 'FAILED'} ${event.name}${event.detail ? ` (${event.detail})` : ''}`);
      case 'retry':
        return say(formatRetry(event));
      default:
        return;
    }
  };
  return { sink, end: endPhase };
}
