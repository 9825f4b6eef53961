import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBundle, writeKeyPair } from '../../src/bundle/index.js';
import { allCommands, commandsFor } from '../../src/cli/commands/index.js';
import { tempDir } from '../bundle/fixtures.js';
import { syntheticImages } from '../bundle/synthetic-set.js';
import { FERRY_BIN } from '../helpers/ferry-cli.js';

// Only the command being run is loaded (its layers cost time and memory); help and
// typos see every command.

const names = async (argv: string[]) => (await commandsFor(argv)).map((c) => String(c.command).split(' ')[0]);

describe('command loading', () => {
  it('loads just the named command, skipping the values of global flags', async () => {
    expect(await names(['export', 'nginx', '-o', 'x'])).toEqual(['export']);
    expect(await names(['--store', 'import', '--json', 'verify', 'b.tar'])).toEqual(['verify']);
    expect(await names(['--trace', 't.jsonl', 'k8s', 'rewrite'])).toEqual(['k8s']);
  });

  it('loads every command for help, an unknown word or nothing', async () => {
    const all = (await allCommands()).map((c) => String(c.command).split(' ')[0]);
    expect(all).toHaveLength(17);
    expect(new Set(all).size).toBe(17);
    expect(await names(['--help'])).toEqual(all);
    expect(await names(['exprot'])).toEqual(all);
    expect(await names([])).toEqual(all);
  });

  it('loads no command for a bare --version, and it still prints the version', async () => {
    expect(await names(['--version'])).toEqual([]);
    expect((await names(['--version', '--help'])).length).toBe(17);
    const { execFileSync } = await import('node:child_process');
    const { readFileSync } = await import('node:fs');
    const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
    expect(execFileSync(process.execPath, ['bin/ferry.js', '--version'], { encoding: 'utf8' }).trim()).toBe(version);
  });
});

// What the real CLI (bin/ferry.cjs: the bundle of dist/ or dist/ itself) loads for a
// small inspect and verify, recorded in the child by a module hook (ES modules)
// and by its require.cache at exit (CommonJS), each chunk of dist/cli-bundle/
// read as the dist/ and node_modules files it was made from (its stamp.json):
// start-up is most of their cost, and
// the registry client (undici), the trust layer and transfer are for commands
// that talk to registries or check image signatures, the bundle writer for export.
// An import's usual command line is parsed without yargs too (its flags and
// check are plain: cli/flag-shape.ts).
describe('what inspect, verify and import load', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let bundle: string;
  let pub: string;
  let hook: string;
  let required: string;

  beforeAll(async () => {
    work = await tempDir('ferry-loading-');
    const keys = await writeKeyPair(join(work.dir, 'site'));
    pub = keys.publicKeyPath;
    const { images, fetch } = syntheticImages(3);
    bundle = join(work.dir, 'small.tar');
    await writeBundle({ images, fetch, out: bundle, toolVersion: 'test', signingKey: await readFile(keys.privateKeyPath, 'utf8') });
    // Every module URL the child resolves, one a line, into $LOAD_LOG.
    const hooks = join(work.dir, 'hooks.mjs');
    await writeFile(
      hooks,
      "import { appendFileSync } from 'node:fs';\n" +
        'export async function resolve(spec, ctx, next) { const r = await next(spec, ctx); appendFileSync(process.env.LOAD_LOG, r.url + "\\n"); return r; }\n',
    );
    hook = join(work.dir, 'register.mjs');
    await writeFile(hook, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
    required = join(work.dir, 'required.cjs');
    await writeFile(required, "process.on('exit', () => require('node:fs').appendFileSync(process.env.LOAD_LOG, Object.keys(require.cache).map((f) => require('node:url').pathToFileURL(f).href + '\\n').join('')));\n");
  }, 60_000);

  afterAll(async () => {
    await work?.cleanup();
  });

  async function loaded(args: string[], shows = 'small.tar'): Promise<string[]> {
    const log = join(work.dir, `${args[0]}.log`);
    await writeFile(log, '');
    const { stdout } = await promisify(execFile)(process.execPath, ['-r', required, '--import', hook, FERRY_BIN, ...args], { env: { ...process.env, LOAD_LOG: log, FERRY_STORE: '' } });
    expect(stdout).toContain(shows);
    return withChunkModules((await readFile(log, 'utf8')).split('\n').filter(Boolean));
  }

  /** Each loaded chunk of the CLI bundle (dist/cli-bundle/) stands for the modules it holds. */
  async function withChunkModules(urls: string[]): Promise<string[]> {
    const root = join(FERRY_BIN, '..', '..');
    const bundleDir = pathToFileURL(join(root, 'dist', 'cli-bundle')).href;
    const chunks = urls.filter((u) => u.startsWith(`${bundleDir}/`) && u.endsWith('.cjs'));
    if (chunks.length === 0) return urls;
    const stamp = JSON.parse(await readFile(join(root, 'dist', 'cli-bundle', 'stamp.json'), 'utf8')) as { chunks: Array<{ file: string; inputs: Array<[string, number]> }> };
    const held = chunks.flatMap((u) => stamp.chunks.find((c) => u === `${bundleDir}/${c.file}`)!.inputs);
    return [...urls, ...held.map(([m]) => pathToFileURL(join(root, m)).href)];
  }

  const REGISTRY_SIDE = /\/node_modules\/undici\/|\/dist\/(registry|trust|transfer)\//;
  /** yargs' ESM entry (~30 modules through the ESM loader); cli/yargs.ts requires its one-file CommonJS build. */
  const YARGS_ESM = /\/node_modules\/yargs\/(index\.mjs|build\/lib\/)/;
  /** The bundle package's writing side (bundle/write-side.ts loads it on first call). */
  const WRITE_SIDE = /\/dist\/bundle\/(writer|volume-remake|volume-split|placed-writer|bundle-head|graph-walk|manifest-db-build)\.js$/;
  /** yargs itself: a plain command line is parsed by cli/fast-argv.ts, yargs (cli/parser.ts) only for help and errors. */
  const YARGS_ANY = /\/dist\/cli\/(parser|yargs)\.js$/;
  /** The full check and its worker pool (bundle/check-side.ts loads it on first call): inspect reads the head only. */
  const CHECK_SIDE = /\/dist\/(bundle\/(verify|verify-in-hand|range-pool)|core\/range-pool)\.js$/;
  /** tar-stream and its stream library: the head is read by bundle/head-tar.ts, tar-stream only for the blobs. */
  const TAR_STREAM = /\/node_modules\/(tar-stream|streamx)\/|\/dist\/bundle\/tar-reader\.js$/;
  /** --debug's formatters (cli/main.ts loads them only with --debug). */
  const DEBUG_LOG = /\/dist\/cli\/progress-debug\.js$/;

  it('inspect of a signed bundle loads neither the registry client, the trust layer, transfer, the bundle writer, the full check, --debug\'s log, yargs nor tar-stream', async () => {
    const urls = await loaded(['inspect', bundle, '--key', pub]);
    expect(urls.some((u) => u.includes('/dist/bundle/inspect.js'))).toBe(true);
    expect(urls.filter((u) => REGISTRY_SIDE.test(u))).toEqual([]);
    expect(urls.filter((u) => WRITE_SIDE.test(u))).toEqual([]);
    expect(urls.filter((u) => YARGS_ESM.test(u))).toEqual([]);
    expect(urls.filter((u) => YARGS_ANY.test(u))).toEqual([]);
    expect(urls.filter((u) => CHECK_SIDE.test(u))).toEqual([]);
    expect(urls.filter((u) => DEBUG_LOG.test(u))).toEqual([]);
    expect(urls.filter((u) => TAR_STREAM.test(u))).toEqual([]);
  });

  it('verify of a signed bundle loads neither the registry client, the trust layer, transfer, the bundle writer, --debug\'s log nor yargs', async () => {
    const urls = await loaded(['verify', bundle, '--key', pub]);
    expect(urls.some((u) => u.includes('/dist/bundle/verify.js'))).toBe(true);
    expect(urls.filter((u) => REGISTRY_SIDE.test(u))).toEqual([]);
    expect(urls.filter((u) => WRITE_SIDE.test(u))).toEqual([]);
    expect(urls.filter((u) => YARGS_ANY.test(u))).toEqual([]);
    expect(urls.filter((u) => DEBUG_LOG.test(u))).toEqual([]);
  });

  /** Node's built-in modules the CLI loaded for `args` (`process.moduleLoadList` at exit), with no hook of ours. */
  async function builtins(args: string[], shows: string): Promise<string[]> {
    const log = join(work.dir, `${args[0]}-builtins.log`);
    const list = join(work.dir, 'builtins.cjs');
    await writeFile(list, "process.on('exit', () => require('node:fs').writeFileSync(process.env.LOAD_LOG, process.moduleLoadList.join('\\n')));\n");
    const { stdout } = await promisify(execFile)(process.execPath, ['-r', list, FERRY_BIN, ...args], { env: { ...process.env, LOAD_LOG: log, FERRY_STORE: '' } });
    expect(stdout).toContain(shows);
    return (await readFile(log, 'utf8')).split('\n').flatMap((line) => (line.startsWith('NativeModule ') ? [line.slice('NativeModule '.length)] : []));
  }

  // Built-ins compile on first use (~4 M instructions for fs/promises and the readline modules it
  // requires); a chunk's modules name more of them than a small inspect or verify runs. (node:stream,
  // and stream/promises with it, stays: node:crypto and process.stdout load it.)
  const UNUSED_BY_INSPECT = ['fs/promises', 'os', 'worker_threads'];

  it('inspect and a small verify (hashed on the calling thread) load no built-in they do not run', async () => {
    const inspect = await builtins(['inspect', bundle, '--key', pub], 'small.tar');
    expect(inspect).toContain('crypto');
    expect(inspect.filter((m) => UNUSED_BY_INSPECT.includes(m))).toEqual([]);
    const verify = await builtins(['verify', bundle, '--key', pub], 'OK');
    expect(verify.filter((m) => ['fs/promises', 'worker_threads'].includes(m))).toEqual([]);
  });

  /** What `args` loaded though the command failed (an export of an unreachable registry stops at its first request). */
  async function loadedFailing(args: string[]): Promise<{ urls: string[]; stderr: string }> {
    const log = join(work.dir, `${args[0]}-failing.log`);
    await writeFile(log, '');
    const stderr = await promisify(execFile)(process.execPath, ['-r', required, '--import', hook, FERRY_BIN, ...args], { env: { ...process.env, LOAD_LOG: log, FERRY_STORE: '' } }).then(
      () => '',
      (e: { stderr: string }) => e.stderr,
    );
    return { urls: await withChunkModules((await readFile(log, 'utf8')).split('\n').filter(Boolean)), stderr };
  }

  const YAML = /\/node_modules\/yaml\//;

  it('export of a spec written as JSON loads neither a YAML parser nor yargs; one written as YAML loads the YAML parser', async () => {
    const images = [{ ref: '127.0.0.1:1/loading/json:1' }];
    const json = join(work.dir, 'spec.json');
    await writeFile(json, JSON.stringify({ apiVersion: 'ferry/v1', kind: 'Bundle', metadata: { name: 'loading' }, images }));
    const yaml = join(work.dir, 'spec.yaml');
    await writeFile(yaml, 'apiVersion: ferry/v1\nkind: Bundle\nmetadata:\n  name: loading\nimages:\n  - ref: 127.0.0.1:1/loading/json:1\n');
    const common = ['-o', join(work.dir, 'never.tar'), '--plain-http', '--retries', '0', '--store', join(work.dir, 'export-store'), '--no-progress'];
    const fromJson = await loadedFailing(['export', '-f', json, ...common]);
    // It read the spec and went on to the registry (refused: nothing listens there).
    expect(fromJson.stderr).toContain('127.0.0.1:1');
    expect(fromJson.urls.filter((u) => YAML.test(u))).toEqual([]);
    // Its usual command line is parsed without yargs too (a spec, no references: cli/fast-argv.ts).
    expect(fromJson.urls.filter((u) => YARGS_ANY.test(u))).toEqual([]);
    const fromYaml = await loadedFailing(['export', '-f', yaml, ...common]);
    expect(fromYaml.stderr).toContain('127.0.0.1:1');
    expect(fromYaml.urls.some((u) => YAML.test(u))).toBe(true);
  });

  it('import (its usual command line) loads no yargs', async () => {
    const urls = await loaded(['import', bundle, '--key', pub, '--to-store', '--store', join(work.dir, 'store'), '--dry-run', '--json'], '"dryRun": true');
    expect(urls.some((u) => u.includes('/dist/transfer/import.js'))).toBe(true);
    expect(urls.filter((u) => YARGS_ANY.test(u))).toEqual([]);
  });
});
