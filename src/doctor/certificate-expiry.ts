import type { PeerCertificate } from 'node:tls';
import { ErrorCode, ExitCode } from '../core/errors.js';
import { CheckName, failOrWarn, ok, warn, type CheckResult } from './check.js';

// The leaf certificate's dates: expired or not yet valid fails (every client
// refuses it), under 30 days left warns (renew before the far side breaks).

const DAY_MS = 86_400_000;
const WARN_DAYS = 30;

function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function span(ms: number): string {
  const hours = Math.floor(ms / 3_600_000);
  if (hours < 48) return `${hours} hour${hours === 1 ? '' : 's'}`;
  return `${Math.floor(ms / DAY_MS)} days`;
}

export function certificateExpiry(peer: PeerCertificate, strict: boolean, now = Date.now()): CheckResult {
  const from = Date.parse(peer.valid_from);
  const to = Date.parse(peer.valid_to);
  const tls = { code: ErrorCode.tls, exitCode: ExitCode.network } as const;
  const relaxed = 'with --tls-verify=false ferry checks nothing: renew the certificate instead';
  if (!Number.isFinite(from) || !Number.isFinite(to)) {
    return failOrWarn(strict, CheckName.certificateExpiry, 'the certificate has unreadable validity dates', { ...tls, hint: 'reissue the certificate' }, relaxed);
  }
  if (now > to) {
    return failOrWarn(strict, CheckName.certificateExpiry, `expired on ${day(to)} (${span(now - to)} ago)`, {
      ...tls,
      hint: "renew the registry's certificate (or check this machine's clock)",
    }, relaxed);
  }
  if (now < from) {
    return failOrWarn(strict, CheckName.certificateExpiry, `not valid before ${day(from)} (in ${span(from - now)})`, {
      ...tls,
      hint: "this machine's clock is probably behind: sync it (chrony, w32time)",
    }, relaxed);
  }
  if (to - now < WARN_DAYS * DAY_MS) {
    return warn(CheckName.certificateExpiry, `expires on ${day(to)} (in ${span(to - now)})`, 'renew the certificate before it expires: every client will refuse it then');
  }
  return ok(CheckName.certificateExpiry, `valid until ${day(to)} (${span(to - now)})`);
}
