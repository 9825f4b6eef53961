import type { Options } from 'yargs';
import type { FerryCommand, GlobalArgs } from './command.js';
import { flagShape } from './flag-shape.js';
import { GLOBAL_OPTIONS } from './global-flags.js';

// The usual command line (`ferry inspect B.tar --key site.pub --json`) parsed
// without yargs, which costs a small inspect most of its start-up: loading it,
// building the parser and parsing (docs/performance.md, start-up). Only what
// this parser reads exactly as yargs would: the command's own flags as its
// builder declares them (flag-shape.ts), `--flag VALUE` (a string, one of its
// choices, a plain decimal number), `--flag`, `--no-flag` for a boolean, the
// single-letter aliases, the builder's checks (one that refuses: yargs says
// why), the last value of a flag given twice; the command's own flags after
// its name. Anything else — --help, --version, a typo, `--flag=VALUE`, `--`, a
// lone `true`/`false` (yargs may take it as a boolean's value), a value that
// starts with `-`, a missing or extra positional — gives undefined, and yargs
// parses the line with its own messages. test/cli/fast-argv.test.ts checks
// that both parsers give a command the same arguments.

type Args = Record<string, unknown> & GlobalArgs;

const camel = (key: string): string => key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const aliasesOf = (spec: Options): readonly string[] => (spec.alias === undefined ? [] : typeof spec.alias === 'string' ? [spec.alias] : spec.alias);

/** Each spelling of each flag (`--store`, `-q`, `--no-json`) → its key and whether it sets false. */
interface Spelling {
  key: string;
  spec: Options;
  negated: boolean;
  /** A command's own flag: yargs knows it only after the command's name. */
  own: boolean;
}

function spellings(options: ReadonlyArray<readonly [string, Options, boolean]>): Map<string, Spelling> {
  const out = new Map<string, Spelling>();
  for (const [key, spec, own] of options) {
    for (const name of [key, ...aliasesOf(spec)]) {
      const flag = name.length === 1 ? `-${name}` : `--${name}`;
      out.set(flag, { key, spec, negated: false, own });
      if (spec.type === 'boolean' && name.length > 1) out.set(`--no-${name}`, { key, spec, negated: true, own });
    }
  }
  return out;
}

/** The arguments yargs would hand `cmd.run` for `argv`, or undefined where yargs must parse it. */
export function parseFast(argv: readonly string[], cmd: FerryCommand): Args | undefined {
  const shape = flagShape(cmd);
  if (!shape) return undefined;
  const name = (Array.isArray(cmd.command) ? cmd.command[0] : cmd.command)?.split(' ')[0];
  const options = [...GLOBAL_OPTIONS, ...shape.options];
  const flags = spellings([...GLOBAL_OPTIONS.map(([k, s]) => [k, s, false] as const), ...shape.options.map(([k, s]) => [k, s, true] as const)]);
  const given = new Map<string, unknown[]>();
  const positionals: string[] = [];
  let named = false;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === 'true' || word === 'false') return undefined;
    if (!word.startsWith('-')) {
      if (named) positionals.push(word);
      else if (word === name) named = true;
      else return undefined;
      continue;
    }
    const flag = flags.get(word);
    if (!flag || (flag.own && !named)) return undefined;
    let value: unknown = !flag.negated;
    if (flag.spec.type !== 'boolean') {
      const next = argv[++i];
      if (next === undefined || next.startsWith('-') || next === 'true' || next === 'false') return undefined;
      value = readValue(next, flag.spec);
      if (value === undefined) return undefined;
    }
    given.set(flag.key, [...(given.get(flag.key) ?? []), value]);
  }
  const required = shape.positionals.length;
  if (!named || positionals.length < required || (shape.rest === undefined && positionals.length > required)) return undefined;
  const args: Record<string, unknown> = { _: [name], $0: 'ferry' };
  const set = (key: string, value: unknown): void => {
    args[key] = value;
    // yargs' camel-case copy of an array flag is not among its arrays, so lastValueWins (parser.ts) keeps its last value.
    args[camel(key)] = Array.isArray(value) && camel(key) !== key ? value.at(-1) : value;
  };
  for (const [key, spec] of options) {
    const values = given.get(key);
    // A single-valued flag given twice: the last one wins (main.ts, lastValueWins).
    const value = values === undefined ? spec.default : spec.array ? values : values.at(-1);
    if (value === undefined) {
      if (spec.demandOption) return undefined;
      continue;
    }
    for (const k of [key, ...aliasesOf(spec)]) set(k, value);
  }
  shape.positionals.forEach((p, i) => set(p, positionals[i]));
  if (shape.rest !== undefined) set(shape.rest, positionals.slice(required));
  // The builder's checks, as yargs runs them: one that refuses leaves the line to yargs, which says why.
  for (const check of shape.checks) {
    try {
      if (check(args) !== true) return undefined;
    } catch {
      return undefined;
    }
  }
  return args as Args;
}

/** A flag's value as yargs reads it: a string, one of the choices, or a plain decimal number; undefined when unsure. */
function readValue(word: string, spec: Options): unknown {
  if (spec.choices !== undefined) return [spec.choices].flat().includes(word) ? word : undefined;
  if (spec.type === 'number') return /^(0|[1-9][0-9]{0,8})$/.test(word) ? Number(word) : undefined;
  return word;
}
