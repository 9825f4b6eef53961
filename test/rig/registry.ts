import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa, type TestCa } from './ca.js';
import { freePort } from './free-port.js';
import { runOk } from './peers.js';
import { registryConfigYaml, type RegistryConfigInput } from './registry-config.js';
import { waitForRegistry } from './registry-ready.js';
import { startTokenServer, type TokenServer, type TokenServerOptions } from './token-server.js';
import { killOnExit, stopChild } from './child-reaper.js';

// A real `docker-registry serve` on a free loopback port, with its own temp dir
// (config, storage, htpasswd, log). stop() kills it by pid and removes that dir.

export interface RegistryOptions {
  /** https with a server cert from a throwaway CA (pass one to share it). */
  readonly tls?: boolean | TestCa;
  readonly auth?: 'none' | 'basic' | 'token';
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** For auth 'token': an issuer to trust; without it the registry starts (and stops) its own. */
  readonly tokenServer?: TokenServer | undefined;
  readonly tokenOptions?: TokenServerOptions;
  /** `validation.manifests.urls.allow`; see foreignUrlPattern() in foreign-server.ts. */
  readonly allowForeignUrls?: readonly string[];
  /** `storage.delete.enabled` (default true); false answers DELETE with 405 UNSUPPORTED. */
  readonly deleteEnabled?: boolean;
}

export interface Registry {
  readonly url: string;
  /** 127.0.0.1:PORT — the registry part of an image reference. */
  readonly host: string;
  readonly scheme: 'http' | 'https';
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly caCert?: string | undefined;
  readonly caCertPath?: string | undefined;
  /** A dir holding `ca.crt` (skopeo --dest-cert-dir, containerd certs.d). */
  readonly certDir?: string | undefined;
  readonly tokenServer?: TokenServer | undefined;
  readonly storageDir: string;
  readonly logFile: string;
  readonly pid: number;
  stop(): Promise<void>;
}

const START_ATTEMPTS = 3;

export async function startRegistry(opts: RegistryOptions = {}): Promise<Registry> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-rig-registry-'));
  const storageDir = join(dir, 'storage');
  const logFile = join(dir, 'registry.log');
  await mkdir(storageDir);
  const ca = opts.tls === true ? await createCa(dir) : opts.tls || undefined;
  const auth = opts.auth ?? 'none';
  const username = auth === 'basic' ? (opts.username ?? 'ferry') : undefined;
  const password = auth === 'basic' ? (opts.password ?? 'ferry-secret') : undefined;
  let htpasswdPath: string | undefined;
  if (username !== undefined && password !== undefined) {
    htpasswdPath = join(dir, 'htpasswd');
    const line = await runOk('htpasswd', ['-Bbn', username, password]);
    await writeFile(htpasswdPath, line.stdout.trim() + '\n');
  }
  const ownToken = auth === 'token' && !opts.tokenServer ? await startTokenServer(opts.tokenOptions) : undefined;
  const tokenServer = auth === 'token' ? (opts.tokenServer ?? ownToken) : undefined;
  const scheme = ca ? 'https' : 'http';

  let child: ChildProcess | undefined;
  let port = 0;
  for (let attempt = 1; !child; attempt++) {
    port = await freePort();
    const config: RegistryConfigInput = {
      port,
      storageDir,
      tls: ca ? { certPath: ca.serverCertPath, keyPath: ca.serverKeyPath } : undefined,
      htpasswdPath,
      token: tokenServer,
      allowForeignUrls: opts.allowForeignUrls,
      deleteEnabled: opts.deleteEnabled,
    };
    const configPath = join(dir, 'config.yml');
    await writeFile(configPath, registryConfigYaml(config));
    const logFd = openSync(logFile, 'a');
    const started = spawn('docker-registry', ['serve', configPath], { stdio: ['ignore', logFd, logFd] });
    closeSync(logFd);
    killOnExit(started);
    try {
      await waitForRegistry(`${scheme}://127.0.0.1:${port}/v2/`, started, ca?.caCertPem);
      child = started;
    } catch (e) {
      await stopChild(started);
      // Another process may have taken the port between freePort() and bind: try another.
      if (attempt >= START_ATTEMPTS) {
        const log = await readFile(logFile, 'utf8').catch(() => '');
        await ownToken?.stop();
        await rm(dir, { recursive: true, force: true });
        throw new Error(`docker-registry did not start: ${String(e)}\n${log.slice(-2000)}`);
      }
    }
  }
  const running = child;
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    scheme,
    username,
    password,
    caCert: ca?.caCertPem,
    caCertPath: ca?.caCertPath,
    certDir: ca?.certDir,
    tokenServer,
    storageDir,
    logFile,
    pid: running.pid ?? -1,
    stop: async () => {
      await stopChild(running);
      await ownToken?.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
