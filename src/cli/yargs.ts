import { createRequire } from 'node:module';
import type YargsFactory from 'yargs';

// yargs through its CommonJS build: one pre-bundled file, where its ESM entry is
// ~30 modules through Node 20's ESM loader, ~15 ms of CPU on every run
// (docs/performance.md, start-up). Same factory, same parser; the one
// difference, where `.version()` looks for package.json, main.ts settles by
// passing ferry's version itself.
const yargs = createRequire(import.meta.url)('yargs/yargs') as typeof YargsFactory;
export default yargs;
