import { describe, expect, it } from 'vitest';
import type { Argv } from 'yargs';
import type { GlobalArgs } from '../../src/cli/command.js';
import { unknownOptionError } from '../../src/cli/flag-typos.js';
import { buildParser } from '../../src/cli/parser.js';
import yargs from 'yargs';
import { REGISTRY_FLAG_KEYS, withRegistryFlags } from '../../src/cli/registry-flags.js';
import { ferry } from '../helpers/ferry-cli.js';

// What --help shows (issue 13, item 17): a command's own flags first, the
// registry and global flags after them in their own groups, examples, the docs
// page; store and k8s actions as subcommands with only their own flags; and a
// mistyped flag named with the one that was meant.

/** Where each flag line (`  -o, --output …`, `      --creds …`) first appears in the help text. */
function flagLine(help: string, flag: string): number {
  const at = help.search(new RegExp(`^\\s+(?:-\\w, )?--${flag}\\s`, 'm'));
  expect(at, `--${flag} is not in:\n${help}`).toBeGreaterThanOrEqual(0);
  return at;
}

async function help(...command: string[]): Promise<string> {
  const r = await ferry([...command, '--help']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

describe('ferry COMMAND --help', () => {
  it.each([
    ['export', 'output', 'creds'],
    ['import', 'to', 'creds'],
    ['copy', 'platform', 'retries'],
    ['ls', 'long', 'tls-verify'],
  ])('%s: own flags (--%s) first, then "Registry options:" (--%s), then "Global options:"', async (command, own, registry) => {
    const text = await help(command);
    const registryGroup = text.indexOf('\nRegistry options:\n');
    const globalGroup = text.indexOf('\nGlobal options:\n');
    expect(registryGroup).toBeGreaterThan(0);
    expect(globalGroup).toBeGreaterThan(registryGroup);
    expect(flagLine(text, own)).toBeLessThan(registryGroup);
    expect(flagLine(text, registry)).toBeGreaterThan(registryGroup);
    expect(flagLine(text, registry)).toBeLessThan(globalGroup);
    for (const global of ['store', 'json', 'quiet', 'debug']) expect(flagLine(text, global)).toBeGreaterThan(globalGroup);
  });

  it('a flag a command adds after the shared ones, without a group, is still among its own', async () => {
    const probe = {
      command: 'probe',
      describe: 'a command as another helper might add one',
      builder: (y: Argv<GlobalArgs>) => withRegistryFlags(y).option('late-flag', { type: 'boolean', describe: 'added last' }),
      run: async () => undefined,
    };
    const text = await buildParser(['probe'], async () => undefined, [probe as never]).exitProcess(false).getHelp();
    expect(flagLine(text, 'late-flag')).toBeLessThan(text.indexOf('\nRegistry options:\n'));
  });

  it('REGISTRY_FLAG_KEYS is every flag withRegistryFlags declares (a new one joins the "Registry options:" group)', () => {
    const declared = Object.keys((withRegistryFlags(yargs([])) as unknown as { getOptions(): { key: Record<string, unknown> } }).getOptions().key);
    expect(declared.filter((k) => k !== 'help' && k !== 'version').sort()).toEqual([...REGISTRY_FLAG_KEYS].sort());
  });

  it('a command without registry flags: own flags, then the global ones', async () => {
    const text = await help('keygen');
    expect(flagLine(text, 'output')).toBeLessThan(text.indexOf('\nGlobal options:\n'));
    expect(text).not.toContain('Registry options:');
  });

  it('examples and the docs page of every command', async () => {
    for (const command of [['export'], ['verify'], ['store', 'gc'], ['k8s', 'preload'], ['serve']]) {
      const text = await help(...command);
      const examples = text.slice(text.indexOf('\nExamples:\n'));
      expect(examples.length, `${command.join(' ')} has no examples`).toBeGreaterThan(20);
      expect(examples.match(new RegExp(`^  ferry ${command.join(' ')}\\b`, 'gm'))?.length ?? 0).toBeGreaterThanOrEqual(2);
      expect(text).toMatch(/^Full documentation: (docs\/[\w-]+\.md|README\.md)$/m);
    }
  });
});

describe('subcommands', () => {
  it('k8s preload --help lists preload\'s flags and none of rewrite\'s or mirror-config\'s', async () => {
    const text = await help('k8s', 'preload');
    expect(text).toMatch(/^ferry k8s preload <bundle>/);
    for (const flag of ['key', 'platform', 'namespace', 'pin', 'dry-run']) flagLine(text, flag);
    for (const other of ['pin-digests', 'in-place', 'store-names', 'upstream', 'config-path', 'skip-verify']) expect(text).not.toMatch(new RegExp(`--${other}\\b`));
  });

  it('store --help lists its subcommands with what each does', async () => {
    const text = await help('store');
    for (const sub of ['ls [ref]', 'usage', 'gc', 'prune', 'rm <ref>', 'verify']) expect(text).toMatch(new RegExp(`^  ferry store ${sub.replace(/[[\]]/g, '\\$&')}\\s+\\w`, 'm'));
  });

  it('ferry --help groups the commands, each with one line, and ends with examples', async () => {
    const text = await help();
    const carry = text.indexOf('Carry images across the gap:\n  export ');
    const site = text.indexOf('Look after a site registry:\n  ls ');
    expect(carry).toBeGreaterThan(0);
    expect(site).toBeGreaterThan(carry);
    expect(text.indexOf('\nGlobal options:\n')).toBeGreaterThan(site);
    expect(text).toMatch(/^Kubernetes:\n {2}k8s /m);
    expect(text).toMatch(/^Examples:\n {2}# .*\n {2}ferry export /m);
  });
});

describe('a mistyped flag', () => {
  it('says the flag as typed and the nearest one, exit 2', async () => {
    const r = await ferry(['export', '--platfrom', 'linux/amd64', 'nginx:1.25', '-o', 'x.tar']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('ferry: error: unknown option --platfrom (did you mean --platform?)');
  });

  it('a flag of a sibling subcommand says whose it is', async () => {
    const r = await ferry(['store', 'gc', '--untagged']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ferry store gc does not take --untagged (it is an option of ferry store prune)');
  });

  it('as typed: a negated flag, a one-letter flag, yargs\' camelCase twin, a stray argument', () => {
    const known = ['with-referrers', 'dry-run', 'long', 'l', 'platform'];
    const say = (argv: string[], message: string) => unknownOptionError(message, { argv, command: 'ferry x', known })?.message;
    expect(say(['--no-with-referers'], 'Unknown argument: with-referers')).toBe('unknown option --no-with-referers (did you mean --no-with-referrers?)');
    expect(say(['-L'], 'Unknown argument: L')).toBe('unknown option -L (did you mean -l?)');
    expect(say(['-Z'], 'Unknown argument: Z')).toBe('unknown option -Z');
    expect(say(['--dry-rn'], 'Unknown arguments: dry-rn, dryRn')).toBe('unknown option --dry-rn (did you mean --dry-run?)');
    expect(say(['a', 'b'], 'Unknown argument: b')).toBe("unexpected argument 'b'");
    expect(say([], 'Not enough non-option arguments: got 0, need at least 1')).toBeUndefined();
  });

  it('a missing argument or subcommand is named', async () => {
    const rm = await ferry(['store', 'rm']);
    expect(rm.code).toBe(2);
    expect(rm.stderr).toContain('ferry store rm needs <ref> (usage: ferry store rm <ref>)');
    const store = await ferry(['store']);
    expect(store.code).toBe(2);
    expect(store.stderr).toContain('ferry store needs a subcommand: ls, usage, gc, prune, rm, verify');
  });

  it('a mistyped command', async () => {
    const r = await ferry(['exprot', 'nginx:1.25']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'exprot' (did you mean export?)");
  });
});
