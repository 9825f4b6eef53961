import type { Argv, MiddlewareFunction } from 'yargs';
import yargs from './yargs.js';
import type { FerryCommand, GlobalArgs } from './command.js';
import { commandNameIn } from './commands/index.js';
import { GLOBAL_OPTIONS } from './global-flags.js';
import { buildWithHelp, GLOBAL_FLAG_KEYS, GLOBAL_GROUP, helpWidth, nameOf, topEpilogue, withCommandList } from './help-text.js';
import { usageErrorFor } from './usage-errors.js';
import { TOOL_VERSION } from './version.js';

// The whole command line through yargs: --help, errors and every form the fast
// parser (fast-argv.ts) leaves alone. Loaded only then: yargs is most of a small command's start-up.

/** yargs calls middleware with the instance of the running command (types say otherwise). */
function lastValueWins(argv: Record<string, unknown>, y: { getOptions(): { array: string[] } }): void {
  const arrays = new Set(y.getOptions().array);
  for (const [key, value] of Object.entries(argv)) if (key !== '_' && Array.isArray(value) && !arrays.has(key)) argv[key] = value.at(-1);
}

export type OnRun = (cmd: FerryCommand, args: Record<string, unknown> & GlobalArgs) => Promise<void>;

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
    .usage('ferry <command> [options]\n\nCarry container images across an air gap: export to a signed bundle, import into a registry, serve.') as unknown as Argv<GlobalArgs>;
  for (const [key, spec] of GLOBAL_OPTIONS) parser = parser.option(key, spec) as unknown as Argv<GlobalArgs>;
  parser = parser
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

/** Parses `argv` with yargs and runs the command it names (or prints the help it asks for). */
export async function parseWithYargs(argv: string[], onRun: OnRun, commands: readonly FerryCommand[]): Promise<void> {
  const parser = buildParser(argv, onRun, commands);
  // `ferry --help`: yargs lists commands flat, ferry by what they are for (help-text.ts).
  if (commandNameIn(argv) === undefined && argv.includes('--help')) {
    process.stdout.write(`${withCommandList(await parser.getHelp(), commands)}\n`);
    return;
  }
  await parser.parseAsync();
}
