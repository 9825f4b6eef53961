import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// Runs the real CLI (bin/ferry.cjs over dist/, built by `npm test` before vitest)
// as a user would, and captures what it printed and how it exited.

export const FERRY_BIN = fileURLToPath(new URL('../../bin/ferry.cjs', import.meta.url));

export interface FerryResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (for --json runs); undefined when it is not JSON. */
  json: unknown;
}

export function ferry(args: readonly string[], options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number; input?: string } = {}): Promise<FerryResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FERRY_BIN, ...args], {
      cwd: options.cwd,
      env: { ...process.env, FERRY_STORE: '', ...options.env },
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 110_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr, json });
    });
  });
}
