import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Descriptor } from '../../src/core/descriptor.js';
import { channel } from '../../src/cli/progress-channel.js';
import { lineLog } from '../../src/cli/progress-lines.js';
import { ttyBars } from '../../src/cli/progress-tty.js';
import { retryIntoChannel } from '../../src/cli/retry-log.js';
import { ferry } from '../helpers/ferry-cli.js';
import { rigContext, seededRig } from '../rig/context.js';
import { startRegistry, type Registry } from '../rig/registry.js';

// Issues 13.1, 13.18, 15.2: one progress channel. export and import say each
// phase (with its total before bytes move where it is known), each image, and
// every retry, into one stream; a terminal gets bars, anything else a line log,
// --debug the decisions.

const blob = (n: number, size: number): Descriptor => ({ mediaType: 'application/octet-stream', digest: `sha256:${String(n).padStart(64, '0')}` as Descriptor['digest'], size });

/** A stand-in terminal: the progress package draws on anything with isTTY, columns and the cursor calls. */
function fakeTty(): { isTTY: true; columns: number; text: string; write(s: string): boolean; cursorTo(): boolean; clearLine(): boolean } {
  return {
    isTTY: true,
    columns: 80,
    text: '',
    write(s: string) {
      this.text += s;
      return true;
    },
    cursorTo: () => true,
    clearLine: () => true,
  };
}

describe('presenters', () => {
  it('a terminal gets a bar per phase, in human units, with the image; retries print above it', () => {
    const tty = fakeTty();
    const bars = ttyBars('export', tty, { throttleMs: 0 });
    bars.sink({ type: 'phase', phase: 'pull', items: 1 });
    bars.sink({ type: 'image', name: 'docker.io/acme/api:1', state: 'start' });
    bars.sink({ type: 'node-start', descriptor: blob(1, 4_000_000), repository: 'acme/api' });
    bars.sink({ type: 'bytes', descriptor: blob(1, 4_000_000), bytes: 1_000_000 });
    bars.sink({ type: 'retry', what: `blob ${blob(1, 1).digest}`, reason: 'HTTP 503', attempt: 2, max: 4, delayMs: 800 });
    bars.sink({ type: 'phase', phase: 'write', total: 4_000_000, items: 1 });
    bars.end();
    expect(tty.text).toContain('export: pull: 1 images');
    expect(tty.text).toMatch(/export pull \[=*-*\] 25% 1\.0 MB\/4\.0 MB [\d.]+ [kMG]?B\/s/);
    expect(tty.text).toContain('docker.io/acme/api:1');
    expect(tty.text).toContain(`export: retrying blob ${blob(1, 1).digest} (HTTP 503), 2/4 in 0.8 s`);
    expect(tty.text).toContain('export: write: 1 blobs, 4.0 MB');
    expect(tty.text).not.toMatch(/bps/);
  });

  it('the phase a command is named after is not named twice: `verify: 3 blobs`, a bar `verify [`', () => {
    let text = '';
    const log = lineLog('verify', { write: (s: string) => ((text += s), true) } as unknown as NodeJS.WritableStream);
    log.sink({ type: 'phase', phase: 'verify', items: 3, total: 4_000_000 });
    log.sink({ type: 'bytes', bytes: 4_000_000 });
    log.end();
    expect(text).toMatch(/^ferry: verify: 3 blobs, 4\.0 MB\nferry: verify: 4\.0 MB in [\d.]+ m?s \([\d.]+ [kMG]?B\/s\)\n$/);
    const tty = fakeTty();
    const bars = ttyBars('verify', tty, { throttleMs: 0 });
    bars.sink({ type: 'phase', phase: 'verify', items: 3, total: 4_000_000 });
    bars.sink({ type: 'bytes', bytes: 1_000_000 });
    bars.end();
    expect(tty.text).toContain('verify: 3 blobs, 4.0 MB');
    expect(tty.text).toMatch(/verify \[=*-*\] 25%/);
    expect(tty.text).not.toContain('verify verify');
  });

  it('the registry client\'s retries reach whichever presenter listens on the channel', () => {
    let text = '';
    const log = lineLog('import', { write: (s: string) => ((text += s), true) } as unknown as NodeJS.WritableStream);
    const stop = channel.listen(log.sink);
    retryIntoChannel({ what: 'PATCH http://127.0.0.1:5000/v2/a/blobs/uploads/x', reason: 'ECONNRESET', attempt: 1, max: 3, delayMs: 250 });
    stop();
    retryIntoChannel({ what: 'not heard', reason: 'x', attempt: 1, max: 1, delayMs: 0 });
    expect(text).toBe('ferry: import: retrying PATCH http://127.0.0.1:5000/v2/a/blobs/uploads/x (ECONNRESET), 1/3 in 0.3 s\n');
  });
});

const dir = mkdtempSync(join(tmpdir(), 'ferry-progress-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!rigContext().available)('progress from the CLI when stderr is not a terminal', () => {
  let target: Registry;
  beforeAll(async () => {
    target = await startRegistry({});
  });
  afterAll(async () => target?.stop());

  it('export and import write a line log: each phase with its size, each image, never a bar', async () => {
    const rig = seededRig();
    const image = `${rig.source.host}/${rig.images.images.docker.reference}`;
    const bundle = join(dir, 'p.tar');
    const store = ['--store', join(dir, 'store')];
    const exported = await ferry(['export', image, '-o', bundle, '--plain-http', ...store]);
    expect(exported.code, exported.stderr).toBe(0);
    const lines = exported.stderr.split('\n');
    expect(lines).toContain('ferry: export: resolve: 1 images');
    expect(exported.stderr).toMatch(/^ferry: export: pull: 1 images, [\d.]+ [kMG]?B$/m);
    expect(exported.stderr).toMatch(/^ferry: export: pulled \S+ \(\d+ blobs pulled, 0 in the store\)$/m);
    expect(exported.stderr).toMatch(/^ferry: export: write: \d+ blobs, [\d.]+ [kMG]?B$/m);
    expect(exported.stderr).not.toMatch(/\[=|\r/);

    const imported = await ferry(['import', bundle, '--to', `${target.host}/p`, '--plain-http', ...store]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stderr.split('\n')).toContain('ferry: import: verify');
    expect(imported.stderr).toMatch(/^ferry: import: push: \d+ blobs, [\d.]+ [kMG]?B$/m);
    expect(imported.stderr).toMatch(/^ferry: import: tag: 1 images$/m);
  });

  // A bundle read from a stick takes a while: verify says its blobs and bytes up front, then what it hashed.
  it('verify writes a line log too: one file, a set of volumes, --present', async () => {
    const rig = seededRig();
    const image = `${rig.source.host}/${rig.images.images.appA.reference}`;
    const store = ['--store', join(dir, 'store')];
    for (const extra of [[], ['--split', '64k']]) {
      const r = await ferry(['export', image, '-o', join(dir, extra.length ? 'v.tar' : 'f.tar'), '--plain-http', ...store, '--quiet', ...extra]);
      expect(r.code, r.stderr).toBe(0);
    }
    const phase = /^ferry: verify: (\d+) blobs, ([\d.]+ [kMG]?B)$/m;
    const done = /^ferry: verify: ([\d.]+ [kMG]?B) in [\d.]+ m?s \([\d.]+ [kMG]?B\/s\)$/m;
    const file = await ferry(['verify', join(dir, 'f.tar')]);
    expect(file.code, file.stderr).toBe(0);
    const [, blobs, total] = file.stderr.match(phase) ?? [];
    expect(Number(blobs)).toBeGreaterThan(1);
    expect(file.stderr.match(done)?.[1]).toBe(total);
    // A set: the bytes its jobs read, each volume once for its own sha256 and its blobs' (and a blob across a
    // volume end again, alone: at 64k most of them); the blobs are the file's.
    const set = await ferry(['verify', join(dir, 'v.tar.000')]);
    expect(set.code, set.stderr).toBe(0);
    const [, setBlobs, setTotal] = set.stderr.match(phase) ?? [];
    expect(setBlobs).toBe(blobs);
    expect(set.stderr.match(done)?.[1]).toBe(setTotal);
    const present = await ferry(['verify', join(dir, 'v.tar.001'), '--volume', '1']);
    expect(present.code, present.stderr).toBe(0);
    // 64k is 65,536 bytes, said in decimal units.
    expect(present.stderr).toMatch(/^ferry: verify: 65\.5 kB$/m);
    for (const flag of ['--quiet', '--json', '--no-progress']) expect((await ferry(['verify', join(dir, 'v.tar.000'), flag])).stderr, flag).not.toMatch(/ferry: verify:/);
  });

  it('--no-progress, --quiet and --json keep stderr free of it; --debug logs the decisions', async () => {
    const rig = seededRig();
    const image = `${rig.source.host}/${rig.images.images.docker.reference}`;
    const store = ['--store', join(dir, 'store')];
    for (const flag of ['--no-progress', '--quiet', '--json']) {
      const r = await ferry(['export', image, '-o', join(dir, 'n.tar'), '--plain-http', ...store, flag]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(/ferry: export:/);
    }
    const debug = await ferry(['export', image, '-o', join(dir, 'd.tar'), '--plain-http', ...store, '--debug', '--no-progress']);
    expect(debug.code, debug.stderr).toBe(0);
    // Planned before bytes move: the store holds it all, so nothing is to pull.
    expect(debug.stderr).toMatch(/^ferry: debug: phase pull: 1 images, 0 B$/m);
    // The store already holds every blob from the first export: each skip is said.
    expect(debug.stderr).toMatch(/^ferry: debug: skipped sha256:[0-9a-f]{64} \(\d+ bytes\) in /m);
    expect(debug.stderr).toMatch(/^ferry: debug: image \S+: done/m);
  });
});
