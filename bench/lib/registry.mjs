// A real `docker-registry serve` (CNCF distribution 2.8) on a free loopback
// port, the bench's source and target. A port of test/rig/registry.ts reduced
// to what the bench needs: plain HTTP, no auth, delete on, log level error.
import { closeSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { stop, track } from './children.mjs';
import { processCpuMs } from './cpu-time.mjs';

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function probe(url) {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Resolves once GET url answers 200/401; throws if `child` exits first. */
export async function waitReady(url, child, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited (${child.exitCode ?? child.signalCode}) before answering ${url}`);
    try {
      const status = await probe(url);
      if (status === 200 || status === 401) return;
      last = `HTTP ${status}`;
    } catch (e) {
      last = e.message;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms: ${last}`);
}

function configYaml(port, storageDir) {
  // JSON is YAML: no dependency needed for the config.
  return JSON.stringify({
    version: 0.1,
    log: { level: 'error', formatter: 'text', accesslog: { disabled: true } },
    storage: {
      filesystem: { rootdirectory: storageDir },
      delete: { enabled: true },
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: { addr: `127.0.0.1:${port}`, secret: randomBytes(16).toString('hex') },
    // Foreign layers (the mix's Windows image) name loopback URLs; distribution refuses those unless allowed.
    validation: { manifests: { urls: { allow: ['^http://127\\.0\\.0\\.1:'] } } },
  });
}

/**
 * Starts a registry. With `storageDir` it serves (and keeps) that directory; without,
 * it gets a fresh empty one that stop() removes.
 */
export async function startRegistry({ storageDir, workDir } = {}) {
  const dir = await mkdtemp(join(workDir ?? tmpdir(), 'ferry-bench-registry-'));
  const storage = storageDir ?? join(dir, 'storage');
  await mkdir(storage, { recursive: true });
  const logFile = join(dir, 'registry.log');
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const configPath = join(dir, 'config.yml');
    await writeFile(configPath, configYaml(port, storage));
    const logFd = openSync(logFile, 'a');
    const child = track('docker-registry', ['serve', configPath], { stdio: ['ignore', logFd, logFd] });
    closeSync(logFd);
    try {
      await waitReady(`http://127.0.0.1:${port}/v2/`, child);
      return {
        host: `127.0.0.1:${port}`,
        url: `http://127.0.0.1:${port}`,
        storageDir: storage,
        pid: child.pid,
        /** CPU time (user + system) the registry has used so far, from /proc (ms; NaN where there is none). */
        cpuMs: () => processCpuMs(child.pid),
        stop: async () => {
          await stop(child);
          await rm(dir, { recursive: true, force: true });
        },
      };
    } catch (e) {
      await stop(child);
      if (attempt >= 3) {
        const log = await readFile(logFile, 'utf8').catch(() => '');
        await rm(dir, { recursive: true, force: true });
        throw new Error(`docker-registry did not start: ${e.message}\n${log.slice(-2000)}`);
      }
    }
  }
}
