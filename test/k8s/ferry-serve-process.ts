import { spawn } from 'node:child_process';
import { killOnExit, stopChild } from '../rig/child-reaper.js';
import { FERRY_BIN } from '../helpers/ferry-cli.js';

// The real `ferry serve` as a child process, as a node's mirror would run it:
// on a free loopback port (--addr 127.0.0.1:0), its address read from the
// --json result, its access log (--request-log, one JSON line per request on
// stderr) collected for assertions. Stopped by pid.

export interface ServeLogEntry {
  method: string;
  path: string;
  status: number;
}

export interface FerryServe {
  /** 127.0.0.1:PORT */
  readonly address: string;
  readonly log: ServeLogEntry[];
  stop(): Promise<void>;
}

/** `args`: more serve flags (e.g. --users FILE). */
export async function startFerryServe(store: string, args: readonly string[] = []): Promise<FerryServe> {
  const child = spawn(process.execPath, [FERRY_BIN, 'serve', '--store', store, '--addr', '127.0.0.1:0', '--request-log', '--json', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FERRY_STORE: '' },
  });
  killOnExit(child);
  const log: ServeLogEntry[] = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
    const lines = stderr.split('\n');
    stderr = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('{')) log.push(JSON.parse(line) as ServeLogEntry);
    }
  });
  const address = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`ferry serve did not start: ${stdout}`)), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
      try {
        const result = JSON.parse(stdout) as { address: string };
        clearTimeout(timer);
        resolve(result.address);
      } catch {
        // not complete yet
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`ferry serve exited with ${code}: ${stdout}`));
    });
  });
  return { address, log, stop: () => stopChild(child) };
}
