import { ErrorCode, ExitCode, isFerryError } from '../core/errors.js';
import { blobPath } from '../registry/api/index.js';
import { dropBody, redactUrl, repositoryScope, type TraceRecord } from '../registry/client/index.js';
import { CheckName, fail, failWith, ok, skip, type CheckResult } from './check.js';
import type { Probe } from './probe-client.js';
import { pickBlob, type RepositoryRef } from './pick-blob.js';

// Check 8 (--repository REPO[:TAG]): download one byte of a real blob through
// ferry's own transport and read the hops back from the trace. Registries such
// as ACR answer blob GETs with a redirect to storage on another origin; ferry
// must follow it WITHOUT our Authorization (it would leak, and Azure refuses
// it). The check reports where blobs come from and proves what was sent there.

const STORAGE_HINT =
  'the storage the registry redirects blob downloads to must be reachable from here, and clocks in sync (signed URLs expire): check DNS, firewall and proxy for that origin';

export async function checkRedirect(probe: Probe, ref: RepositoryRef | undefined): Promise<CheckResult> {
  if (ref === undefined) return skip(CheckName.redirect, 'not asked: pass --repository REPO[:TAG] to download one byte of a blob and see where it comes from');
  let blob: Awaited<ReturnType<typeof pickBlob>>;
  try {
    blob = await pickBlob(probe.client.repository(ref.repository), ref.reference);
  } catch (e) {
    if (isFerryError(e)) return failWith(CheckName.redirect, e);
    throw e;
  }
  if (typeof blob === 'string') return skip(CheckName.redirect, blob);
  const path = blobPath(ref.repository, blob.digest);
  const first = redactUrl(new URL(path, probe.target.baseUrl));
  const start = probe.records.length;
  let status: number | undefined;
  let failure: unknown;
  try {
    const res = await probe.client.send({ method: 'GET', url: path, headers: { range: 'bytes=0-0' }, scopes: [repositoryScope(ref.repository, 'pull')], ok: [200, 206] });
    status = res.status;
    dropBody(res);
  } catch (e) {
    if (!isFerryError(e)) throw e;
    failure = e;
  }
  const hops = hopsOf(probe.records.slice(start), first);
  const origin = probe.target.baseUrl.origin;
  const away = hops.filter((h) => originOf(h.url) !== origin);
  const elsewhere = [...new Set(away.map((h) => originOf(h.url)))].join(', ');
  if (isFerryError(failure)) {
    return away.length > 0 ? failWith(CheckName.redirect, failure, { detail: `blob GET redirected to ${elsewhere}, which failed: ${failure.message}`, hint: STORAGE_HINT }) : failWith(CheckName.redirect, failure);
  }
  const blobName = `${blob.kind} ${blob.digest.slice(0, 19)}…`;
  if (away.length === 0) {
    const how = hops.length > 1 ? `redirected within ${origin} (${hops.length - 1} hops)` : 'no redirect';
    return ok(CheckName.redirect, `GET of ${blobName} answered by the registry itself (${status ?? '?'}, ${how})`);
  }
  const leaked = away.filter((h) => h.requestHeaders.authorization !== undefined);
  if (leaked.length > 0) {
    return fail(CheckName.redirect, `ferry sent Authorization to ${[...new Set(leaked.map((h) => originOf(h.url)))].join(', ')} after a redirect`, {
      code: ErrorCode.internal,
      exitCode: ExitCode.internal,
      hint: 'a bug in ferry: report it with the output of --trace FILE (credentials are redacted there)',
    });
  }
  const toRegistry = hops[0]?.requestHeaders.authorization !== undefined ? ' (the registry got it)' : '';
  return ok(CheckName.redirect, `GET of ${blobName} redirected (${hops[0]?.status ?? '?'}) to ${elsewhere}, which answered ${status ?? '?'}; ferry sent no Authorization there${toRegistry}`);
}

/** The exchanges of the final attempt: its first hop (the last request to `first`) and every redirect after it. */
function hopsOf(records: readonly TraceRecord[], first: string): TraceRecord[] {
  let at = -1;
  records.forEach((r, i) => {
    if (r.method === 'GET' && r.url === first) at = i;
  });
  return at < 0 ? [] : records.slice(at);
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
