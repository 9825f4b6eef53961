'use strict';
// Runs the CLI bundle (dist/cli-bundle/) with V8's code cache: each chunk's
// bytecode, made at build time by scripts/bundle-cli.mjs running a few
// commands (inspect, verify, --help), is deserialized instead of compiled
// (~190 KB of code for a small inspect).
//
// V8 checks a cache only against its own version, its flags and the LENGTH of
// the source: a chunk edited to the same length would run the bytecode of the
// old one. And it does not check the cache's own bytes: a rotted cache file
// aborts node in the deserializer. So each cache file starts with the sha256
// of the chunk it was made from and the sha256 of the V8 bytes after them,
// and is used only when the first is the sha256 of the source compiled now and
// the second that of the bytes read; otherwise (and when V8 rejects it: another
// node) the chunk compiles as node would compile it. A stale or damaged cache
// never runs.
//
// A cache file is dist/cli-bundle/code-cache/CHUNK.v8. Its bytes are not
// reproducible (V8 writes string hashes with the process's random seed); the
// stamp (stamp.json) does not list them, so it stays the same for one commit.

const { mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { dirname, join, sep } = require('node:path');
const { Script } = require('node:vm');

const SHA256_BYTES = 32;
const HEADER_BYTES = 2 * SHA256_BYTES;
const DIR = 'code-cache';

/** The V8 bytes of `file`'s cache when it was made from the source whose sha256 is `sourceSha256` and is whole, else undefined. */
function cacheFor(cacheDir, file, sourceSha256, sha256) {
  let bytes;
  try {
    bytes = readFileSync(join(cacheDir, `${file}.v8`));
  } catch {
    return undefined;
  }
  if (bytes.length <= HEADER_BYTES || !bytes.subarray(0, SHA256_BYTES).equals(sourceSha256)) return undefined;
  const data = bytes.subarray(HEADER_BYTES);
  return sha256(data).equals(bytes.subarray(SHA256_BYTES, HEADER_BYTES)) ? data : undefined;
}

/** `./NAME.cjs`: a chunk beside the one requiring it (rolldown names every chunk so). */
const isSibling = (id) => id.startsWith('./') && id.endsWith('.cjs') && id.indexOf('/', 2) === -1 && id.indexOf(sep, 2) === -1;

/**
 * Requires `main` (a chunk in the bundle's directory) and runs its main(argv), every
 * chunk of that directory compiled through the cache. With `produce`, the cache of
 * each chunk this process compiled is written at exit, the functions it ran included
 * (those a cache made right after compiling would leave out).
 */
function runBundle(main, argv, { produce = false } = {}) {
  const dir = dirname(main);
  const cacheDir = join(dir, DIR);
  // Loaded here, not at the top: the hashing is the only use, and --version never gets here.
  const { createHash } = require('node:crypto');
  const sha256 = (bytes) => createHash('sha256').update(bytes).digest();
  const compiled = [];
  const js = Module._extensions['.js'];
  Module._extensions['.cjs'] = function loadChunk(module, filename) {
    if (!filename.startsWith(dir + sep) || filename.indexOf(sep, dir.length + 1) !== -1) return js(module, filename);
    const file = filename.slice(dir.length + 1);
    const source = readFileSync(filename, 'utf8');
    const digest = sha256(source);
    const cachedData = cacheFor(cacheDir, file, digest, sha256);
    const script = new Script(Module.wrap(source), { filename, cachedData });
    if (produce) compiled.push({ file, digest, script });
    // The chunk's own require, as node's loader would give it (the chunks use only the call itself);
    // a sibling chunk is loaded straight from its path (below).
    const requireChunk = (id) => (isSibling(id) ? requireSibling(id, module) : module.require(id));
    requireChunk.resolve = (request, options) => Module._resolveFilename(request, module, false, options);
    requireChunk.main = require.main;
    requireChunk.cache = Module._cache;
    script.runInThisContext({ displayErrors: true }).call(module.exports, module.exports, requireChunk, module, filename, dir);
  };
  /**
   * A chunk's `require("./NAME.cjs")` of another chunk, without node's resolving: no stat, realpath,
   * package.json scope or node_modules path list per chunk (~30 chunks for a small inspect; in its profile,
   * and ~1/8 of what it allocates before the first GC). The chunk directory is the bundle's own, checked
   * fresh by bin/ferry.cjs; a chunk loads once and is cached as node caches it (cycles see its exports
   * so far), and one that throws is forgotten, as node forgets it.
   */
  const requireSibling = (id, parent) => {
    const filename = dir + sep + id.slice(2);
    const cached = Module._cache[filename];
    if (cached !== undefined) return cached.exports;
    const child = new Module(filename, parent);
    child.filename = filename;
    child.paths = parent.paths;
    Module._cache[filename] = child;
    try {
      Module._extensions['.cjs'](child, filename);
    } catch (error) {
      delete Module._cache[filename];
      throw error;
    }
    child.loaded = true;
    return child.exports;
  };
  if (produce) {
    process.on('exit', () => {
      mkdirSync(cacheDir, { recursive: true });
      for (const { file, digest, script } of compiled) {
        const data = script.createCachedData();
        writeFileSync(join(cacheDir, `${file}.v8`), Buffer.concat([digest, sha256(data), data]));
      }
    });
  }
  return require(main).main(argv);
}

module.exports = { runBundle };
