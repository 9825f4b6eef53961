#!/usr/bin/env node
// The CLI's entry. CommonJS on purpose: a CommonJS main script starts without
// the ESM loader (~20 ms here), so a bare --version, which scripts ask often,
// answers from package.json before anything else loads; every other command
// imports the CLI (dist/, ESM) from here.
'use strict';

const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === '--version') {
  const { readFileSync } = require('node:fs');
  const { join } = require('node:path');
  process.stdout.write(`${JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')).version}\n`);
} else {
  import('../dist/cli/main.js').then(({ main }) => main(argv));
}
