import type { Argv } from 'yargs';
import type { Output } from './output.js';

/** Flags every command takes (design §5). */
export interface GlobalArgs {
  store?: string | undefined;
  json: boolean;
  quiet: boolean;
  progress: boolean;
  debug: boolean;
  trace?: string | undefined;
}

export interface CommandContext {
  out: Output;
  /** Aborted on SIGINT/SIGTERM, so transfers stop cleanly and can resume. */
  signal: AbortSignal;
  /** Whether progress bars may be drawn (a TTY, not --json, not --quiet, not --no-progress). */
  interactive: boolean;
  /** Whether progress may be shown at all (not --no-progress): on a terminal as bars, else as a line log. */
  progress: boolean;
}

/** One CLI command: its yargs definition and the function that runs it. */
export interface FerryCommand<A = Record<string, unknown>> {
  command: string | string[];
  describe: string;
  builder: (y: Argv<GlobalArgs>) => Argv<A>;
  /** Resolves to an exit code when the result is not plain success (7: partial). A command with subcommands and no run of its own needs one of them. */
  run?: (args: A & GlobalArgs, ctx: CommandContext) => Promise<number | void>;
  /** `ferry store ls`, `ferry k8s preload`: each with its own flags and --help. */
  subcommands?: readonly FerryCommand[];
  /** Two or three [command line, what it does] pairs for --help (yargs .example). */
  examples?: ReadonlyArray<readonly [string, string]>;
  /** The docs/ page that explains the command, named at the end of its --help. */
  docs?: string;
}

/** Widens a concrete command for the registry in main.ts. */
export function defineCommand<A>(command: FerryCommand<A>): FerryCommand<Record<string, unknown>> {
  return command as unknown as FerryCommand<Record<string, unknown>>;
}
