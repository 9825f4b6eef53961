import { spawn, spawnSync } from 'node:child_process';

// Peer binaries (docker-registry, skopeo, containerd, ...) the suites run for real.
// Locally a missing peer skips its suite with one line saying how to install it;
// under CI a missing peer is an error, because a silently skipped suite passes.

export function hasBinary(name: string): boolean {
  const found = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', name], { stdio: 'ignore' });
  return found.status === 0;
}

/** true when `name` is on PATH; false (after one line on stderr) when it is not and CI is unset. */
export function requirePeer(name: string, aptPackage: string): boolean {
  if (hasBinary(name)) return true;
  const install = `apt-get install -y ${aptPackage}`;
  if (process.env.CI === 'true') {
    throw new Error(`${name} not found and CI=true: suites must not skip — ${install}`);
  }
  process.stderr.write(`skipping: ${name} not found — ${install}\n`);
  return false;
}

/**
 * true when a suite's precondition other than a binary holds (root, a mount, a
 * kernel feature); false (after one line on stderr) when it does not and CI is
 * unset. Under CI=true a missing precondition is an error naming it and how to
 * provide it: CI must never skip silently.
 */
export function requireCapability(what: string, available: boolean, howTo: string): boolean {
  if (available) return true;
  if (process.env.CI === 'true') throw new Error(`${what} is not available and CI=true: suites must not skip — ${howTo}`);
  process.stderr.write(`skipping: ${what} is not available — ${howTo}\n`);
  return false;
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string | Uint8Array;
  /** Kill the command after this many ms (default 120 s) and report code 124, like timeout(1). */
  readonly timeoutMs?: number;
}

/** Run a command to completion and capture its output; never throws for a non-zero exit. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 120_000);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: timedOut ? 124 : (code ?? (signal ? 128 : 1)),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    // A command that exits without reading stdin must not crash us with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** Like run, but throws with the command line and its stderr when the exit code is not 0. */
export async function runOk(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const result = await run(cmd, args, opts);
  if (result.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`);
  }
  return result;
}
