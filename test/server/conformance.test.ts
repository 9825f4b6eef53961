import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../src/registry/server/index.js';
import { createCa, type TestCa } from '../rig/ca.js';
import { requirePeer, run } from '../rig/peers.js';
import { serve, type ServeOptions } from './harness.js';

// The OCI distribution-spec conformance suite (v1.1.1, a Ginkgo binary built from
// opencontainers/distribution-spec) against ferry serve: open on loopback, with a
// users file (token and Basic challenges), and over TLS. Every case it runs must pass.
//
// FERRY_CONFORMANCE names the binary (.ci/run sets it from ../shared/conformance when
// present); unset, the test looks in those same places. Not found: a skip with one
// line locally, a failure naming what is missing under CI=true (a skipped suite passes
// silently). FERRY_CONFORMANCE=off turns it off on purpose, CI included.

const BINARY = 'oci-distribution-conformance-v1.1.1';
const REPO = resolve(import.meta.dirname, '../..');
const PLACES = [join(REPO, '../shared/conformance', BINARY), join(REPO, '../../shared/conformance', BINARY), join('/work/shared/conformance', BINARY)];
/** Cases the suite runs with pull, push, discovery and management on and automatic cross-mount off. */
const MIN_RUN = 75;

function findSuite(): string | undefined {
  const named = process.env.FERRY_CONFORMANCE;
  if (named === 'off') return undefined;
  if (named !== undefined && named !== '') {
    if (!existsSync(named)) throw new Error(`FERRY_CONFORMANCE=${named}: no such file (set it to the ${BINARY} binary, or to "off")`);
    return named;
  }
  const found = PLACES.find((p) => existsSync(p));
  if (found) return found;
  const missing = `${BINARY} not found in ${PLACES.join(', ')}: set FERRY_CONFORMANCE to it (or to "off")`;
  if (process.env.CI === 'true') throw new Error(`${missing} — CI=true: the conformance suite must not skip`);
  process.stderr.write(`skipping the OCI conformance suite: ${missing}\n`);
  return undefined;
}

interface Counts {
  readonly run: number;
  readonly passed: number;
  readonly failed: string[];
}

/** Counts junit.xml as the suite's README says: cases not skipped are run; run without failure/error passed. */
function countJunit(xml: string): Counts {
  const cases = xml.match(/<testcase\b[^>]*\/>|<testcase\b[^>]*>[\s\S]*?<\/testcase>/g) ?? [];
  let runCount = 0;
  let passed = 0;
  const failed: string[] = [];
  for (const c of cases) {
    const name = /name="([^"]*)"/.exec(c)?.[1] ?? '';
    if (name === 'html custom reporter' || /<skipped\b/.test(c)) continue;
    runCount++;
    if (/<(failure|error)\b/.test(c)) failed.push(name);
    else passed++;
  }
  return { run: runCount, passed, failed };
}

const suite = findSuite();

describe.skipIf(suite === undefined)('OCI distribution-spec conformance', () => {
  let dir: string;
  let ca: TestCa;
  let users: string;
  const USER = { name: 'conformance', password: 'conformance-secret' };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-conformance-'));
    users = join(dir, 'users.yaml');
    // Scoped to the suite's namespaces, so the run also exercises the access checks.
    await addUser(users, USER.name, USER.password, [{ pattern: 'conformance/*', roles: ['pull', 'push', 'delete'] }]);
    requirePeer('openssl', 'openssl');
    ca = await createCa(dir);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function conform(mode: string, opts: ServeOptions, auth: boolean): Promise<Counts> {
    const s = await serve(opts);
    const reportDir = await mkdtemp(join(dir, `${mode.replace(/\W+/g, '-')}-`));
    try {
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        OCI_ROOT_URL: s.server.url,
        OCI_NAMESPACE: 'conformance/repo1',
        OCI_CROSSMOUNT_NAMESPACE: 'conformance/repo2',
        OCI_TEST_PULL: '1',
        OCI_TEST_PUSH: '1',
        OCI_TEST_CONTENT_DISCOVERY: '1',
        OCI_TEST_CONTENT_MANAGEMENT: '1',
        OCI_AUTOMATIC_CROSSMOUNT: '0',
        OCI_REPORT_DIR: reportDir,
        ...(auth ? { OCI_USERNAME: USER.name, OCI_PASSWORD: USER.password } : {}),
      };
      const result = await run(suite ?? '', ['-ginkgo.no-color'], { cwd: reportDir, env, timeoutMs: 300_000 });
      const xml = await readFile(join(reportDir, 'junit.xml'), 'utf8').catch(() => '');
      const counts = countJunit(xml);
      process.stderr.write(`conformance ${mode}: ${counts.run} run, ${counts.passed} passed\n`);
      if (counts.run === 0) throw new Error(`the suite ran nothing (exit ${result.code}): ${result.stdout.slice(-2000)}${result.stderr.slice(-1000)}`);
      return counts;
    } finally {
      await s.stop();
    }
  }

  const modes: Array<[string, () => ServeOptions, boolean]> = [
    ['open on loopback', () => ({}), false],
    ['users file, token challenge', () => ({ users }), true],
    ['users file, Basic challenge', () => ({ users, challenge: 'basic' }), true],
    ['TLS with a users file', () => ({ users, tls: { certFile: ca.serverCertPath, keyFile: ca.serverKeyPath }, caCert: ca.caCertPem }), true],
  ];
  for (const [mode, opts, auth] of modes) {
    it(`every case the suite runs passes: ${mode}`, async () => {
      const counts = await conform(mode, opts(), auth);
      expect(counts.failed).toEqual([]);
      expect(counts.run).toBeGreaterThanOrEqual(MIN_RUN);
      expect(counts.passed).toBe(counts.run);
    });
  }
});
