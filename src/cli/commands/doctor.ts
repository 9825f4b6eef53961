import { DEFAULT_SPEED_BYTES, runDoctor, type CheckResult, type DoctorReport } from '../../doctor/index.js';
import { parseByteSize } from '../../core/byte-size.js';
import { createFileTraceSink } from '../../registry/client/index.js';
import { UsageError } from '../../core/errors.js';
import { defineCommand } from '../command.js';
import { formatTable, outputWidth } from '../output.js';
import { clientOptionsFrom, withRegistryFlags } from '../registry-flags.js';

// `ferry doctor REGISTRY`: the az-acr-check-health of ferry. Prints one row per
// check (or the report as JSON) and exits with the category of the first
// failure: 2 usage, 3 auth, 6 network/TLS, 1 a ferry bug; 0 when nothing failed.

const LABEL: Record<CheckResult['status'], string> = { ok: 'ok', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

export function formatDoctorReport(report: DoctorReport): string {
  const rows: string[][] = [];
  // The speed test's rows (push MiB/s, pull MiB/s, first-byte latency, cleanup) follow the checks.
  const checks: ReadonlyArray<Pick<CheckResult, 'status' | 'detail' | 'hint'> & { name: string }> = [...report.checks, ...(report.speed?.rows ?? [])];
  for (let i = 0; i < checks.length; i++) {
    const c = checks[i];
    if (!c) continue;
    // A run of checks skipped for one reason (after a hard failure) takes one row: "tcp … clock".
    let last = i;
    while (c.status === 'skip' && checks[last + 1]?.status === 'skip' && checks[last + 1]?.detail === c.detail) last++;
    rows.push([last > i ? `${c.name} … ${checks[last]?.name ?? ''}` : c.name, LABEL[c.status], c.detail]);
    if (c.hint && (c.status === 'fail' || c.status === 'warn')) rows.push(['', '', `hint: ${c.hint}`]);
    i = last;
  }
  const failed = checks.filter((c) => c.status === 'fail');
  const warned = checks.filter((c) => c.status === 'warn').length;
  const warnings = warned > 0 ? `${warned} warning${warned === 1 ? '' : 's'}` : '';
  const summary =
    failed.length > 0
      ? `${report.registry}: ${failed.length} check${failed.length === 1 ? '' : 's'} failed${warnings ? `, ${warnings}` : ''} (exit ${report.exitCode}: first failure ${failed[0]?.name ?? ''})`
      : `${report.registry}: no check failed${warnings ? `, ${warnings}` : ''}`;
  return `${formatTable(['CHECK', 'STATUS', 'DETAIL'], rows, outputWidth(), { wrapLast: true })}\n\n${summary}`;
}

export const doctorCommand = defineCommand({
  command: 'doctor <registry>',
  describe: 'check a registry from this machine: DNS, TCP, TLS, certificate, auth, push, redirects, clock (and --speed)',
  examples: [
    ['ferry doctor registry.site.example:5000', 'DNS, TCP, TLS, certificate, auth, redirects, clock'],
    ['ferry doctor registry.site.example:5000 --push-test library/probe', 'and whether this user may push'],
    ['ferry doctor registry.site.example:5000 --speed 256M', 'and how fast blobs move'],
  ],
  docs: 'docs/troubleshooting.md',
  builder: (y) =>
    withRegistryFlags(y)
      .positional('registry', { type: 'string', demandOption: true, describe: 'HOST[:PORT] of the registry (the login server)' })
      .option('push-test', { type: 'string', describe: 'check push permission on REPO: opens an upload and cancels it (nothing is written)' })
      .option('repository', { type: 'string', describe: 'REPO[:TAG] to download one byte of a blob from (shows where blob downloads redirect)' })
      .option('timeout', { type: 'number', default: 10, describe: 'seconds each DNS, TCP and TLS step may take' })
      .option('speed', { type: 'string', describe: 'push and pull a generated blob of SIZE (default 64M) to ferry-speed-test/<random>, then remove it: push MiB/s, pull MiB/s, first-byte latency' }),
  async run(args, ctx) {
    if (!(args.timeout > 0 && args.timeout <= 600)) throw new UsageError('--timeout must be a number of seconds from 1 to 600');
    const speedBytes = args.speed === undefined ? undefined : args.speed === '' ? DEFAULT_SPEED_BYTES : parseByteSize(args.speed, '--speed');
    if (speedBytes !== undefined && speedBytes > 16 * 1024 ** 3) throw new UsageError('--speed: at most 16G (the blob is pushed, pulled and deleted)');
    const trace = args.trace ? createFileTraceSink(args.trace) : undefined;
    try {
      const report = await runDoctor({
        registry: args.registry,
        ...clientOptionsFrom(args),
        ...(args['push-test'] !== undefined ? { pushTest: args['push-test'] } : {}),
        ...(args.repository !== undefined ? { repository: args.repository } : {}),
        ...(speedBytes !== undefined ? { speedBytes } : {}),
        timeoutMs: args.timeout * 1000,
        ...(trace ? { trace } : {}),
        signal: ctx.signal,
      });
      ctx.out.result(report, () => formatDoctorReport(report));
      return report.exitCode;
    } finally {
      await trace?.close();
    }
  },
});
