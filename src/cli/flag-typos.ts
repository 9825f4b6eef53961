import { UsageError } from '../core/errors.js';

// yargs (strict) says "Unknown argument: platfrom" for a mistyped flag. ferry
// says which flag, as typed, and the nearest one the command takes:
// "unknown option --platfrom (did you mean --platform?)".

/** The words of yargs' "Unknown argument(s): a, b" message; undefined for any other message. */
export function unknownArguments(message: string): string[] | undefined {
  const m = /^Unknown arguments?: (.*)$/.exec(message);
  return m ? m[1]!.split(', ').filter(Boolean) : undefined;
}

/** Edit distance (insert, delete, substitute, swap two neighbours). */
export function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The known flag nearest to `typed`, if it is near enough to be what was meant. */
export function nearestFlag(typed: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const flag of known) {
    const dist = distance(typed, flag);
    if (dist < bestDistance) [best, bestDistance] = [flag, dist];
  }
  return bestDistance <= Math.max(1, Math.min(3, Math.floor(typed.length / 3))) ? best : undefined;
}

/** How the word was typed on the command line: `--platfrom`, `-x`, or a stray positional. */
function asTyped(word: string, argv: readonly string[]): string {
  for (const prefix of ['--', '--no-', '-']) {
    if (argv.some((a) => a === `${prefix}${word}` || a.startsWith(`${prefix}${word}=`))) return `${prefix}${word}`;
  }
  return word;
}

export interface UnknownContext {
  /** The command line as given. */
  argv: readonly string[];
  /** `ferry k8s rewrite`: how the running command is named. */
  command: string;
  /** Every flag the running command takes (long names and aliases). */
  known: readonly string[];
  /** A flag of a sibling subcommand → that subcommand's name (`ferry k8s preload`). */
  elsewhere?: (flag: string) => string | undefined;
}

/** The usage error for yargs' "Unknown argument" message, or undefined when `message` is not one. */
export function unknownOptionError(message: string, ctx: UnknownContext): UsageError | undefined {
  const words = unknownArguments(message);
  if (!words) return undefined;
  // yargs also names the camelCase twin of a dashed flag (dry-rn, dryRn): keep the one typed.
  const twins = new Set(words.filter((w) => w.includes('-')).map((w) => w.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())));
  const typed = [...new Set(words.filter((w) => !twins.has(w)).map((w) => asTyped(w, ctx.argv)))];
  const said = typed.map((word) => {
    if (!word.startsWith('-')) return `unexpected argument '${word}'`;
    const negated = word.startsWith('--no-');
    const name = word.replace(/^--?(no-)?/, '');
    const owner = ctx.elsewhere?.(name);
    if (owner) return `${ctx.command} does not take ${word} (it is an option of ${owner})`;
    // One letter: only the other case is a likely slip (-L for -l); any letter is one edit from any other.
    const near = name.length === 1 ? ctx.known.find((k) => k !== name && k.toLowerCase() === name.toLowerCase()) : nearestFlag(name, ctx.known);
    return `unknown option ${word}${near ? ` (did you mean ${near.length === 1 ? '-' : negated ? '--no-' : '--'}${near}?)` : ''}`;
  });
  return new UsageError(said.join('; '), { hint: `${ctx.command} --help lists its options` });
}
