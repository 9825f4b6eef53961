import ProgressBar from 'progress';
import type { EventSink } from '../core/progress-events.js';
import { formatRetry } from './retry-log.js';
import { phaseLine, Tally } from './progress-tally.js';

// Bars on a terminal: one bar per phase, labelled with it, in human units,
// the image being worked on at the end; a retry or a phase change is printed
// above the bar (bar.interrupt), so the log of what happened stays on screen:
//   export pull [=========-----------] 45% 54.0 MB/120.0 MB 8.1 MB/s ETA 9 s acme/api:1

const BAR_WIDTH = 20;

export interface TtyStream {
  isTTY?: boolean;
  columns?: number;
  write(chunk: string): boolean;
  cursorTo?: unknown;
  clearLine?: unknown;
}

export function ttyBars(label: string, stream: TtyStream, options: { throttleMs?: number } = {}): { sink: EventSink; end(): void } {
  const tally = new Tally();
  let bar: ProgressBar | undefined;
  const render = (): void => {
    // A bar that reached its planned total has cleared itself: drawing it again would leave it on screen.
    if (tally.total <= 0 || bar?.complete) return;
    bar ??= new ProgressBar(`${label}:phase [:bar] :percent :moved :image`, {
      total: tally.total,
      width: BAR_WIDTH,
      stream: stream as unknown as NodeJS.WritableStream,
      renderThrottle: options.throttleMs ?? 100,
      clear: true,
    });
    bar.total = Math.max(tally.total, 1);
    // `export pull [====]`; `verify [====]`, not `verify verify [====]`.
    const phase = tally.phase && tally.phase !== label ? ` ${tally.phase}` : '';
    const moved = tally.describe();
    // The progress package shrinks the bar to fit a line: the image name gives way first (its tail kept).
    const room = (stream.columns || 80) - (label.length + phase.length + moved.length + BAR_WIDTH + 12);
    const image = room >= 12 ? (tally.image.length <= room ? tally.image : `…${tally.image.slice(-(room - 1))}`) : '';
    const tokens = { phase, moved, image };
    // tick(0) redraws; `curr` follows the tally. A growing total must not complete the bar early;
    // a planned one (pull, copy, write, push) is what the phase moves, so it reaches 100 %.
    bar.curr = Math.min(tally.moved, tally.known ? bar.total : bar.total - 1);
    bar.tick(0, tokens);
  };
  const say = (text: string): void => {
    if (bar && !bar.complete) bar.interrupt(text);
    else stream.write(`${text}\n`);
  };
  const end = (): void => {
    if (bar && !bar.complete) bar.terminate();
    bar = undefined;
  };
  const sink: EventSink = (event) => {
    tally.add(event);
    switch (event.type) {
      case 'phase':
        end();
        say(`${label}: ${phaseLine(event, label)}`);
        return render();
      case 'retry':
        return say(`${label}: ${formatRetry(event)}`);
      case 'image':
        if (event.state === 'failed') say(`${label}: FAILED ${event.name} (${event.detail ?? ''})`);
        return render();
      case 'node-start':
      case 'bytes':
        return render();
      default:
        return;
    }
  };
  return { sink, end };
}
