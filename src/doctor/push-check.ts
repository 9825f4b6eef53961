import { ErrorCode, ExitCode, isFerryError } from '../core/errors.js';
import { uploadsPath } from '../registry/api/index.js';
import { discard, headerOf, nextLocation, registryErrorDetails, repositoryScope } from '../registry/client/index.js';
import { CheckName, fail, failWith, ok, skip, warn, type CheckResult } from './check.js';
import type { Probe } from './probe-client.js';

// Check 7 (--push-test REPO): may these credentials push? Opens a blob upload
// (POST /v2/REPO/blobs/uploads/, the first step of every push) and cancels it
// (DELETE its Location): no byte is written. 401/403 here, after the auth check
// passed, means a missing push role, a locked repository or a full quota.

export async function checkPush(probe: Probe, repository: string | undefined, credentialsVerified: boolean): Promise<CheckResult> {
  if (repository === undefined) return skip(CheckName.push, 'not asked: pass --push-test REPO to check push permission (an upload is opened and cancelled)');
  const scopes = [repositoryScope(repository, 'pull', 'push')];
  const post = `POST ${uploadsPath(repository)}`;
  let location: URL;
  let status: number;
  try {
    const res = await probe.client.send({ method: 'POST', url: uploadsPath(repository), headers: { 'content-length': '0' }, scopes, ok: [201, 202], retry: false });
    await discard(res);
    status = res.status;
    const header = headerOf(res.headers, 'location');
    if (!header) {
      return fail(CheckName.push, `${post} → ${status} without a Location`, { code: ErrorCode.registry, exitCode: ExitCode.network, hint: 'the registry does not follow the upload protocol; pushes will fail' });
    }
    location = nextLocation(res.url, header);
  } catch (e) {
    if (!isFerryError(e)) throw e;
    const refused = registryErrorDetails(e)?.status;
    const hint =
      refused === 401 && credentialsVerified
        ? `the credentials are valid but may not push to ${repository}: grant a push role (ACR: AcrPush, or a token scope map with content/write)`
        : undefined;
    return failWith(CheckName.push, e, hint === undefined ? {} : { hint });
  }
  try {
    const res = await probe.client.send({ method: 'DELETE', url: location, scopes, ok: [200, 202, 204, 404] });
    await discard(res);
    return ok(CheckName.push, `${post} → ${status}, upload cancelled (DELETE → ${res.status})`);
  } catch (e) {
    if (!isFerryError(e)) throw e;
    return warn(CheckName.push, `${post} → ${status} (push allowed), but cancelling the upload failed: ${e.message}`, 'harmless: the registry purges abandoned uploads');
  }
}
