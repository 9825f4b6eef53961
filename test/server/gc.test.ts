import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ServeGcReport } from '../../src/registry/api/index.js';
import { manualClock } from '../helpers/manual-clock.js';
import { pushImage, serve, sha256 } from './harness.js';

// POST /ferry/v1/gc at the protocol level: a repository's GC touches only that
// repository (the same untagged manifest linked elsewhere stays there, with its
// blobs), a read-only server still answers a dry run, and every answer carries
// X-Ferry-Serve. The roles and the CLI are in test/housekeeping/prune-serve.test.ts.

const HOUR = 3_600_000;
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

describe('POST /ferry/v1/gc', () => {
  it('a repository GC unlinks the orphan there only; another repository linking the same manifest keeps it and its blobs', async () => {
    const clock = manualClock();
    const s = await serve({ clock: clock.now });
    try {
      const orphan = await pushImage(s, 'team/a', 'v1', 'shared');
      await pushImage(s, 'team/a', 'v1', 'newer'); // v1 moves: `shared` is untagged in team/a
      await pushImage(s, 'team/b', orphan.digest, 'shared'); // and pushed by digest into team/b
      clock.advance(3 * HOUR);
      await s.server.sweep();

      const answer = await s.send('POST', '/ferry/v1/gc?repository=team/a');
      expect(answer.status).toBe(200);
      expect(answer.headers['x-ferry-serve']).toBe('v1');
      const report = answer.json<ServeGcReport>();
      expect(report).toMatchObject({ dryRun: false, repository: 'team/a', manifests: [{ repository: 'team/a', digest: orphan.digest, mediaType: MANIFEST }] });
      expect(report.blobs.count).toBe(0); // team/b still links the manifest, its config and layer
      expect((await s.send('GET', `/v2/team/a/manifests/${orphan.digest}`, { headers: { accept: MANIFEST } })).status).toBe(404);
      expect((await s.send('GET', `/v2/team/b/manifests/${orphan.digest}`, { headers: { accept: MANIFEST } })).status).toBe(200);
      for (const blob of orphan.blobs) expect((await s.send('GET', `/v2/team/b/blobs/${sha256(blob)}`)).status).toBe(200);
      expect((await s.send('GET', '/v2/team/a/manifests/v1', { headers: { accept: MANIFEST } })).status).toBe(200);

      // The whole registry: team/b's copy goes too, and now the bytes with it.
      const whole = (await s.send('POST', '/ferry/v1/gc')).json<ServeGcReport>();
      expect(whole.manifests.map((m) => `${m.repository}@${m.digest}`)).toEqual([`team/b@${orphan.digest}`]);
      expect(whole.blobs.count).toBe(3);
      expect((await s.send('GET', `/v2/team/b/blobs/${sha256(orphan.blobs[0] ?? '')}`)).status).toBe(404);
    } finally {
      await s.stop();
    }
  });

  it('a read-only server answers a dry run and refuses the real one; GET is not the way in', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-serve-gc-ro-'));
    const clock = manualClock();
    const writer = await serve({ storeDir: dir, clock: clock.now });
    const orphan = await pushImage(writer, 'ro/app', 'v1', 'old');
    await pushImage(writer, 'ro/app', 'v1', 'new');
    await writer.stop();
    clock.advance(3 * HOUR);
    const s = await serve({ storeDir: dir, readOnly: true, clock: clock.now });
    try {
      const dry = await s.send('POST', '/ferry/v1/gc?dry-run=1');
      expect(dry.status).toBe(200);
      expect(dry.json<ServeGcReport>().manifests.map((m) => m.digest)).toEqual([orphan.digest]);
      const real = await s.send('POST', '/ferry/v1/gc');
      expect([real.status, real.code]).toEqual([405, 'UNSUPPORTED']);
      expect((await s.send('GET', '/ferry/v1/gc')).status).toBe(405);
      expect((await s.send('GET', `/v2/ro/app/manifests/${orphan.digest}`, { headers: { accept: MANIFEST } })).status).toBe(200);
    } finally {
      await s.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
