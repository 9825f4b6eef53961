import { ExitCode, type ErrorCode, type FerryError } from '../core/errors.js';

// What one doctor check found. Every check reports exactly one row, always in
// the same order (a JSON consumer can index them by name); a check that could
// not run says why in its detail instead of disappearing.

export const CheckName = {
  name: 'name',
  dns: 'dns',
  tcp: 'tcp',
  tlsVersion: 'tls-version',
  tlsLegacy: 'tls-legacy',
  certificateTrust: 'certificate-trust',
  certificateName: 'certificate-name',
  certificateExpiry: 'certificate-expiry',
  ping: 'ping',
  auth: 'auth',
  push: 'push',
  redirect: 'redirect',
  clock: 'clock',
} as const;
export type CheckName = (typeof CheckName)[keyof typeof CheckName];

/** Every check, in the order they run and are reported. */
export const CHECK_ORDER: readonly CheckName[] = Object.values(CheckName);

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  readonly name: CheckName;
  readonly status: CheckStatus;
  /** One line: what was found. */
  readonly detail: string;
  /** One line: what to do (failures and warnings). */
  readonly hint?: string;
  /** The FerryError code of a failure (docs/troubleshooting.md is keyed by it). */
  readonly code?: ErrorCode;
  /** The exit code a failure stands for (its category: 3 auth, 6 network/TLS, …). */
  readonly exitCode?: ExitCode;
}

export function ok(name: CheckName, detail: string): CheckResult {
  return { name, status: 'ok', detail };
}

export function warn(name: CheckName, detail: string, hint?: string): CheckResult {
  return hint === undefined ? { name, status: 'warn', detail } : { name, status: 'warn', detail, hint };
}

export function skip(name: CheckName, detail: string): CheckResult {
  return { name, status: 'skip', detail };
}

export function fail(name: CheckName, detail: string, why: { code: ErrorCode; exitCode: ExitCode; hint?: string | undefined }): CheckResult {
  const base = { name, status: 'fail' as const, detail, code: why.code, exitCode: why.exitCode };
  return why.hint === undefined ? base : { ...base, hint: why.hint };
}

/** A failure described by the FerryError a step threw (its message, hint, code and category). */
export function failWith(name: CheckName, err: FerryError, overrides: { detail?: string; hint?: string } = {}): CheckResult {
  return fail(name, overrides.detail ?? err.message, { code: err.code, exitCode: err.exitCode, hint: overrides.hint ?? err.hint });
}

/** A warning that, with verification switched off, replaces what would be a failure. */
export function failOrWarn(strict: boolean, name: CheckName, detail: string, why: { code: ErrorCode; exitCode: ExitCode; hint: string }, relaxedHint: string): CheckResult {
  return strict ? fail(name, detail, why) : warn(name, `${detail} (not verified: --tls-verify=false)`, relaxedHint);
}

/** 0 when nothing failed, else the exit code of the first failure in check order. */
export function exitCodeOf(checks: ReadonlyArray<Pick<CheckResult, 'status' | 'exitCode'>>): ExitCode {
  const first = checks.find((c) => c.status === 'fail');
  return first ? (first.exitCode ?? ExitCode.internal) : ExitCode.ok;
}
