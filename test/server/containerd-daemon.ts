import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { killOnExit, stopChild } from '../rig/child-reaper.js';
import { run, type RunResult } from '../rig/peers.js';

// A private containerd (peers.md): its own config, root, state and socket under a
// temp dir, started as a child and stopped by its pid. `ctr` talks to it alone.

export interface Containerd {
  readonly socket: string;
  readonly dir: string;
  ctr(args: readonly string[]): Promise<RunResult>;
  stop(): Promise<void>;
}

export async function startContainerd(): Promise<Containerd> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-containerd-'));
  const socket = join(dir, 'containerd.sock');
  const config = join(dir, 'config.toml');
  await writeFile(
    config,
    [
      'version = 2',
      `root = "${join(dir, 'root')}"`,
      `state = "${join(dir, 'state')}"`,
      '[grpc]',
      `  address = "${socket}"`,
      '[ttrpc]',
      `  address = "${join(dir, 'ttrpc.sock')}"`,
      '',
    ].join('\n'),
  );
  const logFile = join(dir, 'containerd.log');
  const fd = openSync(logFile, 'a');
  const child = spawn('containerd', ['--config', config], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  killOnExit(child);
  const ctr = (args: readonly string[]): Promise<RunResult> => run('ctr', ['-a', socket, '-n', 'ferry-test', ...args]);
  for (let i = 0; ; i++) {
    if ((await ctr(['version'])).code === 0) break;
    if (i >= 50 || child.exitCode !== null) {
      await stopChild(child);
      const log = await readFile(logFile, 'utf8').catch(() => '');
      await rm(dir, { recursive: true, force: true });
      throw new Error(`containerd did not start: ${log.slice(-1500)}`);
    }
    await sleep(200);
  }
  return {
    socket,
    dir,
    ctr,
    stop: async () => {
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
