import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { ErrorCode, ExitCode } from '../core/errors.js';
import { CheckName, fail, ok, type CheckResult } from './check.js';
import { withTimeout } from './timeout.js';

// Check 2: the host resolves, the way every later connection will resolve it
// (dns.lookup = getaddrinfo: /etc/hosts, then DNS), listing every address.

const HINT = 'check the name and this machine\'s DNS (/etc/resolv.conf, /etc/hosts); an Azure Stack Hub login server must resolve from here (a DNS forwarder or a hosts entry for its external domain)';

export async function checkDns(hostname: string, timeoutMs: number): Promise<CheckResult> {
  if (isIP(hostname) !== 0) return ok(CheckName.dns, `${hostname} is an IP address (no lookup)`);
  try {
    const addresses = await withTimeout(lookup(hostname, { all: true, verbatim: true }), timeoutMs, 'ETIMEOUT');
    if (addresses.length === 0) {
      return fail(CheckName.dns, `${hostname} resolves to no address`, { code: ErrorCode.network, exitCode: ExitCode.network, hint: HINT });
    }
    return ok(CheckName.dns, `${hostname} → ${addresses.map((a) => a.address).join(', ')}`);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'UNKNOWN';
    if (code === 'ETIMEOUT') {
      return fail(CheckName.dns, `no answer for ${hostname} within ${Math.round(timeoutMs / 1000)} s`, { code: ErrorCode.timeout, exitCode: ExitCode.network, hint: HINT });
    }
    return fail(CheckName.dns, `cannot resolve ${hostname}: ${code}`, { code: ErrorCode.network, exitCode: ExitCode.network, hint: HINT });
  }
}
