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

/** Command lines using every flag of `cmd` the usual ways: alone, repeated, negated, before the command name, in a bunch. */
function linesFor(cmd: FerryCommand, own: ReadonlyArray<readonly [string, Options]>, positionals: string[]): string[][] {
  const name = nameOf(cmd);
  // Positionals, then the flags the command cannot run without.
  const pos = [...positionals.map((p, i) => `${p}-value-${i}.tar`), ...own.filter(([, spec]) => spec.demandOption).flatMap(([key]) => [`--${key}`, `${key}-given`])];
  const usesOf = (options: ReadonlyArray<readonly [string, Options]>) => options.flatMap(([key, spec]): string[][] => {
    const spelled = [key, ...[spec.alias ?? []].flat()].map((n) => (n.length === 1 ? `-${n}` : `--${n}`));
    if (spec.type === 'boolean') return [...spelled.map((s) => [s]), [`--no-${key}`], [`--${key}`, `--no-${key}`]];
    return [...spelled.map((s) => [s, `${key}-a`]), [`--${key}`, `${key}-a`, `--${key}`, `${key}-b`]];
  });
  const globals = usesOf(GLOBAL_OPTIONS);
  const uses = [...globals, ...usesOf(own)];
  return [
    [name, ...pos],
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
    for (const cmd of fast) {
      const shape = flagShape(cmd)!;
      for (const argv of linesFor(cmd, shape.options, shape.positionals)) {
        const mine = parseFast(argv, cmd);
        expect(mine, argv.join(' ')).toBeDefined();
        expect({ argv, args: mine }).toEqual({ argv, args: await viaYargs(argv, cmd) });
      }
    }
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

  it('takes no command whose builder does more than declare plain flags', async () => {
    const commands = await allCommands();
    // import has a .check; export takes variadic references; store has subcommands.
    for (const name of ['import', 'export', 'store']) expect(flagShape(commands.find((c) => nameOf(c) === name)!), name).toBeUndefined();
  });
});
