import { describe, expect, it } from 'vitest';
import { allCommands, commandsFor } from '../../src/cli/commands/index.js';

// Only the command being run is loaded (its layers cost time and memory); help and
// typos see every command.

const names = async (argv: string[]) => (await commandsFor(argv)).map((c) => String(c.command).split(' ')[0]);

describe('command loading', () => {
  it('loads just the named command, skipping the values of global flags', async () => {
    expect(await names(['export', 'nginx', '-o', 'x'])).toEqual(['export']);
    expect(await names(['--store', 'import', '--json', 'verify', 'b.tar'])).toEqual(['verify']);
    expect(await names(['--trace', 't.jsonl', 'k8s', 'rewrite'])).toEqual(['k8s']);
  });

  it('loads every command for help, an unknown word or nothing', async () => {
    const all = (await allCommands()).map((c) => String(c.command).split(' ')[0]);
    expect(all).toHaveLength(17);
    expect(new Set(all).size).toBe(17);
    expect(await names(['--help'])).toEqual(all);
    expect(await names(['exprot'])).toEqual(all);
    expect(await names([])).toEqual(all);
  });

  it('loads no command for a bare --version, and it still prints the version', async () => {
    expect(await names(['--version'])).toEqual([]);
    expect((await names(['--version', '--help'])).length).toBe(17);
    const { execFileSync } = await import('node:child_process');
    const { readFileSync } = await import('node:fs');
    const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
    expect(execFileSync(process.execPath, ['bin/ferry.js', '--version'], { encoding: 'utf8' }).trim()).toBe(version);
  });
});
