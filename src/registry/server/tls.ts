import { readFile } from 'node:fs/promises';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { UsageError } from '../../core/index.js';

// TLS for `ferry serve --tls-cert F --tls-key F`: TLS 1.2 at least (what Azure
// Stack Hub and every current client speak; 1.0/1.1 clients are refused at the
// handshake), Node's default cipher list otherwise.

export interface TlsFiles {
  /** PEM certificate chain (server certificate first). */
  readonly certFile: string;
  /** PEM private key. */
  readonly keyFile: string;
}

export const MIN_TLS_VERSION = 'TLSv1.2';

async function readPem(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new UsageError(`cannot read TLS ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Reads and checks the certificate and key: a mismatched pair fails here, not on the first client. */
export async function loadTls(files: TlsFiles): Promise<SecureContextOptions> {
  const options: SecureContextOptions = {
    cert: await readPem(files.certFile, 'certificate'),
    key: await readPem(files.keyFile, 'key'),
    minVersion: MIN_TLS_VERSION,
  };
  try {
    createSecureContext(options);
  } catch (err) {
    throw new UsageError(`TLS certificate ${files.certFile} and key ${files.keyFile} are not usable: ${(err as Error).message}`, {
      hint: 'pass a PEM certificate and the PEM private key that belongs to it',
    });
  }
  return options;
}
