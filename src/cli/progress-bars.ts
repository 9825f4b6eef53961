import ProgressBar from 'progress';
import type { EventSink, TransferEvent } from '../transfer/events.js';
import type { CommandContext } from './command.js';

// Progress as a view of transfer events: one bar of bytes (rate, ETA) whose
// total grows as blobs start. Off when stderr is not a TTY, with --json, --quiet
// or --no-progress; warnings are still reported then. Retries are reported by
// the registry client's onRetry hook (registry-flags.ts: --debug).

export interface ProgressReporter {
  sink: EventSink;
  done(): void;
}

export function progressReporter(ctx: CommandContext, label: string): ProgressReporter {
  let bar: ProgressBar | undefined;
  let total = 0;
  const started = new Set<string>();
  const ensureBar = (): ProgressBar => {
    bar ??= new ProgressBar(`${label} [:bar] :percent :rate/bps :etas`, { total: Math.max(total, 1), width: 30, stream: process.stderr, renderThrottle: 100, clear: true });
    return bar;
  };
  const sink = (event: TransferEvent): void => {
    switch (event.type) {
      case 'node-start':
        if (!started.has(event.descriptor.digest)) {
          started.add(event.descriptor.digest);
          total += event.descriptor.size;
          if (bar) bar.total = total;
        }
        break;
      case 'bytes':
        if (ctx.interactive) ensureBar().tick(event.bytes);
        break;
      case 'message':
        if (event.level === 'warn') ctx.out.warn(event.text);
        else ctx.out.note(event.text);
        break;
      default:
        break;
    }
  };
  return {
    sink,
    done() {
      if (bar && !bar.complete) bar.terminate();
    },
  };
}
