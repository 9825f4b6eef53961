#!/usr/bin/env node
// Generates docs/cli.md from the yargs definitions the CLI itself runs
// (dist/cli/parser.js buildParser), so the reference cannot drift from the code:
// test/demo/cli-docs.test.ts regenerates it and fails when the file differs.
//
//   node scripts/gen-cli-docs.mjs            writes docs/cli.md (run `npm run docs:cli`, which builds first)
//   node scripts/gen-cli-docs.mjs OUT.md     writes OUT.md
//   node scripts/gen-cli-docs.mjs -          prints to stdout
//
// Each command (and subcommand: ferry store ls, ferry k8s preload) is parsed in
// yargs' help-only mode (builders run, handlers do not), then its options,
// positionals and option groups are read back from yargs and rendered as
// Markdown tables, with the command's examples and docs page.

import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { buildParser } = await import(join(ROOT, 'dist/cli/parser.js'));
const commands = await (await import(join(ROOT, 'dist/cli/commands/index.js'))).allCommands();
const { withRegistryFlags } = await import(join(ROOT, 'dist/cli/registry-flags.js'));
const { GLOBAL_GROUP, OWN_GROUP, REGISTRY_GROUP, TOP_EXAMPLES, groupedCommands, nameOf } = await import(join(ROOT, 'dist/cli/help-text.js'));

const YARGS_STRING = '__yargsString__:';
const noRun = async () => undefined;

/** Parses `path` (e.g. ['export'] or ['k8s', 'preload']) in help-only mode and reads back what yargs knows. */
async function describeCommand(path) {
  const parser = buildParser([...path], noRun, commands).exitProcess(false);
  await parser.getHelp();
  const usage = parser.getInternalMethods().getUsageInstance();
  const descriptions = Object.fromEntries(Object.entries(usage.getDescriptions()).map(([k, v]) => [k, typeof v === 'string' ? v.replace(YARGS_STRING, '') : '']));
  const groups = parser.getGroups();
  const positionals = new Set(Object.entries(groups).filter(([name]) => /^Positionals/.test(name)).flatMap(([, keys]) => keys));
  const usages = usage.getUsage();
  return {
    path,
    usage: usages.length > 0 ? usages[0][0].replace(/^\$0/, 'ferry') : 'ferry',
    options: parser.getOptions(),
    descriptions,
    positionals,
    /** Option groups: the command's own (Options:), any it declared (copy's per-side flags), registry, global. */
    groups: Object.entries(groups).filter(([name]) => !/^Positionals/.test(name)),
  };
}

/** Text safe inside a Markdown table cell: no pipes, newlines, HTML-looking <words> or stray emphasis. */
function escapeCell(text) {
  return String(text).replaceAll('\\', '\\\\').replaceAll('|', '\\|').replaceAll('*', '\\*').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('\n', ' ');
}

function anchor(text) {
  return text.toLowerCase().replace(/[^a-z0-9 -]/g, '').trim().replaceAll(' ', '-');
}

function typeOf(o, key) {
  const base = o.boolean.includes(key) ? 'boolean' : o.number.includes(key) ? 'number' : o.count.includes(key) ? 'count' : 'string';
  if (o.choices[key]) return o.choices[key].map((c) => `\`${c}\``).join(' \\| ');
  return o.array.includes(key) ? `${base}, repeatable` : base;
}

function defaultOf(o, key) {
  if (key in o.demandedOptions) return 'required';
  if (!(key in o.default)) return '';
  const v = o.default[key];
  if (v === false || (Array.isArray(v) && v.length === 0)) return '';
  return `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``;
}

/** Option keys in declaration order, without aliases, hidden ones or `exclude`d ones. */
function optionKeys(cmd, exclude) {
  const o = cmd.options;
  const aliases = new Set(Object.values(o.alias).flat());
  return Object.keys(o.key).filter((k) => !aliases.has(k) && !o.hiddenOptions.includes(k) && !exclude.has(k) && !cmd.positionals.has(k));
}

function flagOf(o, key) {
  const short = (o.alias[key] ?? []).filter((a) => a.length === 1).map((a) => `-${a}`);
  const negatable = o.boolean.includes(key) && o.default[key] === true ? [`--no-${key}`] : [];
  return [...short, `--${key}`, ...negatable].map((f) => `\`${f}\``).join(', ');
}

function optionTable(cmd, keys) {
  const o = cmd.options;
  const rows = keys.map((k) => `| ${flagOf(o, k)} | ${typeOf(o, k)} | ${defaultOf(o, k)} | ${escapeCell(cmd.descriptions[k] ?? '')} |`);
  return ['| option | type | default | description |', '|---|---|---|---|', ...rows].join('\n');
}

function positionalTable(cmd) {
  const required = new Set([...cmd.usage.matchAll(/<([^>.]+)(?:\.\.)?>/g)].map((m) => m[1]));
  const rows = [...cmd.positionals].map((k) => `| \`${k}\` | ${typeOf(cmd.options, k)} | ${required.has(k) ? 'yes' : ''} | ${escapeCell(cmd.descriptions[k] ?? '')} |`);
  return ['| argument | type | required | description |', '|---|---|---|---|', ...rows].join('\n');
}

function exampleBlock(examples) {
  if (!examples?.length) return [];
  return ['Examples:', '', '```sh', ...examples.flatMap(([line, what], i) => [...(i > 0 ? [''] : []), `# ${what}`, line]), '```', ''];
}

async function render() {
  const top = await describeCommand([]);
  const globalKeys = new Set(optionKeys(top, new Set()));
  const probe = withRegistryFlags(yargs([]));
  const registryProbe = probe.getOptions();
  const registryDescriptions = probe.getInternalMethods().getUsageInstance().getDescriptions();
  const registryKeys = Object.keys(registryProbe.key).filter((k) => !globalKeys.has(k) && k !== 'help' && k !== 'version');
  const [summary, ...rest] = top.usage.split('\n\n');
  const out = [
    '# ferry command-line reference',
    '',
    '<!-- GENERATED by scripts/gen-cli-docs.mjs from the yargs definitions in src/cli/. Do not edit by hand: run `npm run docs:cli`. -->',
    '',
    `\`${summary}\``,
    '',
    rest.join('\n\n'),
    '',
    'Every command prints one line (and a hint) on failure and exits with the code of its category: 0 ok, 1 internal error, 2 usage,',
    '3 authentication/authorization, 4 not found, 5 integrity (digest, size, signature, malformed bundle), 6 network,',
    '7 partial (some images failed, the rest were done), 130 interrupted (SIGINT/SIGTERM; rerun the same command to resume).',
    '`ferry COMMAND --help` shows the same as this page: the command\'s own options first, then the registry and global options.',
    '',
  ];
  const sections = [];
  const index = [];
  /** One command's section, then its subcommands'; returns its row for the index. */
  const visit = async (path, command) => {
    const cmd = await describeCommand(path);
    const title = `ferry ${path.join(' ')}`;
    const row = `| [\`${escapeCell(cmd.usage)}\`](#${anchor(title)}) | ${escapeCell(command.describe)} |`;
    const keys = new Set(optionKeys(cmd, globalKeys));
    const groupKeys = (name) => (cmd.groups.find(([n]) => n === name)?.[1] ?? []).filter((k) => keys.has(k));
    const takesRegistry = groupKeys(REGISTRY_GROUP).length > 0;
    const section = [`## ${title}`, '', '```text', cmd.usage, '```', '', escapeCell(command.describe), ''];
    if (cmd.positionals.size > 0) section.push(positionalTable(cmd), '');
    // The command's own options first (as --help shows them), then any group it declared.
    const own = groupKeys(OWN_GROUP);
    if (own.length > 0) section.push(optionTable(cmd, own), '');
    for (const [groupTitle] of cmd.groups) {
      if ([OWN_GROUP, REGISTRY_GROUP, GLOBAL_GROUP].includes(groupTitle)) continue;
      const inGroup = groupKeys(groupTitle);
      if (inGroup.length > 0) section.push(`**${escapeCell(groupTitle.replace(/:$/, ''))}**`, '', optionTable(cmd, inGroup), '');
    }
    const subs = command.subcommands ?? [];
    if (subs.length > 0) section.push(`Subcommands: ${subs.map((c) => `[\`${nameOf(c)}\`](#${anchor(`${title} ${nameOf(c)}`)})`).join(', ')}.`, '');
    section.push(takesRegistry ? 'Also takes the [registry options](#registry-options) and the [global options](#global-options).' : 'Also takes the [global options](#global-options).', '');
    section.push(...exampleBlock(command.examples));
    if (command.docs) section.push(`Full documentation: [${command.docs}](${command.docs.startsWith('docs/') ? command.docs.slice('docs/'.length) : `../${command.docs}`}).`, '');
    sections.push(section.join('\n'));
    const rows = [row];
    for (const sub of subs) rows.push(...(await visit([...path, nameOf(sub)], sub)));
    return rows;
  };
  for (const [groupTitle, cmds] of groupedCommands(commands)) {
    index.push(`**${groupTitle.replace(/:$/, '')}**`, '', '| command | does |', '|---|---|');
    for (const c of cmds) index.push(...(await visit([nameOf(c)], c)));
    index.push('');
  }
  const registryCmd = { options: registryProbe, descriptions: Object.fromEntries(registryKeys.map((k) => [k, String(registryDescriptions[k] ?? '').replace(YARGS_STRING, '')])), positionals: new Set() };
  out.push(
    ...index,
    '',
    exampleBlock(TOP_EXAMPLES).join('\n'),
    '## Global options',
    '',
    'Every command takes these.',
    '',
    optionTable(top, [...globalKeys]),
    '',
    '## Registry options',
    '',
    'Every command that talks to a registry takes these.',
    '',
    optionTable(registryCmd, registryKeys),
    '',
    ...sections,
  );
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

const target = process.argv[2] ?? join(ROOT, 'docs', 'cli.md');
const markdown = await render();
if (target === '-') process.stdout.write(markdown);
else await writeFile(target, markdown);
