import { ExitCode, UsageError } from '../core/errors.js';
import { validateRepository } from '../core/reference.js';
import type { Credentials, RetryHook, TraceSink } from '../registry/client/index.js';
import { checkAuth } from './auth-check.js';
import { CHECK_ORDER, CheckName, exitCodeOf, skip, type CheckResult } from './check.js';
import { checkClock } from './clock-check.js';
import { checkDns } from './dns-check.js';
import { checkPing } from './ping-check.js';
import { parseRepositoryRef } from './pick-blob.js';
import { createProbe } from './probe-client.js';
import { checkPush } from './push-check.js';
import { checkRedirect } from './redirect-check.js';
import { checkName } from './target.js';
import { checkTcp } from './tcp-check.js';
import { checkTls } from './tls-checks.js';
import { runSpeedTest, skippedSpeed, speedClient, type SpeedReport } from './speed-test.js';

// `ferry doctor REGISTRY`: the checks in order, each building on the last. When
// one fails hard, the checks that depend on it are reported as skipped (saying
// why) instead of failing again with a less useful message.

export interface DoctorOptions {
  /** HOST[:PORT] as the user typed it. */
  readonly registry: string;
  readonly credentials?: Credentials;
  readonly authfile?: string;
  readonly plainHttp?: boolean;
  readonly forcePlainHttp?: boolean;
  readonly tlsVerify?: boolean;
  readonly caCert?: string;
  /** Retries of a request after a network error (default 1). */
  readonly retries?: number;
  /** Open and cancel an upload in this repository. */
  readonly pushTest?: string;
  /** REPO[:TAG|@DIGEST]: download one byte of one of its blobs (redirect check). */
  readonly repository?: string;
  /** `--speed [SIZE]`: push and pull a generated blob of this many bytes (a scratch repository, removed after). */
  readonly speedBytes?: number;
  /** Deadline of each DNS / TCP / TLS step and of connecting (default 10 s). */
  readonly timeoutMs?: number;
  /** Environment and home for credential discovery (default process.env, os.homedir()). */
  readonly env?: Record<string, string | undefined>;
  readonly homeDir?: string;
  /** Also record every HTTP exchange here (--trace FILE). */
  readonly trace?: TraceSink;
  /** Each retry of a request (--debug). */
  readonly onRetry?: RetryHook;
  readonly signal?: AbortSignal;
  /** Called as each check finishes (progress for a person watching). */
  readonly onCheck?: (check: CheckResult) => void;
}

export interface DoctorReport {
  /** The registry as ferry normalises it (lowercase host[:port]), or the input when unusable. */
  readonly registry: string;
  readonly ok: boolean;
  /** 0, or the exit code of the first failed check's category. */
  readonly exitCode: ExitCode;
  readonly checks: readonly CheckResult[];
  /** With `speedBytes`: the push/pull figures and their rows. */
  readonly speed?: SpeedReport;
}

const TLS_ROWS = [CheckName.tlsVersion, CheckName.tlsLegacy, CheckName.certificateTrust, CheckName.certificateName, CheckName.certificateExpiry];

export async function runDoctor(opts: DoctorOptions): Promise<DoctorReport> {
  const pushTest = opts.pushTest === undefined ? undefined : repositoryFlag(opts.pushTest);
  const repository = opts.repository === undefined ? undefined : parseRepositoryRef(opts.repository, '--repository');
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const checks: CheckResult[] = [];
  const add = (r: CheckResult): void => {
    checks.push(r);
    opts.onCheck?.(r);
  };
  const skipAll = (names: readonly CheckName[], why: string): void => {
    for (const name of names) if (!checks.some((c) => c.name === name)) add(skip(name, why));
  };
  let speed: SpeedReport | undefined;
  const report = (registry: string): DoctorReport => {
    if (opts.speedBytes !== undefined) speed ??= skippedSpeed(opts.speedBytes, 'skipped: an earlier check failed');
    const exitCode = exitCodeOf([...checks, ...(speed?.rows ?? [])]);
    return { registry, ok: exitCode === ExitCode.ok, exitCode, checks, ...(speed ? { speed } : {}) };
  };

  const named = checkName(opts.registry, opts);
  add(named.result);
  const target = named.target;
  if (!target) {
    skipAll(CHECK_ORDER, 'skipped: no usable registry name');
    return report(opts.registry.trim());
  }
  // Built first: an unreadable --ca-cert is a usage error, before any network check.
  const probe = createProbe(target, {
    ...opts,
    tlsVerify: opts.tlsVerify ?? true,
    plainHttp: opts.plainHttp ?? false,
    retries: opts.retries ?? 1,
    timeoutMs,
    env: opts.env ?? process.env,
  });
  const stop = (why: string): DoctorReport => {
    skipAll(CHECK_ORDER, why);
    return report(target.registry);
  };
  try {
    const dns = await checkDns(target.hostname, timeoutMs);
    add(dns);
    if (dns.status === 'fail') return stop('skipped: the name does not resolve');
    const tcp = await checkTcp(target.hostname, target.port, timeoutMs);
    add(tcp);
    if (tcp.status === 'fail') return stop('skipped: no TCP connection');
    if (target.tls) {
      const tls = await checkTls({ hostname: target.hostname, port: target.port, tlsVerify: opts.tlsVerify ?? true, timeoutMs, ...(opts.caCert ? { caCert: opts.caCert } : {}) });
      tls.results.forEach(add);
      if (!tls.passed) return stop('skipped: TLS failed');
    } else {
      for (const name of TLS_ROWS) add(skip(name, 'plain HTTP (--plain-http): no TLS'));
    }
    const ping = await checkPing(probe);
    add(ping.result);
    if (ping.result.status !== 'fail' && ping.answer) {
      const auth = await checkAuth(probe, ping.answer, repository?.repository ?? pushTest);
      add(auth.result);
      if (auth.blocking) {
        skipAll([CheckName.push, CheckName.redirect], 'skipped: authentication failed');
      } else {
        add(await checkPush(probe, pushTest, auth.verified));
        add(await checkRedirect(probe, repository));
        if (opts.speedBytes !== undefined) speed = await runSpeedTest(speedClient(target.registry, opts), opts.speedBytes);
      }
    } else {
      skipAll([CheckName.auth, CheckName.push, CheckName.redirect], 'skipped: /v2/ did not answer as a registry');
    }
    add(checkClock(ping.answer));
    return report(target.registry);
  } finally {
    await probe.close();
  }
}

function repositoryFlag(text: string): string {
  try {
    return validateRepository(text);
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(`--push-test ${text.slice(0, 200)}: ${e.message}`, { code: e.code, hint: e.hint ?? '--push-test takes a repository name, without the registry host' });
    throw e;
  }
}
