import { connect } from 'node:net';
import { ErrorCode, ExitCode } from '../core/errors.js';
import { CheckName, fail, ok, type CheckResult } from './check.js';

// Check 3: a TCP connection to host:port opens within the deadline. Refused
// (nothing listens, or a firewall rejects) and silently dropped (a firewall
// drops: the timeout) need different fixes, so they are told apart.

function connectOnce(hostname: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port });
    socket.setTimeout(timeoutMs, () => socket.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })));
    socket.once('connect', () => {
      const peer = socket.remoteFamily === 'IPv6' ? `[${socket.remoteAddress ?? ''}]` : (socket.remoteAddress ?? hostname);
      socket.destroy();
      resolve(`${peer}:${port}`);
    });
    socket.once('error', reject);
  });
}

export async function checkTcp(hostname: string, port: number, timeoutMs: number): Promise<CheckResult> {
  try {
    const peer = await connectOnce(hostname, port, timeoutMs);
    return ok(CheckName.tcp, `connected to ${peer}`);
  } catch (e) {
    // With several addresses (happy eyeballs) Node reports an AggregateError of the attempts.
    const first = e instanceof AggregateError ? (e.errors[0] as unknown) : e;
    const code = (e as NodeJS.ErrnoException).code ?? (first as NodeJS.ErrnoException | undefined)?.code ?? 'UNKNOWN';
    const where = `${hostname}:${port}`;
    if (code === 'ECONNREFUSED') {
      return fail(CheckName.tcp, `connection to ${where} refused`, {
        code: ErrorCode.network,
        exitCode: ExitCode.network,
        hint: 'nothing listens on that port, or a firewall rejects it: check the registry is running and the port (HTTPS is 443)',
      });
    }
    if (code === 'ETIMEDOUT') {
      return fail(CheckName.tcp, `no answer from ${where} within ${Math.round(timeoutMs / 1000)} s`, {
        code: ErrorCode.timeout,
        exitCode: ExitCode.network,
        hint: 'a firewall or network security group drops the traffic, or a proxy is required: check routes and firewall rules to the registry',
      });
    }
    return fail(CheckName.tcp, `cannot connect to ${where}: ${code}`, {
      code: ErrorCode.network,
      exitCode: ExitCode.network,
      hint: 'no route to the registry: check the network path (routes, VPN, firewall)',
    });
  }
}
