import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProgressCounters } from '../../src/cli/progress-counters.js';
import { startFaultProxy } from '../client/fault-proxy.js';
import { ferry } from '../helpers/ferry-cli.js';
import { rigContext, seededRig } from '../rig/context.js';
import { startRegistry, type Registry } from '../rig/registry.js';

// Issue 15.2: the --json documents of export, import and copy carry `progress`,
// counted from the same event stream the bars and the line log read — so they
// say what happened: each phase's announced total beside what it moved (13.1:
// equal), nodes copied / skipped / mounted, and retries.

const dir = mkdtempSync(join(tmpdir(), 'ferry-progress-counters-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Doc {
  progress: ProgressCounters;
  pulled?: { copied: number; skipped: number; bytes: number };
}

const phase = (doc: Doc, name: string) => doc.progress.phases.find((p) => p.phase === name);

describe.skipIf(!rigContext().available)('--json progress counters', () => {
  let target: Registry;
  beforeAll(async () => {
    target = await startRegistry({});
  });
  afterAll(async () => target?.stop());

  const ref = (key: 'appA' | 'appB', host = seededRig().source.host): string => `${host}/${seededRig().images.images[key].reference}`;
  const store = ['--store', join(dir, 'store')];

  it('export: the pull total is what moved (the store held part of it), and a second export copies nothing', async () => {
    const first = await ferry(['export', ref('appB'), '-o', join(dir, 'b.tar'), '--plain-http', ...store]);
    expect(first.code, first.stderr).toBe(0);
    const r = await ferry(['export', ref('appA'), ref('appB'), '-o', join(dir, 'ab.tar'), '--plain-http', ...store, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = r.json as Doc;
    expect(doc.progress.phases.map((p) => p.phase)).toEqual(['resolve', 'pull', 'write']);
    const pull = phase(doc, 'pull')!;
    expect(pull.items).toBe(2);
    expect(pull.total).toBeGreaterThan(0);
    expect(pull.moved).toBe(pull.total);
    // The store held app-b and the base layer: they were not part of the plan.
    expect(pull.total).toBeLessThan(doc.pulled!.bytes + 384 * 1024);
    const write = phase(doc, 'write')!;
    expect(write.moved).toBe(write.total);
    expect(doc.progress.copied).toBe(doc.pulled!.copied);
    expect(doc.progress.skipped).toBe(doc.pulled!.skipped);
    expect(doc.progress.skipped).toBeGreaterThan(0);
    expect(doc.progress.retries).toBe(0);

    const again = await ferry(['export', ref('appA'), ref('appB'), '-o', join(dir, 'ab2.tar'), '--plain-http', ...store, '--json']);
    expect(again.code, again.stderr).toBe(0);
    const second = again.json as Doc;
    expect(second.progress.copied).toBe(0);
    expect(second.progress.mounted).toBe(0);
    expect(second.progress.skipped).toBe(second.pulled!.skipped);
    expect(second.progress.skipped).toBeGreaterThanOrEqual(2);
    expect(phase(second, 'pull')).toEqual({ phase: 'pull', items: 2, total: 0, moved: 0 });
  });

  it('import and copy: each byte phase moves its announced total; nodes are counted', async () => {
    const imported = await ferry(['import', join(dir, 'ab.tar'), '--to', `${target.host}/imp`, '--plain-http', ...store, '--json']);
    expect(imported.code, imported.stderr).toBe(0);
    const doc = imported.json as Doc;
    expect(doc.progress.phases.map((p) => p.phase)).toEqual(['verify', 'push', 'tag']);
    const push = phase(doc, 'push')!;
    expect(push.total).toBeGreaterThan(0);
    expect(push.moved).toBe(push.total);
    expect(doc.progress.copied).toBeGreaterThan(0);

    const copied = await ferry(['copy', ref('appA'), `${target.host}/cp/app:a`, '--plain-http', '--json']);
    expect(copied.code, copied.stderr).toBe(0);
    const c = copied.json as Doc & { copy: { copied: number; skipped: number; mounted: number } };
    expect(c.progress.phases.map((p) => p.phase)).toEqual(['resolve', 'copy']);
    expect(phase(c, 'copy')!.moved).toBe(phase(c, 'copy')!.total);
    expect({ copied: c.progress.copied, skipped: c.progress.skipped, mounted: c.progress.mounted }).toEqual({ copied: c.copy.copied, skipped: c.copy.skipped, mounted: c.copy.mounted });
  });

  it('a registry answering 503 once per blob: every retry is counted', async () => {
    const rig = seededRig();
    const seen = new Set<string>();
    const proxy = await startFaultProxy(new URL(rig.source.url), {
      pick: (_n, req) => {
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        if (req.method !== 'GET' || !path.includes('/blobs/sha256:') || seen.has(path)) return 'forward';
        seen.add(path);
        return '503';
      },
    });
    try {
      const r = await ferry(['export', ref('appB', proxy.host), '-o', join(dir, 'r.tar'), '--plain-http', '--store', join(dir, 'retry-store'), '--json', '--retries', '3']);
      expect(r.code, r.stderr).toBe(0);
      const doc = r.json as Doc;
      expect(proxy.stats.faults['503']).toBeGreaterThan(0);
      expect(doc.progress.retries).toBe(proxy.stats.faults['503']);
    } finally {
      await proxy.stop();
    }
  });
});
