import type { Argv } from 'yargs';
import yargs from './yargs.js';
import { UsageError } from '../core/errors.js';
import type { FerryCommand, GlobalArgs } from './command.js';
import { unknownOptionError } from './flag-typos.js';
import { knownFlags, nameOf, type Introspect } from './help-text.js';

// What yargs complains about (an unknown flag or command, a missing argument,
// flag or subcommand), said as a ferry usage error (exit 2): what is wrong, in
// the user's words, and which --help to read.

/** The flags `cmd`'s builder declares (long names and aliases), read from a throwaway parser. */
function flagsOf(cmd: FerryCommand): string[] {
  return knownFlags(cmd.builder(yargs([]) as unknown as Argv<GlobalArgs>));
}

/** yargs' complaint as a usage error: an unknown flag says the nearest known one (or the sibling subcommand that takes it). */
export function usageErrorFor(message: string, argv: readonly string[], commands: readonly FerryCommand[], y: Argv<GlobalArgs> | undefined): UsageError {
  const path = y ? (y as unknown as Introspect).getInternalMethods().getContext().commands : [];
  let siblings = commands;
  let parent: FerryCommand | undefined;
  for (const name of path.slice(0, -1)) {
    parent = siblings.find((c) => nameOf(c) === name);
    siblings = parent?.subcommands ?? [];
  }
  const current = siblings.find((c) => nameOf(c) === path.at(-1));
  const known = y ? knownFlags(y) : [];
  const command = ['ferry', ...path].join(' ');
  const elsewhere = (flag: string): string | undefined => {
    if (!parent || !current) return undefined;
    const owner = siblings.find((s) => s !== current && flagsOf(s).includes(flag));
    return owner ? `ferry ${path.slice(0, -1).join(' ')} ${nameOf(owner)}` : undefined;
  };
  const recommended = /^Did you mean (.+)\?$/.exec(message);
  if (recommended) return new UsageError(`unknown command '${argv.filter((w) => !w.startsWith('-'))[path.length] ?? ''}' (did you mean ${recommended[1]}?)`, { hint: `${command} --help lists the commands` });
  return unknownOptionError(message, { argv, command, known, elsewhere }) ?? missingError(message, command, current) ?? new UsageError(message, { hint: `${command} --help` });
}

/** yargs' "Not enough non-option arguments" / "Missing required argument: output", said as what the command needs. */
function missingError(message: string, command: string, current: FerryCommand | undefined): UsageError | undefined {
  const usage = current ? (Array.isArray(current.command) ? current.command[0]! : (current.command as string)) : '';
  const hint = `${command} --help`;
  const count = /^Not enough non-option arguments: got (\d+), need at least \d+$/.exec(message);
  if (count) {
    const required = [...usage.matchAll(/<([^>]+)>/g)].map((m) => m[0]);
    const missing = required.slice(Number(count[1]));
    return new UsageError(`${command} needs ${missing.length ? missing.join(' ') : 'more arguments'} (usage: ferry ${usage ? `${command.split(' ').slice(1, -1).concat(usage).join(' ')}` : ''})`, { hint });
  }
  const flags = /^Missing required arguments?: (.*)$/.exec(message);
  if (flags) {
    const positionals = new Set([...usage.matchAll(/[<[]([^>\].]+)/g)].map((m) => m[1]));
    return new UsageError(`${command} needs ${flags[1]!.split(', ').map((n) => (positionals.has(n) ? `<${n}>` : `--${n}`)).join(' and ')}`, { hint });
  }
  return undefined;
}
