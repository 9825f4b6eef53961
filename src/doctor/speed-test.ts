import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { ErrorCode, ExitCode, FerryError, IntegrityError, MediaType, digestOf, type Descriptor } from '../core/index.js';
import { createRegistryClient, type RegistryClientInit, type RemoteRepository } from '../registry/client/index.js';
import { makeSpeedBlob } from './speed-blob.js';

// `ferry doctor REGISTRY --speed [SIZE]`: how fast this machine pushes to and
// pulls from the registry, measured with ferry's own client (the same uploads
// an import does) on a generated blob in a scratch repository that is clearly
// ferry's (ferry-speed-test/<random>), removed afterwards. Each figure is a row
// of the doctor table; a test never asserts a speed, only that it is there.

export const SPEED_ROWS = ['push MiB/s', 'pull MiB/s', 'first-byte latency', 'speed cleanup'] as const;
export type SpeedRowName = (typeof SPEED_ROWS)[number];
export const DEFAULT_SPEED_BYTES = 64 * 1024 * 1024;

export interface SpeedRow {
  readonly name: SpeedRowName;
  readonly status: 'ok' | 'warn' | 'fail' | 'skip';
  readonly detail: string;
  readonly hint?: string;
  readonly code?: ErrorCode;
  readonly exitCode?: ExitCode;
}

export interface SpeedReport {
  repository: string;
  bytes: number;
  push?: { seconds: number; mibPerSecond: number };
  pull?: { seconds: number; mibPerSecond: number; firstByteMs: number };
  cleanup: { manifestDeleted: boolean; blobsDeleted: number; blobsLeft: number };
  rows: SpeedRow[];
}

const MIB = 1024 * 1024;
const round3 = (n: number) => Math.round(n * 1000) / 1000;
const rate = (bytes: number, seconds: number) => Math.round((bytes / MIB / Math.max(seconds, 1e-6)) * 10) / 10;
const size = (bytes: number) => (bytes % MIB === 0 ? `${bytes / MIB} MiB` : `${bytes} bytes`);

function failed(name: SpeedRowName, e: FerryError): SpeedRow {
  return { name, status: 'fail', detail: e.message, code: e.code, exitCode: e.exitCode, ...(e.hint ? { hint: e.hint } : {}) };
}

/** Streams the blob back, timing the first byte and the whole; throws on a digest mismatch. */
async function pullTimed(repo: RemoteRepository, desc: Descriptor): Promise<{ seconds: number; firstByteMs: number }> {
  const started = performance.now();
  const body = await repo.fetch(desc);
  const hash = createHash('sha256');
  let first: number | undefined;
  let bytes = 0;
  for await (const chunk of body) {
    first ??= performance.now();
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  const seconds = (performance.now() - started) / 1000;
  const got = `sha256:${hash.digest('hex')}`;
  if (got !== desc.digest || bytes !== desc.size) {
    throw new IntegrityError(`${repo.describe}: pulled ${bytes} bytes hashing to ${got}, pushed ${desc.size} bytes as ${desc.digest}`, { code: ErrorCode.digestMismatch });
  }
  return { seconds, firstByteMs: Math.round((first ?? performance.now()) - started) };
}

async function removeAll(repo: RemoteRepository, manifest: Descriptor | undefined, blobs: Descriptor[]): Promise<{ report: SpeedReport['cleanup']; row: SpeedRow }> {
  const report = { manifestDeleted: false, blobsDeleted: 0, blobsLeft: blobs.length };
  const where = repo.describe;
  try {
    if (manifest) await repo.delete(manifest);
    report.manifestDeleted = manifest !== undefined;
  } catch (e) {
    if (!(e instanceof FerryError)) throw e;
    return { report, row: { name: 'speed cleanup', status: 'warn', detail: `could not remove ${where}: ${e.message}`, hint: `${e.hint ?? 'enable deletes'}; then delete it: ferry rm ${where}@${manifest?.digest ?? ''}` } };
  }
  const refused: string[] = [];
  for (const blob of blobs) {
    try {
      await repo.delete(blob);
      report.blobsDeleted += 1;
      report.blobsLeft -= 1;
    } catch (e) {
      if (!(e instanceof FerryError)) throw e;
      refused.push(e.message);
    }
  }
  const gc = 'the space returns with the registry\'s garbage collection (distribution: registry garbage-collect; it keeps listing the empty repository name)';
  const detail = refused.length === 0
    ? `removed ${where}: manifest and ${report.blobsDeleted} blobs deleted; ${gc}`
    : `removed the manifest of ${where}; ${refused.length} blobs could not be deleted by API (${refused[0] ?? ''}): ${gc}`;
  return { report, row: { name: 'speed cleanup', status: 'ok', detail } };
}

/** The rows of a speed test that could not run. */
export function skippedSpeed(bytes: number, why: string): SpeedReport {
  return { repository: '', bytes, cleanup: { manifestDeleted: false, blobsDeleted: 0, blobsLeft: 0 }, rows: SPEED_ROWS.map((name) => ({ name, status: 'skip', detail: why })) };
}

/** The speed test's client: the doctor's registry flags, ferry's ordinary retries and timeouts. */
export function speedClient(registry: string, o: SpeedClientSource): RegistryClientInit {
  return {
    registry,
    ...(o.credentials ? { credentials: o.credentials } : {}),
    ...(o.authfile ? { authfile: o.authfile } : {}),
    ...(o.plainHttp !== undefined ? { plainHttp: o.plainHttp } : {}),
    ...(o.forcePlainHttp !== undefined ? { forcePlainHttp: o.forcePlainHttp } : {}),
    ...(o.tlsVerify !== undefined ? { tlsVerify: o.tlsVerify } : {}),
    ...(o.caCert ? { caCert: o.caCert } : {}),
    ...(o.retries !== undefined ? { retries: o.retries } : {}),
    ...(o.env ? { env: o.env } : {}),
    ...(o.homeDir ? { homeDir: o.homeDir } : {}),
    ...(o.trace ? { trace: o.trace } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  };
}

type SpeedClientSource = Pick<RegistryClientInit, 'credentials' | 'authfile' | 'plainHttp' | 'forcePlainHttp' | 'tlsVerify' | 'caCert' | 'retries' | 'env' | 'homeDir' | 'trace' | 'signal'>;

export async function runSpeedTest(client: RegistryClientInit, bytes: number): Promise<SpeedReport> {
  const registry = createRegistryClient(client);
  const repo = registry.repository(`ferry-speed-test/${randomBytes(6).toString('hex')}`);
  const report: SpeedReport = { repository: `${registry.registry}/${repo.name}`, bytes, cleanup: { manifestDeleted: false, blobsDeleted: 0, blobsLeft: 0 }, rows: [] };
  const skipRest = (why: string) => {
    for (const name of SPEED_ROWS) if (!report.rows.some((r) => r.name === name)) report.rows.push({ name, status: 'skip', detail: why });
  };
  const pushed: Descriptor[] = [];
  let manifest: Descriptor | undefined;
  try {
    const blob = await makeSpeedBlob(bytes);
    const started = performance.now();
    await repo.push(blob.descriptor, blob.open(), { absent: true });
    const seconds = (performance.now() - started) / 1000;
    pushed.push(blob.descriptor);
    report.push = { seconds: round3(seconds), mibPerSecond: rate(bytes, seconds) };
    report.rows.push({ name: 'push MiB/s', status: 'ok', detail: `${report.push.mibPerSecond} MiB/s: ${size(bytes)} in ${seconds.toFixed(2)} s to ${report.repository}` });
    // A manifest over the blob, as an import would leave: what the cleanup deletes.
    const config = Buffer.from('{}');
    const configDesc: Descriptor = { mediaType: MediaType.ociEmpty, digest: digestOf(config), size: config.length };
    await repo.push(configDesc, Readable.from([config]));
    pushed.push(configDesc);
    const doc = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, artifactType: 'application/vnd.ferry.speed-test.v1', config: configDesc, layers: [blob.descriptor] }));
    const manifestDesc: Descriptor = { mediaType: MediaType.ociManifest, digest: digestOf(doc), size: doc.length };
    await repo.push(manifestDesc, Readable.from([doc]));
    manifest = manifestDesc;
    const pull = await pullTimed(repo, blob.descriptor);
    report.pull = { seconds: round3(pull.seconds), mibPerSecond: rate(bytes, pull.seconds), firstByteMs: pull.firstByteMs };
    report.rows.push({ name: 'pull MiB/s', status: 'ok', detail: `${report.pull.mibPerSecond} MiB/s: ${size(bytes)} in ${pull.seconds.toFixed(2)} s, digest verified` });
    report.rows.push({ name: 'first-byte latency', status: 'ok', detail: `${pull.firstByteMs} ms from the blob GET to its first byte` });
  } catch (e) {
    if (!(e instanceof FerryError)) throw e;
    report.rows.push(failed(report.push ? 'pull MiB/s' : 'push MiB/s', e));
    skipRest(`skipped: the ${report.push ? 'pull' : 'push'} failed`);
    report.rows = report.rows.filter((r) => r.name !== 'speed cleanup');
  } finally {
    if (pushed.length > 0 || manifest) {
      const done = await removeAll(repo, manifest, pushed).catch((e: unknown) => {
        if (e instanceof FerryError) return { report: report.cleanup, row: { name: 'speed cleanup' as const, status: 'warn' as const, detail: `could not remove ${repo.describe}: ${e.message}` } };
        throw e;
      });
      report.cleanup = done.report;
      report.rows = [...report.rows.filter((r) => r.name !== 'speed cleanup'), done.row];
    } else if (!report.rows.some((r) => r.name === 'speed cleanup')) {
      report.rows.push({ name: 'speed cleanup', status: 'skip', detail: 'nothing was written' });
    }
    await registry.close();
  }
  report.rows.sort((a, b) => SPEED_ROWS.indexOf(a.name) - SPEED_ROWS.indexOf(b.name));
  return report;
}
