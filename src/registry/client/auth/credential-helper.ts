import { spawn } from 'node:child_process';
import { AuthError } from '../../../core/index.js';
import type { Credentials } from './credentials.js';

// Docker credential helpers (docker-credential-helpers protocol): run
// `docker-credential-NAME get`, write the server URL on stdin, read
// {"ServerURL","Username","Secret"} from stdout. Username `<token>` means Secret
// is an identity (refresh) token. Nothing read here is ever logged.

const HELPER_TIMEOUT_MS = 30_000;
const MAX_OUTPUT = 64 * 1024;

/** Runs `program VERB` with `input` on stdin; resolves to its exit code and (bounded) stdout. */
export function runHelper(program: string, verb: 'get' | 'store' | 'erase', input: string, env: Record<string, string | undefined>): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, [verb], { env: env as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'ignore'] });
    let stdout = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), HELPER_TIMEOUT_MS);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (c: string) => {
      if (stdout.length < MAX_OUTPUT) stdout += c;
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/** `docker-credential-NAME`, after checking NAME cannot smuggle a path or option. */
export function helperProgram(name: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new AuthError(`invalid credential helper name '${name.slice(0, 60)}'`);
  return `docker-credential-${name}`;
}

/** Credentials for `serverUrl` from helper `name`; undefined when the helper has none. */
export async function credentialsFromHelper(
  name: string,
  serverUrl: string,
  env: Record<string, string | undefined>,
): Promise<Credentials | undefined> {
  const program = helperProgram(name);
  let result: { code: number; stdout: string };
  try {
    result = await runHelper(program, 'get', serverUrl, env);
  } catch (e) {
    throw new AuthError(`credential helper ${program} could not be run: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, {
      hint: `install ${program} or remove it from credHelpers/credsStore in the auth file`,
    });
  }
  // "credentials not found in native keychain" is the protocol's normal "none".
  if (result.code !== 0) {
    if (/not found/i.test(result.stdout)) return undefined;
    throw new AuthError(`credential helper ${program} failed for ${serverUrl} (exit ${result.code})`, { hint: `run '${program} get' by hand to see why` });
  }
  let doc: { Username?: unknown; Secret?: unknown };
  try {
    doc = JSON.parse(result.stdout) as { Username?: unknown; Secret?: unknown };
  } catch {
    throw new AuthError(`credential helper ${program} answered something that is not JSON`);
  }
  if (typeof doc.Secret !== 'string' || doc.Secret === '') return undefined;
  if (doc.Username === '<token>') return { identityToken: doc.Secret };
  return { username: typeof doc.Username === 'string' ? doc.Username : '', password: doc.Secret };
}
