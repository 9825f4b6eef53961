import type { EventSink } from '../core/progress-events.js';
import type { CommandContext } from './command.js';
import { channel } from './progress-channel.js';
import { progressCounters, type ProgressCounters } from './progress-counters.js';
import { lineLog } from './progress-lines.js';
import { ttyBars } from './progress-tty.js';

// A command's view of the one progress channel. Its transfer emits into
// `sink`, which feeds the channel (where retries from the registry client
// arrive too); the presenter chosen here listens: bars on a terminal, the
// line log when stderr is not one, nothing with --json, --quiet or
// --no-progress; the counters always (--json prints them). --debug's
// presenter listens for the whole run (main.ts).
// Messages are the command's own notes and warnings, whatever the presenter.

export interface ProgressReporter {
  sink: EventSink;
  done(): void;
  /** What the channel carried so far, counted (the `progress` of a --json document). */
  counters(): ProgressCounters;
}

export function progressReporter(ctx: CommandContext, label: string, stderr: NodeJS.WritableStream = process.stderr): ProgressReporter {
  const presenter = ctx.interactive ? ttyBars(label, stderr) : ctx.out.json || ctx.out.quiet || !ctx.progress ? undefined : lineLog(label, stderr);
  const stop = presenter ? channel.listen(presenter.sink) : () => undefined;
  // Counted whatever the presenter: --json shows them, and they cost a few additions per event.
  const counting = progressCounters();
  const stopCounting = channel.listen(counting.sink);
  let finished = false;
  return {
    sink(event) {
      if (event.type === 'message') return event.level === 'warn' ? ctx.out.warn(event.text) : ctx.out.note(event.text);
      channel.emit(event);
    },
    done() {
      if (finished) return;
      finished = true;
      stop();
      stopCounting();
      presenter?.end();
    },
    counters: counting.read,
  };
}
