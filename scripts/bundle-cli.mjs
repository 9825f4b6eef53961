#!/usr/bin/env node
// The second half of `npm run build`: bundles tsc's output (dist/cli/main.js
// and everything it imports) into CommonJS chunks in dist/cli-bundle/, one
// chunk per command (each command is a dynamic import in cli/commands/index.ts),
// with the npm packages inlined, better-sqlite3's JavaScript too: its addon
// (build/Release/better_sqlite3.node) is required by its path from the chunk,
// not looked up by the `bindings` package (a stack trace and a search of six
// paths), and is an input of that chunk in the stamp. A CommonJS
// chunk starts without the ES module loader and its ~1 ms per module, which is
// most of a small inspect's or verify's start-up (docs/performance.md).
//
// bin/ferry.cjs runs the bundle only while it is fresh: stamp.json, written
// last, lists every chunk with its size and the input files (dist/,
// node_modules/) it was made from with theirs, and which chunks main and each
// command word can load; an input larger, smaller or newer than the stamp (tsc
// ran again, an edit in dist/, another npm package) or a chunk changed or
// missing, among those the command line can load, sends the CLI back to
// dist/cli/main.js. The stamp holds no time, so two builds of one commit give
// the same bytes (releases are reproducible; they leave out the code cache below).
//
// Every module keeps the import.meta.url of its own file in dist/: package.json,
// the install root and createRequire resolve exactly as they do unbundled. The
// worker threads' scripts (core/range-worker.js, bundle/ring-hash-worker.js)
// are entries of their own (range-worker.cjs, ring-hash-worker.cjs): the
// bundle starts them as CommonJS, without the ES module loader in each new
// thread, and the stamp's `workers` (checked for every command) keeps a stale
// one from running, as for the chunks.
//
// Last, V8's code cache for the chunks (bin/code-cache.cjs, which checks each
// cache file against the sha256 of its chunk): made by running the commands
// whose start-up counts (inspect and verify of a one-image bundle, --help) on
// this build, so it holds the functions they ran, not only those V8 compiles
// up front. Those bytes differ from build to build (V8's random hash seed);
// the stamp does not list them.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { rolldown } from 'rolldown';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
export const OUT = join(DIST, 'cli-bundle');
const posix = (p) => p.split(sep).join('/');

/** Worker scripts, each started as `new Worker(new URL('./NAME.js', import.meta.url))` by one module of dist/. */
const WORKERS = { 'range-worker': join(DIST, 'core', 'range-worker.js'), 'ring-hash-worker': join(DIST, 'bundle', 'ring-hash-worker.js') };

/** import.meta.url → the URL of the module's own file in dist/, computed from the chunk's directory at run time. */
const ownUrl = {
  name: 'ferry-own-url',
  transform(code, id) {
    if (!code.includes('import.meta.url')) return null;
    if (!id.startsWith(DIST + sep)) throw new Error(`${id} uses import.meta.url outside dist/: the bundle cannot place it`);
    const fromChunk = JSON.stringify(posix(relative(OUT, id)));
    const url = `__ferryFileUrl(__ferryJoin(__dirname, ${fromChunk})).href`;
    const imports = 'import { pathToFileURL as __ferryFileUrl } from "node:url"; import { join as __ferryJoin } from "node:path";\n';
    // A worker script's URL: its CommonJS entry beside the chunks, not its ES module in dist/.
    const workers = code.replace(/new URL\('\.\/([a-z-]+)\.js', import\.meta\.url\)/g, (whole, name) => {
      if (WORKERS[name] !== join(dirname(id), `${name}.js`)) return whole;
      started.add(name);
      return `__ferryFileUrl(__ferryJoin(__dirname, ${JSON.stringify(`${name}.cjs`)}))`;
    });
    return { code: imports + workers.replaceAll('import.meta.url', url), map: null };
  },
};
/** The workers whose `new URL(…)` was rewritten: each must be (the bundle would otherwise start them from dist/). */
const started = new Set();

/** better-sqlite3's database.js → its compiled addon, which the chunk requires by path (see the top). */
const natives = new Map();
const ADDON_LOOKUP = "require('bindings')('better_sqlite3.node')";
const addonByPath = {
  name: 'ferry-addon-path',
  transform(code, id) {
    if (!id.endsWith(`${sep}better-sqlite3${sep}lib${sep}database.js`)) return null;
    if (!code.includes(ADDON_LOOKUP)) throw new Error(`${id} no longer loads its addon as ${ADDON_LOOKUP}: the bundle cannot place it`);
    // The addon as the install root sees it: rolldown's ids are real paths, and a node_modules that is a
    // link out of the tree would otherwise give a path that breaks once the tree is copied or moved.
    const real = join(dirname(id), '..', 'build', 'Release', 'better_sqlite3.node');
    const addon = relative(ROOT, real).startsWith('..') ? join(ROOT, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node') : real;
    if (!existsSync(addon)) throw new Error(`${addon} is missing: run npm ci (or npm rebuild better-sqlite3) first`);
    natives.set(id, addon);
    const path = `require('node:path').join(__dirname, ${JSON.stringify(posix(relative(OUT, addon)))})`;
    return { code: code.replace(ADDON_LOOKUP, `require(${path})`), map: null };
  },
};

/**
 * Node's built-ins load on first use, not when a chunk loads: rolldown hoists every `import … from 'node:X'`
 * of a chunk's modules to its top (`let node_X = require("node:X")`), so a chunk that holds one module
 * writing with fs/promises made every inspect compile fs/promises (and the readline and stream modules it
 * requires), os, stream/promises and worker_threads, none of which a small inspect or verify runs. Each such
 * binding a chunk only reads names of (`node_X.NAME`) becomes an object whose getters require the built-in
 * the first time one is read; one the chunk uses whole (a namespace passed on) stays as rolldown wrote it.
 * A class that extends a built-in's class at a module's top still loads it then, as before.
 */
const BUILTIN_BINDING = /\blet (node_[A-Za-z0-9_]+)\s*=\s*require\((["'])(node:[a-z0-9_/]+)\2\);/g;
/** An assignment operator (`=`, `+=`, `??=`…, not `==` or `=>`) where the sticky index stands. */
const ASSIGNMENT = /\s*(?:[-+*/%&|^]|\*\*|<<|>>>?|&&|\|\||\?\?)?=(?![=>])/y;
export const lazyBuiltins = {
  name: 'ferry-lazy-builtins',
  renderChunk(code) {
    if (!BUILTIN_BINDING.test(code)) return null;
    BUILTIN_BINDING.lastIndex = 0;
    const out = code.replace(BUILTIN_BINDING, (whole, binding, _quote, specifier) => {
      // Every token spelled like the binding counts, a `.` before it or not: `...node_tls.rootCertificates` (a
      // spread) reads a name of it too, and a property of that spelling elsewhere can only keep a binding whole.
      const uses = [...code.matchAll(new RegExp(`(?<![\\w$])${binding}(?![\\w$])(\\.[A-Za-z_$][\\w$]*)?`, 'g'))];
      // One use is the declaration itself (its `=` follows); every other must read a name.
      // A name written to (`node_X.NAME = …`) is not read through a getter either: keep such a binding whole.
      const writes = (m) => {
        ASSIGNMENT.lastIndex = m.index + m[0].length;
        return ASSIGNMENT.test(code);
      };
      const bare = uses.filter((m) => m[1] === undefined || writes(m));
      if (bare.length !== 1) return whole;
      const names = [...new Set(uses.flatMap((m) => (m[1] ? [m[1].slice(1)] : [])))].sort();
      const loaded = `${binding}$loaded`;
      const getters = names.map((n) => `get ${n}() { return (${loaded} ??= require(${JSON.stringify(specifier)})).${n}; }`);
      return `let ${loaded}; const ${binding} = { ${getters.join(', ')} };`;
    });
    return { code: out, map: null };
  },
};

export async function bundleCli() {
  await rm(OUT, { recursive: true, force: true });
  started.clear();
  natives.clear();
  const build = await rolldown({
    input: { main: join(DIST, 'cli', 'main.js'), ...WORKERS },
    platform: 'node',
    external: [/^node:/],
    plugins: [ownUrl, addonByPath, lazyBuiltins],
    logLevel: 'warn',
    onLog(level, log) {
      throw new Error(`rolldown ${level}: ${log.message}`);
    },
  });
  // Without comments and whitespace (~27 % of the bytes): every start-up reads, hashes (bin/code-cache.cjs)
  // and holds the source of the chunks it runs, and a small inspect's young generation filled once less
  // (3 → 2 scavenges). Not compressed or mangled: names, and so stack traces and error names, stay.
  const minify = { compress: false, mangle: false, codegen: { removeWhitespace: true } };
  const { output } = await build.write({ dir: OUT, format: 'cjs', entryFileNames: '[name].cjs', chunkFileNames: '[name]-[hash].cjs', sourcemap: false, comments: false, minify });
  await build.close();
  for (const name of Object.keys(WORKERS)) if (!started.has(name)) throw new Error(`no module starts the worker ${name} as new URL('./${name}.js', import.meta.url): the bundle would not run its CommonJS entry`);

  const chunks = output.filter((o) => o.type === 'chunk').sort((a, b) => (a.fileName < b.fileName ? -1 : 1));
  const index = new Map(chunks.map((c, i) => [c.fileName, i]));
  /** The chunks `from` loads, now or later (its imports and dynamic imports, all the way down), but no command's. */
  const commandChunks = new Set(chunks.filter((c) => c.facadeModuleId?.startsWith(join(DIST, 'cli', 'commands') + sep)).map((c) => c.fileName));
  const closure = (from) => {
    const seen = new Set([from]);
    for (const f of seen) {
      const c = chunks[index.get(f)];
      for (const next of [...c.imports, ...c.dynamicImports]) if (index.has(next) && !commandChunks.has(next)) seen.add(next);
    }
    return [...seen].map((f) => index.get(f)).sort((a, b) => a - b);
  };
  // The command words of cli/commands/index.ts, each with the chunk of the module it loads.
  const table = await readFile(join(DIST, 'cli', 'commands', 'index.js'), 'utf8');
  const commands = {};
  for (const [, word, file] of table.matchAll(/\['([a-z0-9-]+)', async \(\) => \(await import\('\.\/([a-z0-9-]+)\.js'\)\)/g)) {
    const chunk = chunks.find((c) => c.facadeModuleId === join(DIST, 'cli', 'commands', `${file}.js`));
    if (!chunk) throw new Error(`no chunk for the command ${word} (dist/cli/commands/${file}.js)`);
    commands[word] = closure(chunk.fileName);
  }
  if (Object.keys(commands).length === 0) throw new Error('found no command loader in dist/cli/commands/index.js');
  const sizeOf = async (p) => (await stat(p)).size;
  const stamp = {
    main: closure('main.cjs'),
    // Any command may start a worker: its chunks are checked with main's.
    workers: [...new Set(Object.keys(WORKERS).flatMap((name) => closure(`${name}.cjs`)))].sort((a, b) => a - b),
    commands,
    chunks: await Promise.all(
      chunks.map(async (c) => ({
        file: c.fileName,
        size: await sizeOf(join(OUT, c.fileName)),
        inputs: await Promise.all(
          [...c.moduleIds, ...c.moduleIds.flatMap((id) => (natives.has(id) ? [natives.get(id)] : []))]
            .filter((id) => id.startsWith(ROOT + sep))
            .map(async (id) => [posix(relative(ROOT, id)), await sizeOf(id)]),
        ),
      })),
    ),
  };
  await writeFile(join(OUT, 'stamp.json'), `${JSON.stringify(stamp)}\n`);
  await makeCodeCache();
  return stamp;
}

/** The commands whose start-up the code cache is made from, `BUNDLE` standing for a one-image bundle. */
const TRAINING = [['inspect', 'BUNDLE'], ['verify', 'BUNDLE'], ['--help']];

/** Runs TRAINING on the fresh bundle, each run starting from the cache the one before wrote (see the top). */
async function makeCodeCache() {
  const work = await mkdtemp(join(tmpdir(), 'ferry-code-cache-'));
  try {
    const bundle = join(work, 'one-image.tar');
    await writeOneImage(bundle);
    const run = "require(process.argv[1]).runBundle(process.argv[2], process.argv.slice(3), { produce: true })";
    for (const args of TRAINING) {
      const argv = args.map((a) => (a === 'BUNDLE' ? bundle : a));
      const r = spawnSync(process.execPath, ['-e', run, join(ROOT, 'bin', 'code-cache.cjs'), join(OUT, 'main.cjs'), ...argv], {
        encoding: 'utf8',
        env: { ...process.env, FERRY_STORE: join(work, 'store') },
      });
      if (r.status !== 0) throw new Error(`making the code cache: ferry ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** A bundle of one small image (a config and a layer), written by this build's own writer. */
async function writeOneImage(out) {
  const { writeBundle } = await import(pathToFileURL(join(DIST, 'bundle', 'index.js')).href);
  const blobs = new Map();
  const put = (mediaType, bytes) => {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    blobs.set(digest, bytes);
    return { mediaType, digest, size: bytes.length };
  };
  const config = put('application/vnd.oci.image.config.v1+json', Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux' })));
  const layer = put('application/vnd.oci.image.layer.v1.tar+gzip', Buffer.alloc(64 * 1024, 1));
  const manifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: [layer] };
  const root = put(manifest.mediaType, Buffer.from(JSON.stringify(manifest)));
  const fetch = async (desc) => Readable.from([blobs.get(desc.digest)]);
  await writeBundle({ images: [{ name: 'code-cache.invalid/one:1', root }], fetch, out, toolVersion: 'code-cache' });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const stamp = await bundleCli();
  console.log(`dist/cli-bundle: ${stamp.chunks.length} chunks from ${stamp.chunks.reduce((n, c) => n + c.inputs.length, 0)} files`);
}
