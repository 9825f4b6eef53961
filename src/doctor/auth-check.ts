import { ErrorCode, ExitCode, isFerryError } from '../core/errors.js';
import { BASE_PATH } from '../registry/api/index.js';
import { type Challenge, type Credentials, discard, fetchToken, headerOf, parseChallenges, redactUrl, refusedParts, type RefusalReason, type TokenRequest } from '../registry/client/index.js';
import { CheckName, fail, failWith, ok, warn, type CheckResult } from './check.js';
import type { PingAnswer } from './ping-check.js';
import type { Probe } from './probe-client.js';

// Check 6: the /v2/ challenge, then the credentials ferry would use, proven the
// way `docker login` proves them: basic → GET /v2/ with them; bearer → fetch a
// token at the realm (the step that fails on a wrong password or an expired ACR
// token) and have the registry accept it on GET /v2/. Two steps, two verdicts.

export interface AuthOutcome {
  readonly result: CheckResult;
  /** Credentials were found and the registry accepted them. */
  readonly verified: boolean;
  /** Later checks would fail on the same refusal. */
  readonly blocking: boolean;
}

const AUTH = { code: ErrorCode.unauthorized, exitCode: ExitCode.auth } as const;

function who(creds: Credentials): string {
  if (creds.identityToken) return 'the identity token';
  if (creds.registryToken) return 'the registry token';
  return `user ${creds.username ?? ''}`;
}

/** The same words as a refused pull or push (refusals.ts): who, by which registry, what to check. */
function refused(probe: Probe, who: string, reason: RefusalReason): { what: string; check: string } {
  return refusedParts({ who, registry: probe.target.registry, reason });
}

const outcome = (result: CheckResult, verified = false): AuthOutcome => ({ result, verified, blocking: result.status === 'fail' });

/** GET /v2/ with an explicit Authorization: does the registry take it? */
async function accepted(probe: Probe, authorization: string): Promise<number> {
  const res = await probe.client.send({ method: 'GET', url: BASE_PATH, headers: { authorization }, scopes: [], ok: [200, 401, 403], noAuth: true });
  await discard(res);
  return res.status;
}

export async function checkAuth(probe: Probe, answer: PingAnswer, repository: string | undefined): Promise<AuthOutcome> {
  let creds: Credentials | undefined;
  try {
    creds = await probe.client.credentials();
  } catch (e) {
    if (isFerryError(e)) return outcome(failWith(CheckName.auth, e));
    throw e;
  }
  if (answer.status === 200) {
    return outcome(ok(CheckName.auth, creds ? `the registry asks for no credentials (${who(creds)} not needed)` : 'the registry allows anonymous access'));
  }
  const header = headerOf(answer.headers, 'www-authenticate') ?? '';
  const challenges = parseChallenges(header);
  const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
  const basic = challenges.find((c) => c.scheme === 'basic');
  try {
    if (bearer) return await bearerAuth(probe, bearer, creds, repository);
    if (basic) return await basicAuth(probe, basic, creds);
  } catch (e) {
    if (isFerryError(e)) return outcome(failWith(CheckName.auth, e));
    throw e;
  }
  return outcome(
    fail(CheckName.auth, `401 without a Basic or Bearer challenge (WWW-Authenticate: ${header ? header.slice(0, 80) : 'absent'})`, {
      ...AUTH,
      hint: 'the registry, or a proxy in front of it, asks for an authentication ferry does not speak',
    }),
  );
}

async function basicAuth(probe: Probe, challenge: Challenge, creds: Credentials | undefined): Promise<AuthOutcome> {
  const scheme = `basic${challenge.params.realm ? ` (realm "${challenge.params.realm}")` : ''}`;
  if (!creds) {
    const { what, check } = refused(probe, 'anonymous', 'anonymous');
    return outcome(warn(CheckName.auth, `${scheme}: ${what}`, check));
  }
  if (creds.username === undefined || creds.password === undefined) {
    return outcome(fail(CheckName.auth, `${scheme}, but the credentials found are ${who(creds)}, not a user and password`, { ...AUTH, hint: 'pass --creds USER:PASS for a registry with basic auth' }));
  }
  const status = await accepted(probe, `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`);
  if (status === 200) return outcome(ok(CheckName.auth, `${scheme}: ${who(creds)} accepted`), true);
  const { what, check } = refused(probe, who(creds), 'credentials');
  return outcome(fail(CheckName.auth, `${scheme}: ${what} (${status})`, { ...AUTH, hint: check }));
}

async function bearerAuth(probe: Probe, challenge: Challenge, creds: Credentials | undefined, repository: string | undefined): Promise<AuthOutcome> {
  const realm = challenge.params.realm ?? '';
  const service = challenge.params.service;
  const scheme = `bearer (realm ${redactUrl(realm)}${service ? `, service ${service}` : ''})`;
  let token: string;
  let lifetime = '';
  if (creds?.registryToken) {
    token = creds.registryToken;
  } else {
    const scopes = repository ? [`repository:${repository}:pull`] : [];
    const send = (req: TokenRequest) => probe.client.send({ ...req, scopes: [], ok: [200], noAuth: true });
    try {
      const fetched = await fetchToken(send, service === undefined ? { realm } : { realm, service }, scopes, creds);
      token = fetched.value;
      lifetime = `, valid ${Math.round(fetched.lifetimeMs / 1000)} s`;
    } catch (e) {
      if (!isFerryError(e)) throw e;
      if (!creds) {
        const { what, check } = refused(probe, 'anonymous', 'anonymous');
        return outcome(warn(CheckName.auth, `${scheme}: ${what} (its realm gives no anonymous token)`, check));
      }
      const { what, check } = refused(probe, who(creds), 'credentials');
      const said = (e.details?.['request'] as string | undefined) ?? e.message;
      return outcome(fail(CheckName.auth, `${scheme}: ${what} at its token service (${said})`, { code: e.code, exitCode: e.exitCode, hint: check }));
    }
  }
  if (!creds) {
    return outcome(
      warn(CheckName.auth, `${scheme}; no credentials found for ${probe.target.registry}: an anonymous token was granted (pull at most)`, 'anonymous access cannot push: pass --creds USER:PASS or --authfile FILE, or docker login / podman login'),
    );
  }
  const status = await accepted(probe, `Bearer ${token}`);
  if (status === 200) return outcome(ok(CheckName.auth, `${scheme}: token for ${who(creds)} accepted${lifetime}`), true);
  return outcome(
    fail(CheckName.auth, `${scheme}: the registry refused (${status}) the token its realm issued for ${who(creds)}`, {
      ...AUTH,
      hint: 'the token service and the registry disagree (service name, issuer or signing key), or the clocks differ (see the clock check)',
    }),
  );
}
