import type { Options } from 'yargs';

// The flags every command takes (design §5), declared once: main's yargs
// parser registers them, and the fast parser (fast-argv.ts) reads the same table.
export const GLOBAL_OPTIONS: ReadonlyArray<readonly [string, Options]> = [
  ['store', { type: 'string', describe: 'store directory (default $FERRY_STORE, else $XDG_DATA_HOME/ferry, else ~/.local/share/ferry)', global: true }],
  ['json', { type: 'boolean', default: false, describe: 'machine-readable result on stdout, nothing else there', global: true }],
  ['quiet', { alias: 'q', type: 'boolean', default: false, describe: 'only errors', global: true }],
  ['progress', { type: 'boolean', default: true, describe: 'progress bars (--no-progress to turn off)', global: true }],
  ['debug', { type: 'boolean', default: false, describe: 'stack traces, and a log of what ferry decides (plan, skips, mounts, retries), on stderr', global: true }],
  ['trace', { type: 'string', describe: 'record HTTP exchanges as JSON lines in FILE (credentials redacted)', global: true }],
];
