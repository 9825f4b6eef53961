import type { Options, PositionalOptions } from 'yargs';
import type { FerryCommand } from './command.js';

// What a command's builder declares, recorded by running the builder on a
// stand-in for yargs: the fast parser (fast-argv.ts) reads the flags from the
// one definition yargs gets, never from a copy. A builder that does anything
// but declare plain flags (a .check, a number, a variadic or optional
// positional, a coerce…) has no shape, and yargs parses its command line.

/** A builder's `.check`: yargs runs it on the parsed arguments; true passes, anything else or a throw refuses them. */
export type ArgsCheck = (args: Record<string, unknown>) => unknown;

export interface FlagShape {
  /** The required positionals, in order. */
  positionals: string[];
  options: Array<readonly [string, Options]>;
  /** The builder's checks, run by the fast parser as yargs would run them. */
  checks: ArgsCheck[];
}

/** Keys of an option this parser reads as yargs does; any other key (coerce, conflicts…) leaves the command to yargs. */
const PLAIN_KEYS = new Set(['type', 'describe', 'description', 'default', 'array', 'nargs', 'alias', 'demandOption', 'hidden', 'global', 'defaultDescription', 'choices']);
/** Builder calls that only shape --help. */
const HELP_ONLY = new Set(['example', 'epilogue', 'usage', 'group']);

function plainOption(name: string, spec: Options): boolean {
  if (name.startsWith('no-') || !Object.keys(spec).every((k) => PLAIN_KEYS.has(k))) return false;
  // One of a few words (`--foreign-layers preserve`): read as a string, and only a listed one.
  if (spec.choices !== undefined) return (spec.type === undefined || spec.type === 'string') && !spec.array && spec.nargs === undefined && [spec.choices].flat().every((c) => typeof c === 'string');
  if (spec.type === 'boolean') return !spec.array && spec.default !== undefined;
  // A number (`--concurrency 8`): the fast parser reads plain decimal integers only.
  if (spec.type === 'number') return !spec.array && spec.nargs === undefined;
  if (spec.type !== 'string') return false;
  return spec.array ? spec.nargs === 1 : spec.nargs === undefined || spec.nargs === 1;
}

/** `inspect <bundle>` → ['bundle']; undefined for optional (`[x]`) or variadic (`<x..>`) positionals. */
function requiredPositionals(command: FerryCommand['command']): string[] | undefined {
  const words = (Array.isArray(command) ? command[0] : command)?.split(' ').slice(1) ?? [];
  const names = words.map((w) => /^<([a-z][a-z0-9-]*)>$/.exec(w)?.[1]);
  return names.every((n) => n !== undefined) ? (names as string[]) : undefined;
}

export function flagShape(cmd: FerryCommand): FlagShape | undefined {
  if (cmd.subcommands || !cmd.run) return undefined;
  const positionals = requiredPositionals(cmd.command);
  if (!positionals) return undefined;
  const options: Array<readonly [string, Options]> = [];
  const checks: ArgsCheck[] = [];
  let plain = true;
  const declared = new Set<string>();
  const stand: object = new Proxy(
    {},
    {
      get(_, prop) {
        if (prop === 'option') {
          return (name: string, spec: Options) => {
            plain &&= plainOption(name, spec);
            options.push([name, spec]);
            return stand;
          };
        }
        if (prop === 'positional') {
          return (name: string, spec: PositionalOptions) => {
            plain &&= positionals.includes(name) && spec.type === 'string' && Object.keys(spec).every((k) => PLAIN_KEYS.has(k));
            declared.add(name);
            return stand;
          };
        }
        if (prop === 'check') {
          return (check: ArgsCheck, ...rest: unknown[]) => {
            plain &&= rest.length === 0;
            checks.push(check);
            return stand;
          };
        }
        if (typeof prop === 'string' && HELP_ONLY.has(prop)) return () => stand;
        plain = false;
        return () => stand;
      },
    },
  );
  try {
    cmd.builder(stand as Parameters<FerryCommand['builder']>[0]);
  } catch {
    return undefined;
  }
  return plain && positionals.every((p) => declared.has(p)) ? { positionals, options, checks } : undefined;
}
