import { describe, expect, it } from 'vitest';
import type { Options } from 'yargs';
import type { FerryCommand } from '../../src/cli/command.js';
import { allCommands } from '../../src/cli/commands/index.js';
import { parseFast } from '../../src/cli/fast-argv.js';
import { flagShape } from '../../src/cli/flag-shape.js';
import { GLOBAL_OPTIONS } from '../../src/cli/global-flags.js';
import { buildParser } from '../../src/cli/parser.js';

// The fast parser (cli/fast-argv.ts) runs a command without yargs; it must hand
// the command exactly what yargs would, or leave the line to yargs.

async function viaYargs(argv: string[], cmd: FerryCommand): Promise<Record<string, unknown>> {
  let got: Record<string, unknown> | undefined;
  const parser = buildParser(argv, async (_, args) => void (got = { ...args }), [cmd]).exitProcess(false);
  await parser.parseAsync();
  if (!got) throw new Error(`yargs ran nothing for ${argv.join(' ')}`);
  return got;
}

const nameOf = (cmd: FerryCommand): string => [cmd.command].flat()[0]!.split(' ')[0]!;

/** What a command's checks want on every line (import: where the images go). */
const CHECKED: Record<string, string[]> = { import: ['--to', 'registry.example/mirror'] };

/** Two values of a flag: words, two of its choices, or numbers. */
function valuesOf(key: string, spec: Options): [string, string] {
  if (spec.choices !== undefined) {
    const choices = [spec.choices].flat().map(String);
    return [choices[0]!, choices.at(-1)!];
  }
  return spec.type === 'number' ? ['3', '12'] : [`${key}-a`, `${key}-b`];
}

/** Command lines using every flag of `cmd` the usual ways: alone, repeated, negated, before the command name, in a bunch. */
function linesFor(cmd: FerryCommand, own: ReadonlyArray<readonly [string, Options]>, positionals: string[], rest?: string): string[][] {
  const name = nameOf(cmd);
  // Positionals (a trailing list: two words), then the flags the command cannot run without.
  const listed = rest === undefined ? [] : [`${rest}-a:1`, `${rest}-b@sha256:0`];
  const pos = [...positionals.map((p, i) => `${p}-value-${i}.tar`), ...listed, ...own.filter(([, spec]) => spec.demandOption).flatMap(([key]) => [`--${key}`, `${key}-given`]), ...(CHECKED[name] ?? [])];
  const usesOf = (options: ReadonlyArray<readonly [string, Options]>) => options.flatMap(([key, spec]): string[][] => {
    const spelled = [key, ...[spec.alias ?? []].flat()].map((n) => (n.length === 1 ? `-${n}` : `--${n}`));
    if (spec.type === 'boolean') return [...spelled.map((s) => [s]), [`--no-${key}`], [`--${key}`, `--no-${key}`]];
    const [a, b] = valuesOf(key, spec);
    return [...spelled.map((s) => [s, a]), [`--${key}`, a, `--${key}`, b]];
  });
  const unlisted = pos.filter((w) => !listed.includes(w));
  const globals = usesOf(GLOBAL_OPTIONS);
  const uses = [...globals, ...usesOf(own)];
  return [
    [name, ...pos],
    // A trailing list given no word, and given its words after the flags.
    ...(rest === undefined ? [] : [[name, ...unlisted], [name, ...unlisted, ...uses.flat(), ...listed]]),
    ...uses.map((use) => [name, ...pos, ...use]),
    // Before the command's name yargs knows only the global flags.
    ...globals.map((use) => [...use, name, ...pos]),
    ...uses.map((use) => [name, ...use, ...pos]),
    [name, ...pos, ...uses.flat()],
  ];
}

describe('the fast command-line parser', () => {
  it('gives every command it takes what yargs gives it, for every flag the usual ways', async () => {
    const fast = (await allCommands()).filter((c) => flagShape(c));
    // At least the two whose start-up matters most.
    expect(fast.map(nameOf)).toEqual(expect.arrayContaining(['inspect', 'verify']));
    expect(fast.map(nameOf)).toContain('import');
    expect(fast.map(nameOf)).toContain('export');
    for (const cmd of fast) {
      const shape = flagShape(cmd)!;
      for (const argv of linesFor(cmd, shape.options, shape.positionals, shape.rest)) {
        const mine = parseFast(argv, cmd);
        // A line the command's checks refuse (import --to X --to-store) is yargs' to refuse, with its message.
        const theirs = await viaYargs(argv, cmd).catch((err: unknown) => err as Error);
        if (theirs instanceof Error) expect(mine, `${argv.join(' ')}: yargs says ${theirs.message}`).toBeUndefined();
        else expect({ argv, args: mine }).toEqual({ argv, args: theirs });
      }
    }
  });

  it('leaves to yargs a value it would read otherwise or refuse: not one of the choices, not a plain number', async () => {
    const importCmd = (await allCommands()).find((c) => nameOf(c) === 'import')!;
    const left = [
      ['import', 'b.tar', '--to', 'r.example', '--foreign-layers', 'drop'],
      ['import', 'b.tar', '--to', 'r.example', '--foreign-layers', '5'],
      ['import', 'b.tar', '--to', 'r.example', '--concurrency', 'many'],
      ['import', 'b.tar', '--to', 'r.example', '--concurrency', '0x10'],
      ['import', 'b.tar', '--to', 'r.example', '--concurrency', '-1'],
      ['import', 'b.tar', '--to', 'r.example', '--retries', '1.5'],
      ['import', 'b.tar'],
      ['import', 'b.tar', '--to', 'r.example', '--to-store'],
    ];
    for (const argv of left) expect(parseFast(argv, importCmd), argv.join(' ')).toBeUndefined();
  });

  it('keeps number-like and empty values strings, as yargs does for string flags and positionals', async () => {
    const commands = await allCommands();
    const lines = [
      ['inspect', '1', '--key', '5'],
      ['inspect', '1e3', '--store', '7'],
      ['inspect', '', '--store', ''],
      ['verify', '0x10', '--volume', '001', '--volume', '2'],
    ];
    for (const argv of lines) {
      const cmd = commands.find((c) => nameOf(c) === argv[0])!;
      expect({ argv, args: parseFast(argv, cmd) }).toEqual({ argv, args: await viaYargs(argv, cmd) });
    }
  });

  it('leaves to yargs what it is not sure to read the same way', async () => {
    const inspect = (await allCommands()).find((c) => nameOf(c) === 'inspect')!;
    const left = [
      ['inspect', 'b.tar', '--help'],
      ['inspect', 'b.tar', '--version'],
      ['inspect'],
      ['inspect', 'a.tar', 'b.tar'],
      ['b.tar', 'inspect'],
      ['--key', 'k.pub', 'inspect', 'b.tar'],
      ['inspect', 'b.tar', '--key=k.pub'],
      ['inspect', 'b.tar', '--key'],
      ['inspect', 'b.tar', '--key', '-k.pub'],
      ['inspect', 'b.tar', '--json', 'false'],
      ['inspect', 'b.tar', '--store', 'true'],
      ['inspect', 'b.tar', '--kye', 'k.pub'],
      ['inspect', 'b.tar', '--requireSignature'],
      ['inspect', 'b.tar', '-qj'],
      ['inspect', '--', 'b.tar'],
    ];
    for (const argv of left) expect(parseFast(argv, inspect), argv.join(' ')).toBeUndefined();
  });

  it('takes no command whose builder does more than declare plain flags and checks', async () => {
    const commands = await allCommands();
    // store has subcommands.
    for (const name of ['store']) expect(flagShape(commands.find((c) => nameOf(c) === name)!), name).toBeUndefined();
  });

  it('leaves to yargs an export that gives a flag it does not read (--with-ferry, a list without nargs: 1)', async () => {
    const exportCmd = (await allCommands()).find((c) => nameOf(c) === 'export')!;
    const left = [
      ['export', 'a:1', '-o', 'b.tar', '--with-ferry'],
      ['export', 'a:1', '-o', 'b.tar', '--with-ferry', 'r.tar', 'c:2'],
      ['export', '-o', 'b.tar', '--with-ferry=r.tar'],
      ['export', 'a:1'],
    ];
    for (const argv of left) expect(parseFast(argv, exportCmd), argv.join(' ')).toBeUndefined();
    // The bench's line: a spec, no references.
    const line = ['export', '-f', 'mix.json', '-o', 'mix.tar', '--plain-http', '--store', 's', '--no-progress'];
    expect({ line, args: parseFast(line, exportCmd) }).toEqual({ line, args: await viaYargs(line, exportCmd) });
  });
});
