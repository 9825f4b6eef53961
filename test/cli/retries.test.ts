import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ferry, type FerryResult } from '../helpers/ferry-cli.js';
import { sourceRefs, TargetView, workDir, type WorkDir } from '../helpers/transfer-kit.js';
import { startFaultProxy, type FaultProxy } from '../client/fault-proxy.js';
import { rigContext, seededRig } from '../rig/context.js';
import { freePort } from '../rig/free-port.js';
import { startRegistry, type Registry } from '../rig/registry.js';

// One retry budget (--retries), spent once per outage, every retry shown by
// --debug (issue 11 items 16-17, issue 15 item 1). A registry that is not
// there ends the run within that budget with one error line and exit 6; many
// retries on one AbortSignal leave no listener behind.

const RETRY_LINE = /^ferry: debug: retrying (.+) \((.+)\), (\d+)\/(\d+) in [\d.]+ s$/;

function retryLines(r: FerryResult): RegExpExecArray[] {
  return r.stderr.split('\n').flatMap((l) => {
    const m = RETRY_LINE.exec(l);
    return m ? [m] : [];
  });
}

function errorLines(r: FerryResult): string[] {
  return r.stderr.split('\n').filter((l) => l.startsWith('ferry: error:'));
}

function traceOf(path: string): Array<{ method: string; url: string; error?: string }> {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { method: string; url: string; error?: string });
}

it('--retries takes a whole number from 0 to 100 (exit 2 otherwise, before any request)', async () => {
  for (const bad of ['-1', '2.5', '1000']) {
    const r = await ferry(['inventory', '127.0.0.1:9', '-o', '/dev/null', '--plain-http', '--retries', bad]);
    expect(r.code, r.stderr).toBe(2);
    expect(errorLines(r)).toEqual(['ferry: error: --retries must be a whole number from 0 to 100']);
  }
});

describe.skipIf(!rigContext().available)('--retries: one budget, reported with --debug', () => {
  let work: WorkDir;
  let bundle: string;
  const keys = ['multi', 'docker', 'appA', 'appB'] as const;

  beforeAll(async () => {
    work = await workDir('ferry-retries-');
    bundle = work.path('b.tar');
    const r = await ferry(['export', ...sourceRefs(seededRig(), keys), '-o', bundle, '--plain-http', '--store', work.path('store')]);
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(async () => work?.cleanup());

  it('import to a port with nothing listening: exit 6, one error line, the budget spent once', async () => {
    const port = await freePort();
    const trace = work.path('refused.trace');
    // The hang guard: the budget below sleeps ~3 s in all; the old code kept retrying long after the error.
    const r = await ferry(['import', bundle, '--to', `127.0.0.1:${port}/x`, '--plain-http', '--retries', '3', '--debug', '--trace', trace], { timeoutMs: 15_000 });
    expect(r.code, r.stderr).toBe(6);
    expect(errorLines(r)).toHaveLength(1);
    expect(errorLines(r)[0]).toMatch(/connection refused/);
    const retried = retryLines(r);
    expect(retried.map((m) => `${m[3]}/${m[4]}`)).toEqual(['1/3', '2/3', '3/3']);
    expect(retried.every((m) => m[1] === `GET http://127.0.0.1:${port}/v2/` && m[2] === 'ECONNREFUSED')).toBe(true);
    // The first try and three retries, and nothing after: every other request failed without a connection attempt.
    const exchanges = traceOf(trace);
    expect(exchanges).toHaveLength(4);
    expect(exchanges.every((x) => x.error?.startsWith('ECONNREFUSED'))).toBe(true);
  });

  it('import into a registry that dies mid-import: exit 6, one error line, one budget, nothing tagged', async () => {
    const target: Registry = await startRegistry();
    let uploads = 0;
    const proxy: FaultProxy = await startFaultProxy(new URL(target.url), {
      // The registry goes away at the third blob upload: connections drop, the port closes.
      pick: (_n, req) => (req.method === 'POST' && req.url?.includes('/blobs/uploads/') && ++uploads === 3 ? 'die' : 'forward'),
    });
    try {
      const r = await ferry(['import', bundle, '--to', `${proxy.host}/x`, '--plain-http', '--retries', '3', '--debug'], { timeoutMs: 15_000 });
      expect(r.code, r.stderr).toBe(6);
      expect(errorLines(r)).toHaveLength(1);
      expect(proxy.stats.faults.die).toBe(1);
      // However many requests were in flight, the outage of that host is retried on one schedule.
      expect(retryLines(r).map((m) => `${m[3]}/${m[4]}`)).toEqual(['1/3', '2/3', '3/3']);
      const view = new TargetView(target);
      for (const key of keys) expect(await view.tags(`x/${seededRig().images.images[key].repository}`)).toEqual([]);
    } finally {
      await proxy.stop();
      await target.stop();
    }
  });

  it('export through cut blob bodies: each blob retried whole, every retry in --debug, no listener leak on the one signal', async () => {
    const rig = seededRig();
    const cuts = new Map<string, number>();
    const proxy = await startFaultProxy(new URL(rig.source.url), {
      // The first three GETs of every blob are cut half-way: three retries each, resumed with Range.
      pick: (_n, req) => {
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        if (req.method !== 'GET' || !path.includes('/blobs/sha256:')) return 'forward';
        const seen = (cuts.get(path) ?? 0) + 1;
        cuts.set(path, seen);
        return seen <= 3 ? 'cut' : 'forward';
      },
    });
    try {
      const refs = keys.map((k) => `${proxy.host}/${rig.images.images[k].reference}`);
      const r = await ferry(['export', ...refs, '-o', work.path('cut.tar'), '--plain-http', '--store', work.path('cut-store'), '--debug'], { timeoutMs: 60_000 });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(/MaxListenersExceededWarning/);
      expect(cuts.size).toBeGreaterThan(4);
      expect(proxy.stats.faults.cut).toBe(cuts.size * 3);
      // One debug line per retry, each naming the blob.
      const retried = retryLines(r);
      expect(retried).toHaveLength(proxy.stats.faults.cut);
      expect(retried.every((m) => /^blob sha256:[0-9a-f]{64}$/.test(m[1] ?? ''))).toBe(true);
    } finally {
      await proxy.stop();
    }
  });
});
