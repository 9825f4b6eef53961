import type { EventSink } from '../core/progress-events.js';
import { formatRetry } from './retry-log.js';
import { phaseLine } from './progress-tally.js';

// --debug: what ferry decided, one `ferry: debug:` line each on stderr — the
// plan of each phase, every blob copied, skipped (already there) or mounted,
// every retry, and what a layer says it decided ({type: 'debug'}).

export function debugLog(stderr: NodeJS.WritableStream = process.stderr): EventSink {
  const say = (text: string): void => void stderr.write(`ferry: debug: ${text}\n`);
  return (event) => {
    switch (event.type) {
      case 'phase':
        return say(`phase ${phaseLine(event)}`);
      case 'image':
        return say(`image ${event.name}: ${event.state}${event.detail ? ` (${event.detail})` : ''}`);
      case 'node-done':
        return say(`${event.action} ${event.descriptor.digest} (${event.descriptor.size} bytes) ${event.action === 'copied' ? 'into' : 'in'} ${event.repository}`);
      case 'tagged':
        return say(`tagged ${event.repository}:${event.tag} → ${event.descriptor.digest}`);
      case 'retry':
        return say(formatRetry(event));
      case 'debug':
        return say(event.text);
      default:
        return;
    }
  };
}
