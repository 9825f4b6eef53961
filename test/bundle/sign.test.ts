import { generateKeyPairSync } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, keyIdOf, readPrivateKeyFile, readPublicKeyFile, sign, verify, writeKeyPair } from '../../src/bundle/index.js';
import { ErrorCode, ExitCode, UsageError } from '../../src/core/errors.js';
import { requirePeer, run, runOk } from '../rig/peers.js';
import { tempDir } from './fixtures.js';

// Ed25519 signatures that stock openssl verifies (and keys openssl makes that
// ferry uses), key files with the right modes, and one-line refusals of keys
// that are missing, unreadable or of the wrong type.

let work: Awaited<ReturnType<typeof tempDir>>;
const haveOpenssl = requirePeer('openssl', 'openssl');

beforeAll(async () => {
  work = await tempDir('ferry-sign-');
});
afterAll(async () => {
  await work.cleanup();
});

async function expectKeyError(promise: Promise<unknown> | (() => unknown), text: string, hint: RegExp = /ferry keygen/): Promise<void> {
  const err = await (typeof promise === 'function' ? Promise.resolve().then(promise) : promise).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UsageError);
  expect((err as UsageError).code).toBe(ErrorCode.keyInvalid);
  expect((err as UsageError).exitCode).toBe(ExitCode.usage);
  expect((err as UsageError).message).toContain(text);
  expect((err as UsageError).hint).toMatch(hint);
}

describe('sign / verify', () => {
  it('signs with 64 raw bytes that verify, and not after any change', () => {
    const keys = generateKeyPair();
    const data = Buffer.from('{"format":"ferry.bundle.v1"}\n');
    const sig = sign(data, keys.privateKeyPem);
    expect(sig.length).toBe(64);
    expect(verify(data, sig, keys.publicKeyPem)).toBe(true);
    expect(verify(Buffer.from('{"format":"ferry.bundle.v2"}\n'), sig, keys.publicKeyPem)).toBe(false);
    expect(verify(data, sig, generateKeyPair().publicKeyPem)).toBe(false);
    expect(verify(data, sig.subarray(0, 63), keys.publicKeyPem)).toBe(false);
  });

  it('gives a short, stable key id that is the same for both halves of a pair', () => {
    const keys = generateKeyPair();
    expect(keys.keyId).toMatch(/^sha256:[a-f0-9]{16}$/);
    expect(keyIdOf(keys.publicKeyPem)).toBe(keys.keyId);
    expect(keyIdOf(keys.privateKeyPem)).toBe(keys.keyId);
    expect(generateKeyPair().keyId).not.toBe(keys.keyId);
  });
});

describe('key files', () => {
  it('keygen writes NAME.key (PKCS#8, 0600) and NAME.pub (SPKI), and will not overwrite a key', async () => {
    const name = join(work.dir, 'ops');
    const files = await writeKeyPair(name);
    expect(files.privateKeyPath).toBe(`${name}.key`);
    expect((await stat(`${name}.key`)).mode & 0o777).toBe(0o600);
    expect(await readFile(`${name}.key`, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(await readFile(`${name}.pub`, 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(keyIdOf(await readPublicKeyFile(`${name}.pub`))).toBe(files.keyId);
    expect(keyIdOf(await readPrivateKeyFile(`${name}.key`))).toBe(files.keyId);
    await expectKeyError(writeKeyPair(name), 'already exists', /choose another name/);
  });

  it('refuses a missing key file, a public key given to sign, and a non-Ed25519 key', async () => {
    await expectKeyError(readPrivateKeyFile(join(work.dir, 'nope.key')), 'does not exist');
    const name = join(work.dir, 'mixup');
    await writeKeyPair(name);
    await expectKeyError(readPrivateKeyFile(`${name}.pub`), 'it is a public key');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await writeFile(join(work.dir, 'rsa.key'), rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await expectKeyError(readPrivateKeyFile(join(work.dir, 'rsa.key')), 'is a RSA key; ferry signs with Ed25519');
    await writeFile(join(work.dir, 'junk.pub'), 'not a key');
    await expectKeyError(readPublicKeyFile(join(work.dir, 'junk.pub')), 'is not a public key');
    await expectKeyError(() => sign(Buffer.from('x'), 'garbage'), 'is not a private key');
  });
});

describe.skipIf(!haveOpenssl)('interoperability with openssl', () => {
  it('openssl pkeyutl -verify -rawin accepts a ferry signature made with a ferry key', async () => {
    const name = join(work.dir, 'interop');
    await writeKeyPair(name);
    const data = join(work.dir, 'bundle.json');
    await writeFile(data, '{"hello":"far side"}\n');
    await writeFile(`${data}.sig`, sign(await readFile(data), await readPrivateKeyFile(`${name}.key`)));
    const ok = await run('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', `${name}.pub`, '-rawin', '-in', data, '-sigfile', `${data}.sig`]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('Signature Verified Successfully');
    await writeFile(data, '{"hello":"far side!"}\n');
    const bad = await run('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', `${name}.pub`, '-rawin', '-in', data, '-sigfile', `${data}.sig`]);
    expect(bad.code).not.toBe(0);
  });

  it('a key made by openssl genpkey signs for ferry, and ferry verifies what openssl signs', async () => {
    const key = join(work.dir, 'openssl.key');
    const pub = join(work.dir, 'openssl.pub');
    await runOk('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', key]);
    await runOk('openssl', ['pkey', '-in', key, '-pubout', '-out', pub]);
    const data = join(work.dir, 'data.bin');
    await writeFile(data, 'signed by openssl\n');
    await runOk('openssl', ['pkeyutl', '-sign', '-inkey', key, '-rawin', '-in', data, '-out', `${data}.sig`]);
    const pubPem = await readPublicKeyFile(pub);
    expect(verify(await readFile(data), await readFile(`${data}.sig`), pubPem)).toBe(true);
    const ours = sign(await readFile(data), await readPrivateKeyFile(key));
    expect(ours.equals(await readFile(`${data}.sig`))).toBe(true); // Ed25519 is deterministic
  });
});
