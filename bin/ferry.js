#!/usr/bin/env node
// A bare --version answers from package.json before the CLI (yargs, every layer
// under src/cli) is loaded: scripts ask it often, and the load is most of its cost.
import { readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === '--version') {
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
} else {
  const { main } = await import('../dist/cli/main.js');
  main(argv);
}
