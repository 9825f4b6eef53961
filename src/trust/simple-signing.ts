import { isDigest, type Digest } from '../core/digest.js';

// The payload cosign signs in the `.sig` layout (sigstore's "simple signing"
// JSON), read as strictly as containers/image reads it
// (signature/internal/sigstore_payload.go): `critical` holds exactly `type`,
// `image` and `identity`; `optional` is null or an object whose `creator` is a
// string and `timestamp` an integer. Anything else is not a signature we accept.

export const SIMPLE_SIGNING_TYPE = 'cosign container image signature';

export interface SimpleSigningPayload {
  /** `critical.image.docker-manifest-digest`: the manifest this signature is for. */
  manifestDigest: Digest;
  /** `critical.identity.docker-reference`: the name it was signed under. */
  dockerReference: string;
  creator?: string;
  timestamp?: number;
}

export type PayloadParse = { ok: true; payload: SimpleSigningPayload } | { ok: false; why: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function exactFields(v: unknown, fields: readonly string[], where: string): string | undefined {
  if (!isRecord(v)) return `${where} is not a JSON object`;
  const keys = Object.keys(v);
  const extra = keys.filter((k) => !fields.includes(k));
  const missing = fields.filter((f) => !keys.includes(f));
  if (extra.length) return `${where} has unexpected field '${extra[0]}'`;
  if (missing.length) return `${where} lacks '${missing[0]}'`;
  return undefined;
}

export function parseSimpleSigning(bytes: Uint8Array): PayloadParse {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    return { ok: false, why: `payload is not JSON (${(err as Error).message})` };
  }
  const bad = (why: string): PayloadParse => ({ ok: false, why });
  const top = exactFields(doc, ['critical', 'optional'], 'payload');
  if (top) return bad(top);
  const { critical, optional } = doc as Record<string, unknown>;
  const crit = exactFields(critical, ['type', 'image', 'identity'], 'critical');
  if (crit) return bad(crit);
  const c = critical as Record<string, unknown>;
  if (c.type !== SIMPLE_SIGNING_TYPE) return bad(`critical.type is '${String(c.type).slice(0, 80)}', not '${SIMPLE_SIGNING_TYPE}'`);
  const image = exactFields(c.image, ['docker-manifest-digest'], 'critical.image');
  if (image) return bad(image);
  const digest = (c.image as Record<string, unknown>)['docker-manifest-digest'];
  if (!isDigest(digest)) return bad(`critical.image.docker-manifest-digest '${String(digest).slice(0, 80)}' is not a sha256 digest`);
  const identity = exactFields(c.identity, ['docker-reference'], 'critical.identity');
  if (identity) return bad(identity);
  const reference = (c.identity as Record<string, unknown>)['docker-reference'];
  if (typeof reference !== 'string') return bad('critical.identity.docker-reference is not a string');
  const payload: SimpleSigningPayload = { manifestDigest: digest, dockerReference: reference };
  // cosign writes "optional": null when the signer gave no annotations.
  if (optional !== null) {
    if (!isRecord(optional)) return bad('optional is neither null nor an object');
    if (optional.creator !== undefined) {
      if (typeof optional.creator !== 'string') return bad('optional.creator is not a string');
      payload.creator = optional.creator;
    }
    if (optional.timestamp !== undefined) {
      if (!Number.isSafeInteger(optional.timestamp)) return bad('optional.timestamp is not an integer');
      payload.timestamp = optional.timestamp as number;
    }
  }
  return { ok: true, payload };
}
