import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { openStore, type Store } from '../../src/store/index.js';
import { RegistryPool } from '../../src/transfer/registry-pool.js';
import { startFixture, type FixtureServer } from '../client/fixture-server.js';
import { seededRig } from '../rig/context.js';
import { workDir, type WorkDir } from './transfer-kit.js';

// An export against the rig's real registry through a proxy that holds the
// requests `hold` picks until one `opens` picks arrives (or 10 s pass, so a
// build that waits for the held answer still finishes and fails its assertion
// instead of hanging). `openedWhileHeld` says whether the export asked for the
// second while the first was unanswered: what overlapping round trips means.

export interface GatedExport {
  proxy: FixtureServer;
  store: Store;
  pool: RegistryPool;
  openedWhileHeld(): boolean;
  close(): Promise<void>;
}

export async function gatedExport(prefix: string, rules: { hold: (path: string) => boolean; opens: (path: string) => boolean }): Promise<GatedExport> {
  const upstream = new URL(seededRig().source.url);
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const fallback = setTimeout(() => release(), 10_000);
  let held = false;
  let openedWhileHeld = false;
  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  };
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
    forward(req, res);
  });
  const work: WorkDir = await workDir(prefix);
  const store = await openStore(work.path('store'));
  const pool = new RegistryPool({ plainHttp: true, env: {}, homeDir: work.path('home') });
  return {
    proxy,
    store,
    pool,
    openedWhileHeld: () => openedWhileHeld,
    async close() {
      release();
      clearTimeout(fallback);
      await pool.close();
      store.close();
      await proxy.stop();
      await work.cleanup();
    },
  };
}
