import type { Argv } from 'yargs';
import type { FerryCommand, GlobalArgs } from './command.js';
import { wrapWords } from './output.js';
import { REGISTRY_FLAG_KEYS } from './registry-flag-keys.js';

// What --help shows: the command's own flags first, then the registry and
// global flags each in their own group (as crane's "Flags:" / "Global Flags:"),
// examples, and the docs page. Applied to every command here, so a flag a
// command adds without a group still lands among its own.

export const OWN_GROUP = 'Options:';
export const REGISTRY_GROUP = 'Registry options:';
export const GLOBAL_GROUP = 'Global options:';
/** yargs' own group for positionals (declared first so it stays first). */
const POSITIONALS_GROUP = 'Positionals:';

/** The flags every command takes (main.ts declares them), --help and --version included. */
export const GLOBAL_FLAG_KEYS = ['store', 'json', 'quiet', 'progress', 'debug', 'trace', 'help', 'version'] as const;

/** Runs `cmd`'s builder, then sorts its flags into the groups above and adds its examples and docs line. */
export function buildWithHelp(cmd: FerryCommand, y: Argv<GlobalArgs>): Argv<unknown> {
  // Groups show in the order they were first declared: positionals, own flags, then whatever the builder groups.
  const built = cmd.builder(y.group([], POSITIONALS_GROUP).group([], OWN_GROUP)) as unknown as Argv<unknown>;
  // The usage line and description yargs would write, written here: top-level commands are hidden from its flat list.
  const internal = (built as unknown as Introspect).getInternalMethods();
  const usage = internal.getUsageInstance();
  if (usage.getUsage().length === 0) usage.usage(`$0 ${[...internal.getContext().commands.slice(0, -1), commandString(cmd)].join(' ')}`, cmd.describe);
  const options = (built as unknown as Introspect).getOptions();
  const aliases = new Set(Object.values(options.alias).flat());
  const grouped = new Set(Object.values((built as unknown as Introspect).getGroups()).flat());
  const globals = new Set<string>(GLOBAL_FLAG_KEYS);
  const registry = new Set<string>(REGISTRY_FLAG_KEYS);
  const keys = Object.keys(options.key).filter((k) => !aliases.has(k) && !grouped.has(k) && !globals.has(k));
  // Only a command that takes the whole set has registry flags: k8s mirror-config's --ca-cert is its own.
  const takesRegistry = REGISTRY_FLAG_KEYS.every((k) => keys.includes(k));
  const own = keys.filter((k) => !takesRegistry || !registry.has(k));
  const reg = takesRegistry ? keys.filter((k) => registry.has(k)) : [];
  // yargs makes options global unless told: a parent's flags (serve's --addr) must not reach its subcommands.
  let out = (built as unknown as { global(keys: string[], global: boolean): Argv<unknown> }).global([...own, ...reg], false).group(own, OWN_GROUP);
  if (reg.length > 0) out = out.group(reg, REGISTRY_GROUP);
  const epilogue = [examplesText(cmd.examples ?? []), cmd.docs ? `Full documentation: ${cmd.docs}` : ''].filter(Boolean).join('\n\n');
  return epilogue ? out.epilogue(epilogue) : out;
}

/**
 * Examples as crane and kubectl print them, what it does above the command
 * line: real command lines are too long for yargs' two-column .example().
 */
export function examplesText(examples: ReadonlyArray<readonly [string, string]>): string {
  if (examples.length === 0) return '';
  const width = helpWidth() - 5;
  return ['Examples:', ...examples.flatMap(([line, what], i) => [...(i > 0 ? [''] : []), `  # ${wrap(what, width, 0).replaceAll('\n', '\n  # ')}`, `  ${line}`])].join('\n');
}

/** The top-level command list, by what the commands are for (yargs has one flat list). */
const COMMAND_GROUPS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['Carry images across the gap:', ['export', 'import', 'verify', 'inspect', 'copy']],
  ['Look after a site registry:', ['ls', 'rm', 'prune', 'login', 'logout', 'doctor']],
  ['Serve the store as a registry:', ['serve']],
  ['The local store:', ['store']],
  ['Kubernetes:', ['k8s']],
];
const OTHER_GROUP = 'Other:';

export const TOP_EXAMPLES: ReadonlyArray<readonly [string, string]> = [
  ['ferry export nginx:1.25 --sign site.key -o nginx.tar', 'pull an image and write a signed bundle'],
  ['ferry verify nginx.tar --key site.pub', 'check the bundle on the far side before anything else'],
  ['ferry import nginx.tar --key site.pub --to registry.local:5000', 'push it into the site registry'],
  ['ferry serve --addr 0.0.0.0:5000 --users users.json', 'or serve the store as a registry'],
  ['ferry export --help', 'the flags and examples of one command'],
];

/** What a yargs instance offers that its types do not declare. */
export interface Introspect {
  getOptions(): { key: Record<string, unknown>; alias: Record<string, string[]> };
  getGroups(): Record<string, string[]>;
  getInternalMethods(): {
    getUsageInstance(): { getUsage(): unknown[]; usage(msg: string, description: string): unknown };
    getContext(): { commands: string[] };
  };
}

/** Every flag a parser knows: long names and aliases. */
export function knownFlags(y: unknown): string[] {
  const o = (y as Introspect).getOptions();
  return [...Object.keys(o.key), ...Object.values(o.alias).flat()];
}

function commandString(cmd: FerryCommand): string {
  return Array.isArray(cmd.command) ? cmd.command[0]! : (cmd.command as string);
}

export function nameOf(cmd: FerryCommand): string {
  return commandString(cmd).split(' ')[0]!;
}

/** Wraps `text` to `width` columns, every line after the first indented by `indent`. */
function wrap(text: string, width: number, indent: number): string {
  return wrapWords(text, width).join(`\n${' '.repeat(indent)}`);
}

/** The commands under their group titles (also docs/cli.md's index); commands no group names go under "Other:". */
export function groupedCommands(commands: readonly FerryCommand[]): Array<[string, FerryCommand[]]> {
  const byName = new Map(commands.map((c) => [nameOf(c), c]));
  const listed = new Set(COMMAND_GROUPS.flatMap(([, names]) => names));
  const groups: Array<[string, FerryCommand[]]> = COMMAND_GROUPS.map(([title, names]) => [title, names.flatMap((n) => byName.get(n) ?? [])]);
  groups.push([OTHER_GROUP, commands.filter((c) => !listed.has(nameOf(c)))]);
  return groups.filter(([, cmds]) => cmds.length > 0);
}

/** `ferry --help`'s command list, grouped, one line (wrapped) per command. */
export function commandList(commands: readonly FerryCommand[], width: number): string {
  const column = Math.max(...commands.map((c) => nameOf(c).length)) + 4;
  return groupedCommands(commands)
    .map(([title, cmds]) => [title, ...cmds.map((c) => `  ${nameOf(c).padEnd(column - 2)}${wrap(c.describe, Math.max(40, width - column - 1), column)}`)].join('\n'))
    .join('\n\n');
}

/** The width help is wrapped to: the terminal's, at most 120. */
export function helpWidth(): number {
  return process.stdout.isTTY ? Math.min(120, process.stdout.columns) : 120;
}

/** yargs' top-level help with the grouped command list put before the global options. */
export function withCommandList(help: string, commands: readonly FerryCommand[], width = helpWidth()): string {
  const at = help.indexOf(`\n${GLOBAL_GROUP}`);
  const list = `${commandList(commands, width)}\n`;
  return at < 0 ? `${help}\n\n${list}` : `${help.slice(0, at + 1)}${list}${help.slice(at)}`;
}

/** Examples for `ferry --help` (the epilogue: yargs puts .example() above the options). */
export function topEpilogue(): string {
  return [examplesText(TOP_EXAMPLES), 'ferry COMMAND --help shows a command in full; docs/cli.md is the reference of every command.'].join('\n\n');
}
