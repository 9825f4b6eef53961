import { channel } from './progress-channel.js';
import { debugLog } from './progress-debug.js';
import type { Argv, MiddlewareFunction } from 'yargs';
import yargs from './yargs.js';
import { ExitCode, InterruptedError } from '../core/errors.js';
import type { CommandContext, FerryCommand, GlobalArgs } from './command.js';
import { commandNameIn, commandsFor } from './commands/index.js';
import { endOnClosedStdout, reportError } from './error-boundary.js';
import { createOutput } from './output.js';
import { buildWithHelp, GLOBAL_FLAG_KEYS, GLOBAL_GROUP, helpWidth, nameOf, topEpilogue, withCommandList } from './help-text.js';
import { usageErrorFor } from './usage-errors.js';
import { TOOL_VERSION } from './version.js';

/** yargs calls middleware with the instance of the running command (types say otherwise). */
function lastValueWins(argv: Record<string, unknown>, y: { getOptions(): { array: string[] } }): void {
  const arrays = new Set(y.getOptions().array);
  for (const [key, value] of Object.entries(argv)) if (key !== '_' && Array.isArray(value) && !arrays.has(key)) argv[key] = value.at(-1);
}

type OnRun = (cmd: FerryCommand, args: Record<string, unknown> & GlobalArgs) => Promise<void>;

/** Registers `cmd` (and its subcommands) on `y`; top-level commands are hidden from yargs' flat list (help-text.ts groups them). */
function register(y: Argv<GlobalArgs>, cmd: FerryCommand, onRun: OnRun, parents: readonly string[] = []): Argv<GlobalArgs> {
  const path = [...parents, nameOf(cmd)];
  return y.command(
    cmd.command,
    (parents.length === 0 ? false : cmd.describe) as string,
    (inner) => {
      let built = buildWithHelp(cmd, inner) as unknown as Argv<GlobalArgs>;
      if (!cmd.subcommands) return built;
      for (const sub of cmd.subcommands) built = register(built, sub, onRun, path);
      return cmd.run ? built : built.demandCommand(1, `ferry ${path.join(' ')} needs a subcommand: ${cmd.subcommands.map(nameOf).join(', ')}`);
    },
    (args) => (cmd.run ? onRun(cmd, args as unknown as Record<string, unknown> & GlobalArgs) : undefined),
  ) as unknown as Argv<GlobalArgs>;
}

/** Declares the whole command line; `docs/cli.md` is generated from this too. */
export function buildParser(argv: string[], onRun: OnRun, commands: readonly FerryCommand[]): Argv<GlobalArgs> {
  let parser = yargs(argv)
    .scriptName('ferry')
    .usage('ferry <command> [options]\n\nCarry container images across an air gap: export to a signed bundle, import into a registry, serve.')
    .option('store', { type: 'string', describe: 'store directory (default $FERRY_STORE, else $XDG_DATA_HOME/ferry, else ~/.local/share/ferry)', global: true })
    .option('json', { type: 'boolean', default: false, describe: 'machine-readable result on stdout, nothing else there', global: true })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'only errors', global: true })
    .option('progress', { type: 'boolean', default: true, describe: 'progress bars (--no-progress to turn off)', global: true })
    .option('debug', { type: 'boolean', default: false, describe: 'stack traces, and a log of what ferry decides (plan, skips, mounts, retries), on stderr', global: true })
    .option('trace', { type: 'string', describe: 'record HTTP exchanges as JSON lines in FILE (credentials redacted)', global: true })
    .group([...GLOBAL_FLAG_KEYS], GLOBAL_GROUP)
    .strict()
    // A single-valued flag given twice: the last one wins (as in most CLIs). Array
    // flags and variadic positionals still collect every value.
    .middleware(lastValueWins as unknown as MiddlewareFunction, true)
    .demandCommand(1, 'name a command: ferry --help lists them')
    .recommendCommands()
    .help()
    .version(TOOL_VERSION)
    .epilogue(topEpilogue())
    .wrap(helpWidth())
    // yargs' own complaints (unknown flag, missing argument) come as a message: usage errors.
    // (yargs runs every command on this one instance, so at failure it holds the failing command's flags.)
    .fail((message, err) => {
      throw err ?? usageErrorFor(message, argv, commands, parser);
    }) as unknown as Argv<GlobalArgs>;
  for (const cmd of commands) parser = register(parser, cmd, onRun);
  return parser;
}

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
  const release = interruptOn(controller, { debug, json });
  // --debug: what ferry decides, from the one progress channel, for the whole run.
  const unlisten = debug ? channel.listen(debugLog()) : () => undefined;
  let code: number = ExitCode.ok;
  try {
    const onRun = async (cmd: FerryCommand, args: Record<string, unknown> & GlobalArgs): Promise<void> => {
      code = (await cmd.run!(args, contextFor(args, controller.signal))) ?? ExitCode.ok;
    };
    const commands = await commandsFor(argv);
    const parser = buildParser(argv, onRun, commands);
    // `ferry --help`: yargs lists commands flat, ferry by what they are for (help-text.ts).
    if (commandNameIn(argv) === undefined && argv.includes('--help')) {
      process.stdout.write(`${withCommandList(await parser.getHelp(), commands)}\n`);
      return code;
    }
    await parser.parseAsync();
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
