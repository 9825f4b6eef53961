import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Descriptor } from '../../src/core/descriptor.js';
import { ExitCode } from '../../src/core/errors.js';
import { upstreamRepositoryName } from '../../src/core/upstream-repository.js';
import { openStore } from '../../src/store/index.js';
import { ferry } from '../helpers/ferry-cli.js';
import { rigContext, seededRig } from '../rig/context.js';

// Export pulls into the store first; that store is also what `ferry serve` can
// serve, so every image must be complete in its own repository (per-repository
// links), including the layers it shares with another image pulled at the same time.

const dir = mkdtempSync(join(tmpdir(), 'ferry-export-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!rigContext().available)('the store after export', () => {
  it('links a shared layer into every repository that uses it, fetched once', async () => {
    const rig = seededRig();
    const images = [rig.images.images.appA, rig.images.images.appB];
    const trace = join(dir, 'trace.jsonl');
    const r = await ferry(['export', ...images.map((i) => `${rig.source.host}/${i.reference}`), '-o', join(dir, 'b.tar'), '--plain-http', '--store', join(dir, 'store'), '--trace', trace, '--no-with-referrers']);
    expect(r.code, r.stderr).toBe(0);
    const store = await openStore(join(dir, 'store'), { readOnly: true });
    try {
      for (const image of images) {
        const repo = store.repository(upstreamRepositoryName(rig.source.host, image.repository));
        for (const blob of image.blobs) expect(await repo.exists({ mediaType: blob.mediaType, digest: blob.digest, size: blob.size } as Descriptor), `${image.repository} ${blob.digest}`).toBe(true);
        expect((await repo.resolve(image.tag!)).digest).toBe(image.digest);
      }
    } finally {
      store.close();
    }
    const shared = images[0]!.blobs.filter((b) => images[1]!.blobs.some((o) => o.digest === b.digest));
    expect(shared.length).toBeGreaterThan(0);
    const { readFileSync } = await import('node:fs');
    const gets = readFileSync(trace, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { method: string; url: string; status: number });
    for (const blob of shared) {
      expect(gets.filter((g) => g.method === 'GET' && g.url.includes(`/blobs/${blob.digest}`) && g.status < 300)).toHaveLength(1);
    }
  });

  it('links a layer an earlier export brought into the store into a new repository, not fetched again', async () => {
    const rig = seededRig();
    const [first, second] = [rig.images.images.appA, rig.images.images.appB];
    const store = join(dir, 'store-later');
    const exportOf = async (image: typeof first, name: string) => {
      const trace = join(dir, `${name}.jsonl`);
      const r = await ferry(['export', `${rig.source.host}/${image.reference}`, '-o', join(dir, `${name}.tar`), '--plain-http', '--store', store, '--trace', trace, '--no-with-referrers']);
      expect(r.code, r.stderr).toBe(0);
      const { readFileSync } = await import('node:fs');
      return readFileSync(trace, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { method: string; url: string; status: number });
    };
    await exportOf(first, 'earlier');
    const gets = await exportOf(second, 'later');
    const shared = second.blobs.filter((b) => first.blobs.some((o) => o.digest === b.digest));
    expect(shared.length).toBeGreaterThan(0);
    const opened = await openStore(store, { readOnly: true });
    try {
      const repo = opened.repository(upstreamRepositoryName(rig.source.host, second.repository));
      for (const blob of shared) {
        expect(gets.filter((g) => g.method === 'GET' && g.url.includes(`/blobs/${blob.digest}`))).toEqual([]);
        expect(await repo.exists({ mediaType: blob.mediaType, digest: blob.digest, size: blob.size } as Descriptor)).toBe(true);
      }
    } finally {
      opened.close();
    }
  });

  // The writer copies the blobs this export pulled without hashing them again (they were hashed on the
  // way in); a blob the store held from before is hashed as it is copied, so a rotted one cannot cross.
  it('refuses a layer that rotted in the store since an earlier export, naming it, and writes no bundle', async () => {
    const rig = seededRig();
    const [first, second] = [rig.images.images.appA, rig.images.images.appB];
    const store = join(dir, 'store-rotted');
    const exportOf = (image: typeof first, out: string) =>
      ferry(['export', `${rig.source.host}/${image.reference}`, '-o', out, '--plain-http', '--store', store, '--no-with-referrers']);
    const earlier = await exportOf(first, join(dir, 'rot-earlier.tar'));
    expect(earlier.code, earlier.stderr).toBe(0);
    const shared = second.blobs.find((b) => b.mediaType.includes('layer') && first.blobs.some((o) => o.digest === b.digest));
    expect(shared).toBeDefined();
    const opened = await openStore(store, { readOnly: true });
    const file = opened.blobPath(shared!.digest as Descriptor['digest']);
    opened.close();
    const { chmodSync, existsSync, readFileSync, writeFileSync } = await import('node:fs');
    chmodSync(file, 0o644);
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] as number) ^ 1;
    writeFileSync(file, bytes);
    const out = join(dir, 'rot-later.tar');
    const later = await exportOf(second, out);
    expect(later.code).toBe(ExitCode.integrity);
    expect(later.stderr).toContain(shared!.digest);
    expect(later.stderr).toContain('digest mismatch');
    expect(existsSync(out)).toBe(false);
  });
});
