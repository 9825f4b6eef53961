import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Descriptor } from '../../src/core/descriptor.js';
import { ttyBars } from '../../src/cli/progress-tty.js';
import { ferry } from '../helpers/ferry-cli.js';
import { rigContext, seededRig } from '../rig/context.js';
import { startRegistry, type Registry } from '../rig/registry.js';

// Issue 13.1: the pull phase of export and the copy phase of copy start with
// their total, planned from the manifests before a byte moves: the bytes the
// target (the store, the destination registry) does not hold already. The
// announced total is what the phase then moves, so the bar reaches exactly 100 %.

const dir = mkdtempSync(join(tmpdir(), 'ferry-progress-plan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The phase's announced total and, from its closing line, what it moved (both as the line log prints them). */
function announcedAndMoved(stderr: string, label: string, phase: string, items: number): { announced: string; moved: string } {
  // `ferry copy`'s copy phase is not named twice: `ferry: copy: 1 images, …`.
  const named = phase === label ? '' : `${phase}: `;
  const announced = new RegExp(`^ferry: ${label}: ${named}${items} images, (\\S+ [kMG]?B)$`, 'm').exec(stderr)?.[1];
  const moved = new RegExp(`^ferry: ${label}: ${named}(\\S+ [kMG]?B) in `, 'm').exec(stderr)?.[1];
  expect(announced, stderr).toBeDefined();
  expect(moved, stderr).toBeDefined();
  return { announced: announced!, moved: moved! };
}

describe('a planned total on a terminal', () => {
  it('the bar reaches exactly 100 % when the phase has moved its announced total', () => {
    let text = '';
    const tty = { isTTY: true, columns: 100, write: (s: string) => ((text += s), true), cursorTo: () => true, clearLine: () => true };
    const bars = ttyBars('export', tty, { throttleMs: 0 });
    const blob: Descriptor = { mediaType: 'application/octet-stream', digest: `sha256:${'1'.repeat(64)}` as Descriptor['digest'], size: 1000 };
    bars.sink({ type: 'phase', phase: 'pull', items: 1, total: 1000 });
    bars.sink({ type: 'node-start', descriptor: blob, repository: 'acme/api' });
    bars.sink({ type: 'bytes', descriptor: blob, bytes: 600 });
    expect(text).toMatch(/export pull \[[=-]+\] 60% /);
    bars.sink({ type: 'bytes', descriptor: blob, bytes: 400 });
    bars.sink({ type: 'image', name: 'acme/api:1', state: 'done' });
    bars.sink({ type: 'phase', phase: 'write', items: 1, total: 1000 });
    bars.end();
    expect(text).toMatch(/export pull \[=+\] 100% 1\.0 kB\/1\.0 kB/);
    // Complete and cleared: not drawn again by the events that follow it.
    expect(text.match(/export pull \[/g)).toHaveLength(3);
  });
});

describe.skipIf(!rigContext().available)('the total of a phase is known before bytes move', () => {
  let target: Registry;
  beforeAll(async () => {
    target = await startRegistry({});
  });
  afterAll(async () => target?.stop());

  const ref = (key: 'appA' | 'appB'): string => `${seededRig().source.host}/${seededRig().images.images[key].reference}`;

  it('export: the pull phase announces the bytes the store lacks, and moves exactly those', async () => {
    const store = ['--store', join(dir, 'store')];
    // The store holds app-b (and the base layer app-a shares with it) before the second export.
    const first = await ferry(['export', ref('appB'), '-o', join(dir, 'b.tar'), '--plain-http', ...store]);
    expect(first.code, first.stderr).toBe(0);
    const second = await ferry(['export', ref('appA'), ref('appB'), '-o', join(dir, 'ab.tar'), '--plain-http', ...store]);
    expect(second.code, second.stderr).toBe(0);
    const { announced, moved } = announcedAndMoved(second.stderr, 'export', 'pull', 2);
    expect(moved).toBe(announced);
  });

  it('a blob one repository of the store holds is still linked into another that lacks it', async () => {
    // x:1 and x:2 share the base layer in one repository; y:1 is x:2 again, in another.
    const src = `${target.host}/shared`;
    for (const [from, to] of [[ref('appA'), `${src}/x:1`], [ref('appB'), `${src}/x:2`], [ref('appB'), `${src}/y:1`]] as const) {
      const c = await ferry(['copy', from, to, '--plain-http']);
      expect(c.code, c.stderr).toBe(0);
    }
    const store = ['--store', join(dir, 'shared-store')];
    const first = await ferry(['export', `${src}/x:1`, '-o', join(dir, 'x1.tar'), '--plain-http', ...store]);
    expect(first.code, first.stderr).toBe(0);
    const both = await ferry(['export', `${src}/x:2`, `${src}/y:1`, '-o', join(dir, 'x2y1.tar'), '--plain-http', ...store]);
    expect(both.code, both.stderr).toBe(0);
    const { announced, moved } = announcedAndMoved(both.stderr, 'export', 'pull', 2);
    expect(moved).toBe(announced);
  });

  it('copy: the copy phase announces the bytes the destination lacks, and moves exactly those', async () => {
    const to = `${target.host}/plan/app`;
    const first = await ferry(['copy', ref('appB'), `${to}:b`, '--plain-http']);
    expect(first.code, first.stderr).toBe(0);
    const second = await ferry(['copy', ref('appA'), `${to}:a`, '--plain-http']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr.split('\n')).toContain('ferry: copy: resolve: 1 images');
    const { announced, moved } = announcedAndMoved(second.stderr, 'copy', 'copy', 1);
    expect(moved).toBe(announced);
  });
});
