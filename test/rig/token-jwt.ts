import { createSign, randomUUID, X509Certificate } from 'node:crypto';

// The JWT that distribution's `auth: token` accepts (docs/spec/auth/jwt.md):
// RS256, the signing certificate in the `x5c` header. distribution verifies the
// x5c chain against `rootcertbundle`; a self-signed certificate that is itself in
// the bundle verifies, so no libtrust `kid` has to be computed.

export interface TokenAccess {
  readonly type: string;
  readonly name: string;
  readonly actions: readonly string[];
}

export interface TokenClaimsInput {
  readonly issuer: string;
  readonly subject: string;
  readonly audience: string;
  readonly access: readonly TokenAccess[];
  /** Seconds from now; `exp` is shifted by `expiryShiftSeconds` (see token-server). */
  readonly lifetimeSeconds: number;
  readonly expiryShiftSeconds?: number;
  readonly nowSeconds?: number;
}

export interface SigningIdentity {
  readonly keyPem: string;
  readonly certPem: string;
}

const base64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

export function signRegistryToken(identity: SigningIdentity, input: TokenClaimsInput): string {
  const now = input.nowSeconds ?? Math.floor(Date.now() / 1000);
  const header = {
    typ: 'JWT',
    alg: 'RS256',
    x5c: [new X509Certificate(identity.certPem).raw.toString('base64')],
  };
  const claims = {
    iss: input.issuer,
    sub: input.subject,
    aud: input.audience,
    exp: now + input.lifetimeSeconds + (input.expiryShiftSeconds ?? 0),
    // nbf/iat a little in the past: the registry and we share a clock, but not a second boundary.
    nbf: now - 5,
    iat: now,
    jti: randomUUID(),
    access: input.access,
  };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = createSign('RSA-SHA256').update(signingInput).sign(identity.keyPem);
  return `${signingInput}.${base64url(signature)}`;
}

/** Decode (without verifying) the claims of a JWT: tests look at `access` and `exp`. */
export function decodeTokenClaims(token: string): Record<string, unknown> {
  const payload = token.split('.')[1] ?? '';
  const parsed: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  if (typeof parsed !== 'object' || parsed === null) throw new Error('token payload is not a JSON object');
  return parsed as Record<string, unknown>;
}

/** Parse a scope such as `repository:ferry-test/app-a:pull,push` (the name may hold ':' in plugins). */
export function parseScope(scope: string): TokenAccess | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  const actions = scope.slice(last + 1).split(',').filter((a) => a.length > 0);
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions };
}
