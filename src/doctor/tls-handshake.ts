import { isIP } from 'node:net';
import { connect, type DetailedPeerCertificate, type SecureVersion } from 'node:tls';

// One TLS handshake, for looking only: the certificate is never rejected here
// (rejectUnauthorized: false) so the doctor can say *what* is wrong with it;
// Node still computes `authorized` / `authorizationError` against the CA list.

export interface HandshakeOptions {
  readonly minVersion: SecureVersion;
  readonly maxVersion?: SecureVersion;
  /** OpenSSL 3 refuses TLS < 1.2 at its default security level; a legacy probe lowers it. */
  readonly ciphers?: string;
  /** Trust anchors; undefined = Node's bundled CA store. */
  readonly ca?: readonly string[];
  readonly timeoutMs: number;
}

export interface TlsFacts {
  readonly protocol: string;
  readonly cipher: string;
  readonly authorized: boolean;
  readonly authorizationError: string | undefined;
  /** The leaf, with `issuerCertificate` links through the chain the server sent. */
  readonly peer: DetailedPeerCertificate;
}

export type Handshake = { readonly ok: true; readonly facts: TlsFacts } | { readonly ok: false; readonly code: string; readonly message: string };

export function handshake(hostname: string, port: number, opts: HandshakeOptions): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = connect({
      host: hostname,
      port,
      // SNI carries names only; an IP address must not be sent as a server name.
      ...(isIP(hostname) === 0 ? { servername: hostname } : {}),
      minVersion: opts.minVersion,
      maxVersion: opts.maxVersion,
      ciphers: opts.ciphers,
      ...(opts.ca ? { ca: [...opts.ca] } : {}),
      rejectUnauthorized: false,
    });
    socket.setTimeout(opts.timeoutMs, () => socket.destroy(Object.assign(new Error('TLS handshake timed out'), { code: 'ETIMEDOUT' })));
    socket.once('secureConnect', () => {
      const error = socket.authorizationError as unknown;
      const cipher = socket.getCipher();
      const facts: TlsFacts = {
        protocol: socket.getProtocol() ?? 'unknown',
        cipher: cipher.standardName || cipher.name,
        authorized: socket.authorized,
        authorizationError: error instanceof Error ? ((error as NodeJS.ErrnoException).code ?? error.message) : typeof error === 'string' && error ? error : undefined,
        peer: socket.getPeerCertificate(true),
      };
      socket.destroy();
      resolve({ ok: true, facts });
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      socket.destroy();
      resolve({ ok: false, code: e.code ?? 'UNKNOWN', message: e.message.split('\n')[0] ?? '' });
    });
  });
}

/** Does the server complete a handshake at exactly this (legacy) protocol version? */
export async function accepts(hostname: string, port: number, version: SecureVersion, timeoutMs: number): Promise<boolean> {
  const result = await handshake(hostname, port, { minVersion: version, maxVersion: version, ciphers: 'DEFAULT@SECLEVEL=0', timeoutMs });
  return result.ok;
}
