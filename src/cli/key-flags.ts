import { readPublicKeyFiles } from '../bundle/index.js';
import type { Output } from './output.js';

// `--key` on verify, inspect, import and k8s: the trusted public keys. A private
// key given there still verifies (with its public half), and the user is told:
// NAME.key signs and stays on the connected side; NAME.pub is what travels.

export function verificationKeys(paths: string | readonly string[] | undefined, out: Pick<Output, 'warn'>): Promise<string[] | undefined> {
  return readPublicKeyFiles(paths, (path) =>
    out.warn(`--key ${path} is a private (signing) key: verifying with its public half; give the .pub file, and keep the .key off the far side`),
  );
}
