import { readFileSync } from 'node:fs';
import { checkServerIdentity, rootCertificates, type SecureVersion } from 'node:tls';
import { ErrorCode, ExitCode } from '../core/errors.js';
import { chainReachesAnchor, distinguishedName, pemCertificates, servedChain } from './cert-chain.js';
import { CheckName, fail, failOrWarn, ok, skip, warn, type CheckResult } from './check.js';
import { certificateExpiry } from './certificate-expiry.js';
import { accepts, handshake, type TlsFacts } from './tls-handshake.js';

// Check 4: TLS as ferry's client will meet it (TLS 1.2 floor, the same trust
// anchors: Node's store plus --ca-cert), then the certificate, row by row:
// trust, name, dates. Plus a probe for TLS 1.0/1.1, which ferry never speaks
// but a hardened far side must not accept either.

export interface TlsCheckInput {
  readonly hostname: string;
  readonly port: number;
  readonly caCert?: string;
  readonly tlsVerify: boolean;
  readonly timeoutMs: number;
}

const LEGACY: readonly SecureVersion[] = ['TLSv1', 'TLSv1.1'];
const VERSION_CODES = new Set(['ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'ERR_SSL_UNSUPPORTED_PROTOCOL', 'ERR_SSL_NO_PROTOCOLS_AVAILABLE', 'ERR_SSL_WRONG_SSL_VERSION']);
const NOT_TLS_CODES = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_HTTP_REQUEST']);
const DATE_ERRORS = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
const TLS_FAIL = { code: ErrorCode.tls, exitCode: ExitCode.network } as const;
const CA_HINT = 'pass the CA that issued the registry certificate with --ca-cert FILE (Azure Stack Hub: the root CA of its external endpoints)';
const RELAXED_HINT = 'with --tls-verify=false ferry checks nothing: anyone on the path can pose as the registry; pass --ca-cert FILE instead';

export interface TlsCheckOutcome {
  readonly results: CheckResult[];
  /** False when a row failed: HTTP checks would fail the same way and are skipped. */
  readonly passed: boolean;
}

export async function checkTls(input: TlsCheckInput): Promise<TlsCheckOutcome> {
  const { hostname, port, timeoutMs } = input;
  const ca = input.caCert ? [...rootCertificates, readFileSync(input.caCert, 'utf8')] : undefined;
  const main = await handshake(hostname, port, { minVersion: 'TLSv1.2', timeoutMs, ...(ca ? { ca } : {}) });
  const canProbe = main.ok || VERSION_CODES.has(main.code) || (main.code === 'EPROTO' && /version/i.test(main.message));
  const legacy: SecureVersion[] = [];
  if (canProbe) for (const v of LEGACY) if (await accepts(hostname, port, v, timeoutMs)) legacy.push(v);

  if (!main.ok) {
    const results = [versionFailure(main, hostname, port, legacy, canProbe), legacyRow(legacy, canProbe, false)];
    const why = 'skipped: no TLS 1.2+ handshake';
    results.push(skip(CheckName.certificateTrust, why), skip(CheckName.certificateName, why), skip(CheckName.certificateExpiry, why));
    return { results, passed: false };
  }
  const { facts } = main;
  const results = [
    ok(CheckName.tlsVersion, `${facts.protocol}, cipher ${facts.cipher}`),
    legacyRow(legacy, true, true),
    trustRow(facts, ca, input),
    nameRow(facts, hostname, input.tlsVerify),
    certificateExpiry(facts.peer, input.tlsVerify),
  ];
  return { results, passed: results.every((r) => r.status !== 'fail') };
}

function versionFailure(main: { code: string; message: string }, hostname: string, port: number, legacy: readonly string[], versionProblem: boolean): CheckResult {
  const where = `${hostname}:${port}`;
  if (versionProblem) {
    const offers = legacy.length > 0 ? ` (it accepts only ${legacy.join(', ')})` : '';
    return fail(CheckName.tlsVersion, `${where} offers no TLS 1.2 or newer${offers}`, {
      ...TLS_FAIL,
      hint: 'ferry requires TLS 1.2 or newer (Azure Stack Hub ACR speaks only 1.2): enable TLS 1.2 on the registry or the load balancer in front of it',
    });
  }
  if (NOT_TLS_CODES.has(main.code)) {
    return fail(CheckName.tlsVersion, `${where} does not answer in TLS (${main.code})`, {
      ...TLS_FAIL,
      hint: 'a plain-HTTP registry? pass --plain-http (loopback only); otherwise check the port',
    });
  }
  if (main.code === 'ETIMEDOUT') {
    return fail(CheckName.tlsVersion, `TLS handshake with ${where} timed out`, { code: ErrorCode.timeout, exitCode: ExitCode.network, hint: 'the server accepts TCP but never answers TLS: check the port, or a proxy in the way' });
  }
  if (main.code === 'ECONNRESET') {
    return fail(CheckName.tlsVersion, `${where} reset the connection during the TLS handshake`, {
      ...TLS_FAIL,
      hint: 'a proxy or firewall interferes with TLS, or the server wants another SNI name or a client certificate',
    });
  }
  return fail(CheckName.tlsVersion, `TLS handshake with ${where} failed: ${main.code}`, { ...TLS_FAIL, hint: 'the registry must offer TLS 1.2 or newer' });
}

function legacyRow(legacy: readonly string[], probed: boolean, modernOk: boolean): CheckResult {
  if (!probed) return skip(CheckName.tlsLegacy, 'skipped: no TLS handshake');
  if (legacy.length === 0) return ok(CheckName.tlsLegacy, modernOk ? 'TLS 1.0 and 1.1 refused' : 'TLS 1.0 and 1.1 refused too');
  return warn(
    CheckName.tlsLegacy,
    `the server ${modernOk ? 'also ' : ''}accepts ${legacy.join(', ')} (deprecated)`,
    'turn TLS 1.0 and 1.1 off on the server: ferry never uses them, and policy on the far side usually forbids them',
  );
}

function trustRow(facts: TlsFacts, ca: readonly string[] | undefined, input: TlsCheckInput): CheckResult {
  const issuer = `issued by ${distinguishedName(facts.peer.issuer)} to ${distinguishedName(facts.peer.subject)}`;
  const error = facts.authorizationError;
  // Node checks the name only after the chain verified, so a name error means the chain is fine.
  let trusted = error === undefined || error === 'ERR_TLS_CERT_ALTNAME_INVALID';
  if (error !== undefined && DATE_ERRORS.has(error)) {
    trusted = chainReachesAnchor(servedChain(facts.peer), pemCertificates(ca ?? rootCertificates));
  }
  if (trusted) return ok(CheckName.certificateTrust, `${issuer}; trusted (${input.caCert ? `--ca-cert ${input.caCert}` : "Node's CA store"})`);
  const why = error === undefined || DATE_ERRORS.has(error) ? 'no trusted CA issued it' : error === 'DEPTH_ZERO_SELF_SIGNED_CERT' ? 'self-signed' : error;
  return failOrWarn(input.tlsVerify, CheckName.certificateTrust, `${issuer}; not trusted: ${why}`, { ...TLS_FAIL, hint: CA_HINT }, RELAXED_HINT);
}

function nameRow(facts: TlsFacts, hostname: string, strict: boolean): CheckResult {
  const names = facts.peer.subjectaltname ? facts.peer.subjectaltname.replace(/IP Address:/g, 'IP:') : `CN=${String(facts.peer.subject?.CN ?? '')}`;
  const mismatch = checkServerIdentity(hostname, facts.peer);
  if (!mismatch) return ok(CheckName.certificateName, `${hostname} matches ${names}`);
  return failOrWarn(
    strict,
    CheckName.certificateName,
    `the certificate is for ${names}, not ${hostname}`,
    { ...TLS_FAIL, hint: `connect with a name the certificate lists, or reissue it with ${hostname} in its subjectAltName` },
    RELAXED_HINT,
  );
}
