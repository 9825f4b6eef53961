#!/usr/bin/env node
// The CLI's entry. CommonJS on purpose: a CommonJS main script starts without
// the ESM loader (~20 ms here), so a bare --version, which scripts ask often,
// answers from package.json before anything else loads. Every other command
// runs the CommonJS bundle of the CLI (dist/cli-bundle/, scripts/bundle-cli.mjs:
// no ES module loader, ~1 ms less per module) while it is fresh, and the CLI
// as tsc built it (dist/cli/main.js, ESM) otherwise. The bundle's chunks load
// through V8's code cache (code-cache.cjs), never a cache made from other code.
'use strict';

const { readFileSync, statSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const argv = process.argv.slice(2);

/**
 * The bundle, unless something it would run was made from changed since: each
 * chunk main, the worker threads and the command words in argv can load (all
 * of them when argv names none: help, typos) must have its recorded size, and each of its inputs
 * (tsc's output, the npm packages it inlines) the size the stamp records and be
 * no newer than the stamp, which the bundle script writes last. A stale bundle
 * never runs. Only those chunks: a stat is ~1/4 of a ms under load, and a
 * small inspect loads 98 of the 444 inputs.
 */
function freshBundle() {
  const dir = join(root, 'dist', 'cli-bundle');
  try {
    const stampPath = join(dir, 'stamp.json');
    const made = statSync(stampPath).mtimeMs;
    const stamp = JSON.parse(readFileSync(stampPath, 'utf8'));
    const named = argv.filter((word) => Object.hasOwn(stamp.commands, word));
    const chunks = new Set(named.length > 0 ? stamp.main.concat(stamp.workers, ...named.map((word) => stamp.commands[word])) : stamp.chunks.keys());
    // Paths by concatenation, not join(): the stamp's are relative, '/'-separated and
    // normalized, and join's normalizing of ~100 of them showed in the start-up profile.
    const base = `${root}/`;
    for (const i of chunks) {
      const chunk = stamp.chunks[i];
      const s = statSync(`${dir}/${chunk.file}`, { throwIfNoEntry: false });
      if (!s || s.size !== chunk.size) return undefined;
      for (const [path, size] of chunk.inputs) {
        const input = statSync(base + path, { throwIfNoEntry: false });
        if (!input || input.size !== size || input.mtimeMs > made) return undefined;
      }
    }
    return join(dir, 'main.cjs');
  } catch {
    return undefined;
  }
}

if (argv.length === 1 && argv[0] === '--version') {
  process.stdout.write(`${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version}\n`);
} else {
  const bundle = freshBundle();
  if (bundle) require('./code-cache.cjs').runBundle(bundle, argv);
  else import('../dist/cli/main.js').then(({ main }) => main(argv));
}
