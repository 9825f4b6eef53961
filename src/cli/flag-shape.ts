import type { Options, PositionalOptions } from 'yargs';
import type { FerryCommand } from './command.js';

// What a command's builder declares, recorded by running the builder on a
// stand-in for yargs: the fast parser (fast-argv.ts) reads the flags from the
// one definition yargs gets, never from a copy. A builder that does anything
// but declare plain flags, checks and at most a trailing list of positionals
// (a coerce, an optional single positional…) has no shape, and yargs parses its
// command line. A flag of plain keys the fast parser does not read (a list of
// values without `nargs: 1`) and without a default is left out of the shape: a
// line that gives it is yargs' to parse, one that does not is read here.

/** A builder's `.check`: yargs runs it on the parsed arguments; true passes, anything else or a throw refuses them. */
export type ArgsCheck = (args: Record<string, unknown>) => unknown;

export interface FlagShape {
  /** The required positionals, in order. */
  positionals: string[];
  /** A trailing list (`export [refs..]`): every word after the required ones, as yargs gives it. */
  rest?: string;
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

/** `inspect <bundle>` → { required: ['bundle'] }, `export [refs..]` → { required: [], rest: 'refs' }; undefined for any other optional or variadic positional. */
function positionalsOf(command: FerryCommand['command']): { required: string[]; rest?: string } | undefined {
  const words = (Array.isArray(command) ? command[0] : command)?.split(' ').slice(1) ?? [];
  const rest = /^\[([a-z][a-z0-9-]*)\.\.\]$/.exec(words.at(-1) ?? '')?.[1];
  const names = (rest === undefined ? words : words.slice(0, -1)).map((w) => /^<([a-z][a-z0-9-]*)>$/.exec(w)?.[1]);
  if (!names.every((n) => n !== undefined)) return undefined;
  return rest === undefined ? { required: names as string[] } : { required: names as string[], rest };
}

/** A flag the fast parser does not read, whose absence it can still vouch for: plain keys, no default, not demanded. */
function leftToYargs(spec: Options): boolean {
  return Object.keys(spec).every((k) => PLAIN_KEYS.has(k)) && spec.default === undefined && !spec.demandOption;
}

export function flagShape(cmd: FerryCommand): FlagShape | undefined {
  if (cmd.subcommands || !cmd.run) return undefined;
  const shaped = positionalsOf(cmd.command);
  if (!shaped) return undefined;
  const { required: positionals, rest } = shaped;
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
            // Unknown to the fast parser: a line that gives it goes to yargs.
            if (!name.startsWith('no-') && !plainOption(name, spec) && leftToYargs(spec)) return stand;
            plain &&= plainOption(name, spec);
            options.push([name, spec]);
            return stand;
          };
        }
        if (prop === 'positional') {
          return (name: string, spec: PositionalOptions) => {
            const listed = name === rest ? spec.array === true : positionals.includes(name) && !spec.array;
            plain &&= listed && spec.type === 'string' && Object.keys(spec).every((k) => PLAIN_KEYS.has(k));
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
  if (!plain || !positionals.every((p) => declared.has(p)) || (rest !== undefined && !declared.has(rest))) return undefined;
  return rest === undefined ? { positionals, options, checks } : { positionals, rest, options, checks };
}
