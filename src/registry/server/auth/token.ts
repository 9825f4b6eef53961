import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Action, ResourceScope } from './scope.js';

// The bearer tokens `/token` hands out: a JWT (HS256) signed with the server's
// secret, carrying the subject and the granted access in Docker's `access` claim
// shape. Clients treat it as opaque; only this server reads it back.

export interface TokenClaims {
  readonly iss: string;
  /** The user name; '' for an anonymous token. */
  readonly sub: string;
  readonly aud: string;
  readonly iat: number;
  readonly nbf: number;
  readonly exp: number;
  readonly jti: string;
  readonly access: readonly ResourceScope[];
}

export const TOKEN_ISSUER = 'ferry';
/** Clock skew tolerated on nbf/exp, in seconds. */
const LEEWAY_S = 60;
const MAX_TOKEN_CHARS = 16 * 1024;

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');
const HEADER = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

function sign(secret: Buffer, input: string): string {
  return createHmac('sha256', secret).update(input).digest('base64url');
}

export interface IssueInput {
  readonly subject: string;
  readonly service: string;
  readonly access: readonly ResourceScope[];
  readonly ttlSeconds: number;
  readonly now?: number;
}

export function issueToken(secret: Buffer, input: IssueInput): { token: string; claims: TokenClaims } {
  const iat = Math.floor((input.now ?? Date.now()) / 1000);
  const claims: TokenClaims = {
    iss: TOKEN_ISSUER,
    sub: input.subject,
    aud: input.service,
    iat,
    nbf: iat,
    exp: iat + input.ttlSeconds,
    jti: randomBytes(12).toString('base64url'),
    access: input.access,
  };
  const body = `${HEADER}.${b64url(JSON.stringify(claims))}`;
  return { token: `${body}.${sign(secret, body)}`, claims };
}

/** The claims of a token this server signed and that is valid now, or undefined. */
export function verifyToken(secret: Buffer, token: string, service: string, now: number = Date.now()): TokenClaims | undefined {
  if (token.length > MAX_TOKEN_CHARS) return undefined;
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== HEADER) return undefined;
  const expected = Buffer.from(sign(secret, `${parts[0]}.${parts[1]}`));
  const given = Buffer.from(parts[2] ?? '');
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  let claims: TokenClaims;
  try {
    claims = JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8')) as TokenClaims;
  } catch {
    return undefined;
  }
  const seconds = Math.floor(now / 1000);
  if (claims.iss !== TOKEN_ISSUER || claims.aud !== service || !Array.isArray(claims.access)) return undefined;
  if (!(claims.nbf - LEEWAY_S <= seconds && seconds < claims.exp + LEEWAY_S)) return undefined;
  return claims;
}

/** The actions a verified token grants on repository `name`. */
export function tokenActions(claims: TokenClaims, name: string): Set<Action> {
  const out = new Set<Action>();
  for (const scope of claims.access) {
    if (scope.type === 'repository' && scope.name === name) for (const a of scope.actions) out.add(a);
  }
  return out;
}

/** Does the token carry `registry:catalog:*`? */
export function tokenHasCatalog(claims: TokenClaims): boolean {
  return claims.access.some((s) => s.type === 'registry' && s.name === 'catalog' && s.actions.includes('*'));
}
