import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import type { RigContext } from './rig/context.js';
import { foreignUrlPattern, startForeignServer, type ForeignServer } from './rig/foreign-server.js';
import { buildTestImages } from './rig/images.js';
import { writeOciLayout } from './rig/oci-layout.js';
import { requirePeer } from './rig/peers.js';
import { startRegistry, type Registry } from './rig/registry.js';
import { seedRegistry } from './rig/seed.js';

// Once per run: the foreign-layer server and ONE seeded plain source registry,
// shared read-only by every test file. Basic-auth, TLS and token registries are
// started by the suites that need them (startRegistry), to keep this light.
// Without docker-registry/skopeo (and CI unset) suites skip instead of crashing;
// with CI=true requirePeer throws, because CI must never skip silently.

const PEERS = [
  ['docker-registry', 'docker-registry'],
  ['skopeo', 'skopeo'],
  ['htpasswd', 'apache2-utils'],
  ['openssl', 'openssl'],
] as const;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // A CLI run without --store uses the default store ($XDG_DATA_HOME/ferry): give the whole run its own,
  // set before the test processes fork, so no test reads or writes the user's ~/.local/share/ferry.
  const dataHome = await mkdtemp(join(tmpdir(), 'ferry-test-data-'));
  process.env.XDG_DATA_HOME = dataHome;
  const removeDataHome = () => rm(dataHome, { recursive: true, force: true });
  const missing = PEERS.filter(([bin, pkg]) => !requirePeer(bin, pkg));
  if (missing.length > 0) {
    const reason = missing.map(([bin, pkg]) => `${bin} not found — apt-get install -y ${pkg}`).join('; ');
    project.provide('rig', { available: false, reason } satisfies RigContext);
    return removeDataHome;
  }
  let foreign: ForeignServer | undefined;
  let registry: Registry | undefined;
  let layoutDir: string | undefined;
  const teardown = async (): Promise<void> => {
    await registry?.stop();
    await foreign?.stop();
    if (layoutDir) await rm(layoutDir, { recursive: true, force: true });
    await removeDataHome();
  };
  try {
    foreign = await startForeignServer();
    const built = await buildTestImages({ foreignBaseUrl: foreign.url });
    const { foreignLayer } = built.set;
    foreign.add(foreignLayer.digest, built.blobs.get(foreignLayer.digest));
    registry = await startRegistry({ allowForeignUrls: [foreignUrlPattern(foreign.url)] });
    await seedRegistry(registry, built);
    layoutDir = await mkdtemp(join(tmpdir(), 'ferry-rig-layout-'));
    const roots = Object.values(built.set.images).map((image) => ({
      descriptor: image,
      refName: image.tag !== undefined ? image.reference : undefined,
    }));
    await writeOciLayout(layoutDir, built.blobs, roots);
    project.provide('rig', {
      available: true,
      source: { url: registry.url, host: registry.host, scheme: 'http' },
      foreign: { url: foreign.url },
      images: built.set,
      layoutDir,
    } satisfies RigContext);
  } catch (e) {
    await teardown();
    throw e;
  }
  return teardown;
}
