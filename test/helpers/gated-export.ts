import { openStore, type Store } from '../../src/store/index.js';
import { RegistryPool } from '../../src/transfer/registry-pool.js';
import { forwardTo, startFixture, type FixtureServer } from '../client/fixture-server.js';
import { seededRig } from '../rig/context.js';
import { workDir, type WorkDir } from './transfer-kit.js';

// The export side of a test: a fresh store and a registry pool (plain HTTP,
// no credentials) in a temporary directory, closed together. gatedExport adds
// an export against the rig's real registry through a proxy that holds the
// requests `hold` picks until one `opens` picks arrives (or 10 s pass, so a
// build that waits for the held answer still finishes and fails its assertion
// instead of hanging). `openedWhileHeld` says whether the export asked for the
// second while the first was unanswered: what overlapping round trips means.

export interface ExportSide {
  store: Store;
  pool: RegistryPool;
  close(): Promise<void>;
}

export async function exportSide(prefix: string): Promise<ExportSide> {
  const work: WorkDir = await workDir(prefix);
  const store = await openStore(work.path('store'));
  const pool = new RegistryPool({ plainHttp: true, env: {}, homeDir: work.path('home') });
  return {
    store,
    pool,
    async close() {
      await pool.close();
      store.close();
      await work.cleanup();
    },
  };
}

export interface GatedExport extends ExportSide {
  proxy: FixtureServer;
  openedWhileHeld(): boolean;
}

export async function gatedExport(prefix: string, rules: { hold: (path: string) => boolean; opens: (path: string) => boolean }): Promise<GatedExport> {
  const upstream = new URL(seededRig().source.url);
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const fallback = setTimeout(() => release(), 10_000);
  let held = false;
  let openedWhileHeld = false;
  const proxy = await startFixture(async (req, res) => {
    const path = req.url ?? '';
    if (rules.hold(path)) {
      held = true;
      await gate;
      held = false;
    } else if (rules.opens(path)) {
      if (held) openedWhileHeld = true;
      release();
      clearTimeout(fallback);
    }
    await forwardTo(upstream, new URL(path, 'http://proxy'), req, res);
  });
  const side = await exportSide(prefix);
  return {
    ...side,
    proxy,
    openedWhileHeld: () => openedWhileHeld,
    async close() {
      release();
      clearTimeout(fallback);
      await side.close();
      await proxy.stop();
    },
  };
}
