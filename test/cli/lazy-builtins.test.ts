import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FERRY_BIN } from '../helpers/ferry-cli.js';

// scripts/bundle-cli.mjs rewrites a chunk's `let node_X = require("node:X")` into getters that
// require the built-in when a name of it is first read. A use the rewrite misses reads undefined at
// run time (a spread `...node_tls.rootCertificates` did: `ferry copy --ca-cert` failed with "not
// iterable"), so each shape of use is run here through the real plugin.

type RenderChunk = (code: string) => { code: string } | null;
const ROOT = join(FERRY_BIN, '..', '..');
const require = createRequire(import.meta.url);

async function plugin(): Promise<RenderChunk> {
  const mod = (await import(pathToFileURL(join(ROOT, 'scripts', 'bundle-cli.mjs')).href)) as { lazyBuiltins: { renderChunk: RenderChunk } };
  return mod.lazyBuiltins.renderChunk;
}

/** Runs a rewritten chunk with a require that records what it loaded; returns its exports and that list. */
function run(code: string): { exports: Record<string, () => unknown>; loaded: string[] } {
  const loaded: string[] = [];
  const record = (id: string): unknown => {
    loaded.push(id);
    return require(id);
  };
  const module = { exports: {} as Record<string, () => unknown> };
  new Function('require', 'module', code)(record, module);
  return { exports: module.exports, loaded };
}

describe('the CLI bundle loads node built-ins on first use', () => {
  it('a chunk that reads names (a spread among them) loads the built-in only when one is read, and reads the real values', async () => {
    const render = await plugin();
    const chunk = 'let node_tls = require("node:tls");\nmodule.exports.ca = () => [...node_tls.rootCertificates, "pem"];\nmodule.exports.connect = () => typeof (0, node_tls.connect);';
    const out = render(chunk);
    expect(out?.code).not.toContain('let node_tls = require');
    const { exports, loaded } = run(out!.code);
    expect(loaded).toEqual([]);
    const ca = exports.ca!() as string[];
    expect(ca.length).toBeGreaterThan(1);
    expect(ca.at(-1)).toBe('pem');
    expect(exports.connect!()).toBe('function');
    expect(loaded).toEqual(['node:tls']);
  });

  it('a binding used whole or written to is left as rolldown wrote it', async () => {
    const render = await plugin();
    for (const chunk of [
      'let node_os = require("node:os");\nmodule.exports.all = () => Object.keys(node_os).length;',
      'let node_os = require("node:os");\nnode_os.extra = 1;\nmodule.exports.all = () => node_os.extra;',
      'let node_os = require("node:os");\nnode_os.extra ??= 1;\nmodule.exports.all = () => node_os.extra;',
    ]) {
      expect(render(chunk)?.code ?? chunk).toContain('let node_os = require("node:os");');
    }
    // (Only the whole use is run: the others would write to the real node:os of this process.)
    const { exports, loaded } = run(render('let node_os = require("node:os");\nmodule.exports.all = () => Object.keys(node_os).length;')?.code ?? '');
    expect(loaded).toEqual(['node:os']);
    expect(exports.all!()).toBeGreaterThan(5);
  });
});
