import type { FerryCommand } from '../command.js';

// Every command, in the order --help lists them, each loaded only when it runs:
// a command's module pulls in its layers (undici, SQLite, tar, YAML…), and
// loading all of them costs every invocation ~130 ms and ~20 MiB (bench).
const LOADERS: ReadonlyArray<readonly [string, () => Promise<FerryCommand>]> = [
  ['export', async () => (await import('./export.js')).exportCommand],
  ['import', async () => (await import('./import.js')).importCommand],
  ['verify', async () => (await import('./verify.js')).verifyCommand],
  ['inspect', async () => (await import('./inspect.js')).inspectCommand],
  ['copy', async () => (await import('./copy.js')).copyCommand],
  ['serve', async () => (await import('./serve.js')).serveCommand],
  ['keygen', async () => (await import('./keygen.js')).keygenCommand],
  ['store', async () => (await import('./store.js')).storeCommand],
  ['inventory', async () => (await import('./inventory.js')).inventoryCommand],
  ['ls', async () => (await import('./ls.js')).lsCommand],
  ['rm', async () => (await import('./rm.js')).rmCommand],
  ['prune', async () => (await import('./prune.js')).pruneCommand],
  ['login', async () => (await import('./login.js')).loginCommand],
  ['logout', async () => (await import('./login.js')).logoutCommand],
  ['doctor', async () => (await import('./doctor.js')).doctorCommand],
  ['k8s', async () => (await import('./k8s.js')).k8sCommand],
  ['demo', async () => (await import('./demo.js')).demoCommand],
];

/** Global flags that take a value: their value is not the command name. */
const GLOBAL_VALUE_FLAGS = new Set(['--store', '--trace']);

/** Every command (for --help and the generated reference). */
export function allCommands(): Promise<FerryCommand[]> {
  return Promise.all(LOADERS.map(([, load]) => load()));
}

/** The command `argv` names (its first word that is not a flag or a global flag's value). */
export function commandNameIn(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (GLOBAL_VALUE_FLAGS.has(word)) i++;
    else if (!word.startsWith('-')) return word;
  }
  return undefined;
}

/** Only the command `argv` names, or all of them when it names none (help, typos). */
export async function commandsFor(argv: readonly string[]): Promise<FerryCommand[]> {
  const name = commandNameIn(argv);
  const loader = LOADERS.find(([n]) => n === name);
  if (loader) return [await loader[1]()];
  // `ferry --version` prints a line and no command: loading all of them cost ~0.9 s of CPU (bench/startup.mjs).
  if (name === undefined && argv.includes('--version') && !argv.includes('--help')) return [];
  return allCommands();
}
