// Runs one command to completion and measures it: wall time (hrtime around the
// child) and peak RSS of the process tree, from GNU time's %M (the largest
// ru_maxrss among the waited-for processes; Debian package `time`) and CPU time.
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { track } from './children.mjs';

const GNU_TIME = '/usr/bin/time';

export function hasGnuTime() {
  return existsSync(GNU_TIME);
}

/**
 * { wallMs, maxRssKb, cpuMs (user + system, GNU time), stdout, stderr }. Throws with the tail of stderr when the
 * command fails. `env` is merged into process.env.
 */
export async function runTimed(command, args, { env, cwd, input } = {}) {
  const rssFile = join(tmpdir(), `ferry-bench-rss-${process.pid}-${Math.random().toString(16).slice(2)}`);
  const timed = hasGnuTime();
  const [cmd, argv] = timed ? [GNU_TIME, ['-f', '%U %S %M', '-o', rssFile, command, ...args]] : [command, args];
  const started = process.hrtime.bigint();
  const child = track(cmd, argv, { cwd, env: { ...process.env, ...env }, stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr = (stderr + d).slice(-20000)));
  if (input) child.stdin.end(input);
  const code = await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c, s) => resolve(c ?? s));
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  let maxRssKb;
  let cpuMs;
  if (timed) {
    const text = await readFile(rssFile, 'utf8').catch(() => '');
    await rm(rssFile, { force: true });
    const lines = text.trim().split('\n');
    const [user, sys, rss] = (lines[lines.length - 1] ?? '').split(' ').map(Number);
    maxRssKb = rss;
    cpuMs = (user + sys) * 1000;
  }
  if (code !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${code}):\n${stderr.slice(-3000)}`);
  }
  return { wallMs, maxRssKb, cpuMs, stdout, stderr };
}
