import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { ErrorCode, UsageError } from '../core/errors.js';
import { generateKeyPair, keyIdOf, parsePrivateKey, parsePublicKey } from './sign.js';

// Key files on disk for `ferry keygen`, `export --sign KEY` and `--key PUB`:
// NAME.key (PKCS#8 PEM, 0600, never overwritten) and NAME.pub (SPKI PEM).

const MAX_KEY_FILE_BYTES = 64 * 1024;
const KEYGEN_HINT = 'make a key pair with `ferry keygen -o NAME` (NAME.key signs, NAME.pub verifies)';

export interface KeyFiles {
  privateKeyPath: string;
  publicKeyPath: string;
  keyId: string;
}

// Read with node:fs: a key is a few hundred bytes, and fs/promises, loaded for it alone, cost
// `inspect --key` and `verify --key` ~4 M instructions (the CLI bundle loads built-ins on first use).
async function readKeyFile(path: string, what: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? 'error'})`;
    throw new UsageError(`${what} ${path} ${why}`, { code: ErrorCode.keyInvalid, hint: KEYGEN_HINT, cause: err });
  }
  if (bytes.length > MAX_KEY_FILE_BYTES) throw new UsageError(`${what} ${path} is too large to be a key`, { code: ErrorCode.keyInvalid, hint: KEYGEN_HINT });
  return bytes.toString('utf8');
}

/** The PEM of an Ed25519 private key file, validated. */
export async function readPrivateKeyFile(path: string): Promise<string> {
  const pem = await readKeyFile(path, 'signing key');
  parsePrivateKey(pem, `signing key ${path}`);
  return pem;
}

/** Called when a verification key file holds a private key (only its public half is used). */
export type PrivateKeyGiven = (path: string) => void;

/**
 * The PEM of an Ed25519 public key file, validated. A private key file (NAME.key
 * given where NAME.pub belongs) yields its public half, and `onPrivateKey` is told,
 * so the caller can say so: the secret should not travel to the far side.
 */
export async function readPublicKeyFile(path: string, onPrivateKey?: PrivateKeyGiven): Promise<string> {
  const pem = await readKeyFile(path, 'verification key');
  const key = parsePublicKey(pem, `verification key ${path}`);
  if (!pem.includes('PRIVATE KEY-----')) return pem;
  onPrivateKey?.(path);
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

/** The PEMs of every `--key` given (the flag may be repeated), or undefined for none. */
export async function readPublicKeyFiles(paths: string | readonly string[] | undefined, onPrivateKey?: PrivateKeyGiven): Promise<string[] | undefined> {
  const list = paths === undefined ? [] : typeof paths === 'string' ? [paths] : paths;
  if (list.length === 0) return undefined;
  return Promise.all(list.map((p) => readPublicKeyFile(p, onPrivateKey)));
}

/** Writes `${name}.key` (mode 0600) and `${name}.pub`; refuses to overwrite an existing key. */
export async function writeKeyPair(name: string): Promise<KeyFiles> {
  const pair = generateKeyPair();
  const privateKeyPath = `${name}.key`;
  const publicKeyPath = `${name}.pub`;
  try {
    await writeFile(privateKeyPath, pair.privateKeyPem, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new UsageError(`${privateKeyPath} already exists; ferry does not overwrite a signing key`, {
        code: ErrorCode.keyInvalid,
        hint: 'choose another name, or delete the old key first if you really mean to replace it',
      });
    }
    throw new UsageError(`cannot write ${privateKeyPath}: ${(err as Error).message}`, { code: ErrorCode.keyInvalid, cause: err });
  }
  try {
    await writeFile(publicKeyPath, pair.publicKeyPem, { mode: 0o644 });
  } catch (err) {
    await rm(privateKeyPath, { force: true });
    throw new UsageError(`cannot write ${publicKeyPath}: ${(err as Error).message}`, { code: ErrorCode.keyInvalid, cause: err });
  }
  return { privateKeyPath, publicKeyPath, keyId: keyIdOf(pair.publicKeyPem) };
}
