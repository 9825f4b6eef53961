import { setMaxListeners } from 'node:events';
import { channel } from './progress-channel.js';
import { ExitCode, InterruptedError } from '../core/errors.js';
import type { CommandContext, FerryCommand, GlobalArgs } from './command.js';
import { commandsFor } from './commands/index.js';
import { endOnClosedStdout, reportError } from './error-boundary.js';
import { parseFast } from './fast-argv.js';
import { createOutput } from './output.js';

function contextFor(args: GlobalArgs, signal: AbortSignal): CommandContext {
  const out = createOutput({ json: args.json, quiet: args.quiet });
  const interactive = Boolean(process.stderr.isTTY) && args.progress && !args.json && !args.quiet;
  return { out, signal, interactive, progress: args.progress };
}

/**
 * SIGINT and SIGTERM abort the command's signal: transfers stop where they
 * are, writers remove their temporary files, ingests stay resumable, and the
 * run ends with one line and exit 130, whatever error the unwinding raised. A
 * second signal does not wait for that.
 */
function interruptOn(controller: AbortController, options: { debug: boolean; json: boolean }): () => void {
  const stop = (): void => {
    if (!controller.signal.aborted) return controller.abort(new InterruptedError());
    process.exit(reportError(new InterruptedError(), options));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  };
}

/** Runs ferry with `argv` and resolves to the exit code; never throws. */
export async function run(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  const json = argv.includes('--json');
  const controller = new AbortController();
  // Every request in flight listens on this one signal (undici drops its listener when the request ends):
  // an import's 16 HEAD lanes passed Node's default of 10 and printed MaxListenersExceededWarning. At most
  // 64 blob lanes (--concurrency) and 16 metadata lanes at once; a listener leaked per request still warns.
  setMaxListeners(128, controller.signal);
  const release = interruptOn(controller, { debug, json });
  let unlisten = (): void => undefined;
  let code: number = ExitCode.ok;
  try {
    // --debug: what ferry decides, from the one progress channel, for the whole
    // run; its formatters are loaded only then (a module is ~1 ms of start-up).
    if (debug) unlisten = channel.listen((await import('./progress-debug.js')).debugLog());
    const onRun = async (cmd: FerryCommand, args: Record<string, unknown> & GlobalArgs): Promise<void> => {
      code = (await cmd.run!(args, contextFor(args, controller.signal))) ?? ExitCode.ok;
    };
    const commands = await commandsFor(argv);
    // The usual line without yargs (fast-argv.ts); yargs for the rest, its help and its errors.
    const fast = commands.length === 1 ? parseFast(argv, commands[0]!) : undefined;
    if (fast) await onRun(commands[0]!, fast);
    else await (await import('./parser.js')).parseWithYargs(argv, onRun, commands);
    return code;
  } catch (err) {
    // Interrupted: whatever the unwinding threw (an AbortError, a cut stream) is the interruption's doing.
    return reportError(controller.signal.aborted ? new InterruptedError({ cause: err }) : err, { debug, json });
  } finally {
    unlisten();
    release();
  }
}

export function main(argv: string[]): void {
  endOnClosedStdout();
  let settled = false;
  // Never a silent exit 0: if the event loop empties while the command is still
  // waiting on something that can no longer happen, that is a bug, said as one.
  const stranded = (): void => {
    if (settled) return;
    settled = true;
    process.exitCode = reportError(new Error('the command stopped before it finished (nothing left to wait for)'), { debug: argv.includes('--debug'), json: argv.includes('--json') });
  };
  process.once('beforeExit', stranded);
  void run(argv).then((code) => {
    settled = true;
    process.off('beforeExit', stranded);
    process.exitCode = code;
    // Interrupted: what still holds the event loop (a socket the abort did not reach) must not keep ferry alive.
    if (code === ExitCode.interrupted) setTimeout(() => process.exit(code), 2000).unref();
  });
}
