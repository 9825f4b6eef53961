import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { InternalError, NetworkError, UsageError, type FerryError } from '../core/errors.js';

// containerd's own client, `ctr`, run as a child: the one tool present on
// every containerd node, speaking to the node's socket in the namespace CRI
// uses (k8s.io). Output is kept to a bounded tail for error messages.

export interface CtrTarget {
  /** Path of the ctr binary. */
  ctr: string;
  /** containerd's gRPC socket. */
  address: string;
  namespace: string;
}

export interface CtrResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CtrProcess {
  /** Standard input (for `images import -`); end it when done. */
  stdin: Writable;
  /** Settles when ctr exits (rejects only when it could not be started). */
  done: Promise<CtrResult>;
  /** Stops it (SIGTERM, by pid). */
  kill(): void;
}

const KEEP = 64 * 1024;

function keepTail(text: string, more: string): string {
  const next = text + more;
  return next.length > KEEP ? next.slice(next.length - KEEP) : next;
}

export function startCtr(target: CtrTarget, args: readonly string[]): CtrProcess {
  const child = spawn(target.ctr, ['-a', target.address, '-n', target.namespace, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout = keepTail(stdout, d.toString('utf8'))));
  child.stderr.on('data', (d: Buffer) => (stderr = keepTail(stderr, d.toString('utf8'))));
  // A ctr that exits early makes writes fail with EPIPE; the exit status says why.
  child.stdin.on('error', () => undefined);
  const done = new Promise<CtrResult>((resolve, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') reject(new UsageError(`ctr not found at '${target.ctr}'`, { hint: "install containerd's ctr, or name it with --ctr PATH" }));
      else reject(err);
    });
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
  return {
    stdin: child.stdin,
    done,
    kill: () => {
      if (child.exitCode === null && child.pid !== undefined) child.kill('SIGTERM');
    },
  };
}

/** The error for a failed ctr run: unreachable containerd is a network error; the rest quote ctr. */
export function ctrFailure(target: CtrTarget, args: readonly string[], result: CtrResult): FerryError {
  const last = result.stderr.trim().split('\n').at(-1)?.replace(/^ctr: /, '') ?? '';
  const what = `ctr ${args.slice(0, 2).join(' ')}`;
  if (/failed to dial|connection refused|no such file or directory|context deadline exceeded|permission denied/i.test(last)) {
    return new NetworkError(`cannot reach containerd at ${target.address}: ${last}`, { hint: 'is containerd running there? give its socket with --address (k3s: /run/k3s/containerd/containerd.sock); ctr needs root' });
  }
  return new InternalError(`${what} failed (exit ${result.code}): ${last || 'no message'}`);
}

/** containerd answers at the address: a missing socket file fails at once (ctr would wait ~10 s to dial it). */
export async function checkReachable(target: CtrTarget): Promise<void> {
  const path = target.address.replace(/^unix:\/\//, '');
  if (path.startsWith('/') && !(await stat(path).then((s) => s.isSocket(), () => false))) {
    throw new NetworkError(`cannot reach containerd at ${target.address}: no socket there`, { hint: 'is containerd running? give its socket with --address (k3s: /run/k3s/containerd/containerd.sock)' });
  }
  await runCtr(target, ['version']);
}

/** Runs ctr to completion; its stdout, or the error. */
export async function runCtr(target: CtrTarget, args: readonly string[]): Promise<string> {
  const child = startCtr(target, args);
  child.stdin.end();
  const result = await child.done;
  if (result.code !== 0) throw ctrFailure(target, args, result);
  return result.stdout;
}

/** `ctr images ls`: image name → target digest. */
export async function listImages(target: CtrTarget): Promise<Map<string, string>> {
  const out = await runCtr(target, ['images', 'ls']);
  const images = new Map<string, string>();
  for (const line of out.split('\n').slice(1)) {
    const [name, , digest] = line.trim().split(/\s+/);
    if (name && digest?.startsWith('sha256:')) images.set(name, digest);
  }
  return images;
}
