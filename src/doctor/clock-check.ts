import { ErrorCode, ExitCode } from '../core/errors.js';
import { headerOf } from '../registry/client/index.js';
import { CheckName, fail, ok, skip, warn, type CheckResult } from './check.js';
import type { PingAnswer } from './ping-check.js';

// Check 9: this machine's clock against the registry's (the Date header of the
// /v2/ answer, compared with the middle of our request). Tokens carry nbf/exp
// and signed storage URLs expire: with minutes of skew they are refused as
// "not yet valid" or "expired", which looks like an auth failure — hence exit 3.

const WARN_S = 60;
const FAIL_S = 300;

function amount(seconds: number): string {
  return seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
}

export function checkClock(answer: PingAnswer | undefined): CheckResult {
  if (!answer) return skip(CheckName.clock, 'skipped: no answer from the registry');
  const date = headerOf(answer.headers, 'date');
  const server = date ? Date.parse(date) : NaN;
  if (!Number.isFinite(server)) return skip(CheckName.clock, date ? `unreadable Date header '${date.slice(0, 60)}'` : 'the registry sent no Date header');
  const local = (answer.sentAt + answer.receivedAt) / 2;
  // Date has whole seconds: anything within a second (plus the round trip) is no skew.
  const slack = 1000 + (answer.receivedAt - answer.sentAt) / 2;
  const raw = server - local;
  const skew = Math.abs(raw) <= slack ? 0 : Math.round(Math.abs(raw) / 1000);
  if (skew === 0) return ok(CheckName.clock, 'the registry clock agrees with ours (within 1 s)');
  const direction = raw > 0 ? 'ahead of' : 'behind';
  const detail = `the registry clock is ${amount(skew)} ${direction} this machine's`;
  const hint = 'sync the clocks (NTP: chrony, systemd-timesyncd, w32time): tokens and signed blob URLs are refused with minutes of skew';
  if (skew > FAIL_S) return fail(CheckName.clock, detail, { code: ErrorCode.unauthorized, exitCode: ExitCode.auth, hint });
  if (skew > WARN_S) return warn(CheckName.clock, detail, hint);
  return ok(CheckName.clock, detail);
}
