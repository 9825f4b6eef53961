import { ErrorCode, ExitCode, isFerryError } from '../core/errors.js';
import { BASE_PATH } from '../registry/api/index.js';
import { discard, headerOf, type HttpResponse, parseChallenges, redactUrl } from '../registry/client/index.js';
import { CheckName, fail, failWith, ok, warn, type CheckResult } from './check.js';
import type { Probe } from './probe-client.js';

// Check 5: GET /v2/ without credentials, the API version check every client
// starts with. 200 (open) and 401 (auth wanted) are both healthy; the answer's
// challenge feeds the auth check and its Date header the clock check.

export interface PingAnswer {
  readonly status: number;
  readonly headers: HttpResponse['headers'];
  /** Local clock just before sending and just after the headers arrived (ms). */
  readonly sentAt: number;
  readonly receivedAt: number;
}

// Every status is an answer here: the doctor reports the first one rather than retrying it away.
const ANY_STATUS = Array.from({ length: 500 }, (_, i) => i + 100);

export async function checkPing(probe: Probe): Promise<{ result: CheckResult; answer?: PingAnswer }> {
  const sentAt = Date.now();
  let res: HttpResponse;
  try {
    res = await probe.client.send({ method: 'GET', url: BASE_PATH, scopes: [], ok: ANY_STATUS, noAuth: true });
  } catch (e) {
    if (isFerryError(e)) return { result: failWith(CheckName.ping, e) };
    throw e;
  }
  const answer: PingAnswer = { status: res.status, headers: res.headers, sentAt, receivedAt: Date.now() };
  await discard(res);
  const url = new URL(BASE_PATH, probe.target.baseUrl);
  const moved = res.url.href !== url.href ? ` (redirected to ${redactUrl(res.url)})` : '';
  const said = `GET /v2/ → ${res.status}${moved}`;
  const version = headerOf(res.headers, 'docker-distribution-api-version');
  if (res.status === 200 || res.status === 401) {
    const schemes = parseChallenges(headerOf(res.headers, 'www-authenticate') ?? '').map((c) => c.scheme);
    const auth = res.status === 401 ? `, asks for ${schemes.length > 0 ? schemes.join('/') : 'credentials'}` : ', open';
    if (!version) {
      return {
        answer,
        result: warn(CheckName.ping, `${said}${auth}, but no Docker-Distribution-API-Version header`, 'a proxy in front of the registry may strip headers, or this is not a distribution-compatible registry'),
      };
    }
    return { answer, result: ok(CheckName.ping, `${said}${auth}, ${version}`) };
  }
  if (res.status === 403) {
    return {
      answer,
      result: fail(CheckName.ping, `${said}: the registry refuses this client`, {
        code: ErrorCode.denied,
        exitCode: ExitCode.auth,
        hint: 'a firewall rule or network policy on the registry blocks this address (ACR: networking / firewall settings)',
      }),
    };
  }
  if (res.status === 404) {
    return {
      answer,
      result: fail(CheckName.ping, `${said}: no registry API here`, {
        code: ErrorCode.registry,
        exitCode: ExitCode.network,
        hint: 'check the host and port: the registry API lives at /v2/ of the login server',
      }),
    };
  }
  const hint = res.status >= 500 ? 'the registry is failing: try again later or check its logs' : 'this does not answer like a registry: check the host and port';
  return { answer, result: fail(CheckName.ping, `${said}`, { code: ErrorCode.registry, exitCode: ExitCode.network, hint }) };
}
