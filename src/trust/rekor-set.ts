import { createHash, createPublicKey } from 'node:crypto';
import { decodeBase64, signs, type TrustedKey } from './trusted-key.js';

// A Rekor "signed entry timestamp" (SET) that cosign stores in a `.sig` layer's
// `dev.sigstore.cosign/bundle` annotation: Rekor's promise, signed with the
// log's key, that it logged this signature. Checked offline against a Rekor
// public key the user gives (`--rekor-key`), never fetched, as containers/image
// does (signature/internal/rekor_set.go): the SET signs the canonical JSON
// (RFC 8785) of its Payload; the logged hashedrekord must name the same public
// key, the same signature bytes and the sha256 of the same payload.

export type SetCheck = { ok: true; integratedTime: number } | { ok: false; why: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** RFC 8785 JSON canonicalization for what a SET holds (objects, strings, integers): sorted keys, no spaces. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isRecord(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function at(doc: unknown, ...path: string[]): unknown {
  let v = doc;
  for (const p of path) v = isRecord(v) ? v[p] : undefined;
  return v;
}

function pemBody(pem: string): Buffer | undefined {
  const m = /^-----BEGIN [A-Z ]+-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END [A-Z ]+-----\r?\n?$/.exec(pem);
  return m ? Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64') : undefined;
}

export function checkRekorSet(rekorKeys: readonly TrustedKey[], setText: string, signer: TrustedKey, base64Signature: string, payload: Uint8Array): SetCheck {
  const bad = (why: string): SetCheck => ({ ok: false, why });
  let set: unknown;
  try {
    set = JSON.parse(setText);
  } catch {
    return bad('the Rekor SET is not JSON');
  }
  if (!isRecord(set) || Object.keys(set).sort().join() !== 'Payload,SignedEntryTimestamp') return bad('the Rekor SET needs exactly SignedEntryTimestamp and Payload');
  const sets = decodeBase64(set.SignedEntryTimestamp);
  const body = set.Payload;
  if (!sets || !isRecord(body) || Object.keys(body).sort().join() !== 'body,integratedTime,logID,logIndex') return bad('the Rekor SET payload is malformed');
  const canonical = Buffer.from(canonicalJson(body));
  if (!rekorKeys.some((k) => k.key.asymmetricKeyType === 'ec' && signs(k, canonical, sets))) return bad('the Rekor SET is not signed by the given Rekor key');
  let entry: unknown;
  try {
    entry = JSON.parse((decodeBase64(body.body) ?? Buffer.alloc(0)).toString('utf8'));
  } catch {
    return bad('the logged Rekor entry is not JSON');
  }
  if (at(entry, 'kind') !== 'hashedrekord' || at(entry, 'apiVersion') !== '0.0.1') return bad('the logged Rekor entry is not a hashedrekord 0.0.1');
  const loggedKeyPem = decodeBase64(at(entry, 'spec', 'signature', 'publicKey', 'content'))?.toString('utf8');
  const loggedKey = loggedKeyPem ? pemBody(loggedKeyPem) : undefined;
  const signerDer = createPublicKey(signer.pem).export({ type: 'spki', format: 'der' });
  if (!loggedKey || !loggedKey.equals(signerDer)) return bad('the Rekor entry names another public key');
  const loggedSignature = decodeBase64(at(entry, 'spec', 'signature', 'content'));
  const signature = decodeBase64(base64Signature);
  if (!loggedSignature || !signature || !loggedSignature.equals(signature)) return bad('the Rekor entry logged another signature');
  if (at(entry, 'spec', 'data', 'hash', 'algorithm') !== 'sha256') return bad('the Rekor entry hashes with something other than sha256');
  if (at(entry, 'spec', 'data', 'hash', 'value') !== createHash('sha256').update(payload).digest('hex')) return bad('the Rekor entry logged another payload');
  return { ok: true, integratedTime: Number(body.integratedTime) };
}
