import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate, PeerCertificate } from 'node:tls';

// Chain helpers for the certificate checks. OpenSSL reports one verification
// error per handshake, and a date error (expired) hides a trust error: an
// expired certificate from an unknown CA says only CERT_HAS_EXPIRED. So when the
// handshake's only complaint is a date, the chain is walked here, signatures
// and issuers only, to tell "expired but trusted" from "expired and untrusted".

/** The certificates the server sent, leaf first (Node links them by issuerCertificate). */
export function servedChain(peer: DetailedPeerCertificate): X509Certificate[] {
  const out: X509Certificate[] = [];
  const seen = new Set<string>();
  for (let c: DetailedPeerCertificate | undefined = peer; c?.raw && !seen.has(c.fingerprint256); c = c.issuerCertificate) {
    seen.add(c.fingerprint256);
    out.push(new X509Certificate(c.raw));
  }
  return out;
}

/** Every certificate in PEM text (a bundle may hold several). */
export function pemCertificates(pems: readonly string[]): X509Certificate[] {
  const out: X509Certificate[] = [];
  for (const pem of pems) {
    for (const block of pem.split(/(?<=-----END CERTIFICATE-----)/)) {
      if (!block.includes('-----BEGIN CERTIFICATE-----')) continue;
      try {
        out.push(new X509Certificate(block.trim()));
      } catch {
        // an unparsable anchor trusts nothing
      }
    }
  }
  return out;
}

function signedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/** Does the served chain lead, by issuer and signature (dates ignored), to one of the anchors? */
export function chainReachesAnchor(chain: readonly X509Certificate[], anchors: readonly X509Certificate[]): boolean {
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i];
    if (!cert) break;
    if (anchors.some((a) => a.fingerprint256 === cert.fingerprint256 || signedBy(cert, a))) return true;
    const next = chain[i + 1];
    if (!next || !signedBy(cert, next)) return false;
  }
  return false;
}

/** `CN=ferry-test-ca, O=Acme` from a subject or issuer object. */
export function distinguishedName(name: PeerCertificate['subject'] | undefined): string {
  if (!name) return '(none)';
  const parts: string[] = [];
  for (const key of ['CN', 'O', 'OU', 'C'] as const) {
    const value = name[key] as string | string[] | undefined;
    if (value !== undefined) parts.push(`${key}=${Array.isArray(value) ? value.join('+') : value}`);
  }
  return parts.length > 0 ? parts.join(', ') : '(empty)';
}
