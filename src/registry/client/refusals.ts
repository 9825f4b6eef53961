import { AuthError, ErrorCode, UsageError, type FerryError } from '../../core/index.js';
import type { RegistryErrorEntry } from '../api/index.js';

// Refusals by policy that people running ACR (Azure Stack Hub), Harbor,
// distribution and ferry serve meet when they push, delete or prune: a full
// quota, a locked image or repository, a missing role, deletes turned off. Each
// becomes one line that says which it is and names the setting or role, with
// its own error code (exit 3 for refusals, 2 for an operation the registry does
// not offer). 429 stays with the transport's retry policy (response-error.ts).
//
// The bodies, as the registries send them (public issue threads and docs):
// - ACR lock / write- or delete-disabled, and ACR on Azure Stack Hub at its quota:
//   405 {"errors":[{"code":"REGISTRY_DISALLOWED_OPERATION","message":"The operation is disallowed on this
//   registry, repository or image. View troubleshooting steps at https://aka.ms/acr/faq/#why-does-my-pull-
//   or-push-request-fail-with-disallowed-operation","detail":{}}]}  (Azure/acr-cli#70,
//   Azure/azure-sdk-for-net#22827; MicrosoftDocs/azure-stack-docs container-registry-troubleshoot.md: "an
//   error saying that a quota has been exceeded or an error saying that some operation is disallowed")
// - ACR firewall: 403 {"errors":[{"code":"DENIED","message":"client with IP '…' is not allowed access.
//   Refer https://aka.ms/acr/firewall to grant access."}]}  (docker/build-push-action#1214)
// - Harbor quota: 403 DENIED "adding 29.0 MiB of storage resource, which when updated to current usage of
//   152.4 MiB will exceed the configured upper limit of 10.0 MiB."  (goharbor/harbor#17390, #8797)
// - Harbor immutable tag: 412 DENIED "The tag:… is immutable, cannot be overwrite."  (goharbor/harbor#9427)
// - Harbor read-only mode: 403 DENIED "The system is in read only mode. Any modification is prohibited."
//   (goharbor/harbor#4524, #4650)
// - Harbor missing role: 401 UNAUTHORIZED "unauthorized to access repository: myapp/mysql, action: push: …"
//   (goharbor/harbor#21373, #14952)
// - distribution with deletes off: 405 {"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}

export type Verb = 'pull' | 'push' | 'delete';

function verbOf(method: string): Verb {
  if (method === 'DELETE') return 'delete';
  return method === 'GET' || method === 'HEAD' ? 'pull' : 'push';
}

const ROLES: Record<Verb, string> = {
  pull: 'ACR: AcrPull; Harbor: Guest or higher; ferry serve: pull in the users file',
  push: 'ACR: AcrPush (or a token scope map with content/write); Harbor: Developer or higher; ferry serve: push in the users file',
  delete: 'ACR: AcrDelete (or a token scope map with content/delete); Harbor: Maintainer or higher; ferry serve: delete in the users file',
};

/** What role a request of `method` needs, per registry: the hint for a credential that lacks it. */
export function roleHint(method: string): string {
  const verb = verbOf(method);
  return `the credentials are valid but lack the role to ${verb} here (${ROLES[verb]}): ask for it, or use an account that has it`;
}

/** Why a registry turned someone away: no credentials, credentials it rejects, or a role they lack. */
export type RefusalReason = 'anonymous' | 'credentials' | 'role';

export interface Refused {
  /** `user NAME`, `identity token`, `registry token` or `anonymous` (Authenticator.describe). */
  who: string;
  /** The registry as the user names it (host[:port], docker.io). */
  registry: string;
  reason: RefusalReason;
  /** The HTTP method refused, for the action (pull/push/delete) and the role it needs. */
  method?: string;
  /** The action, when the method does not say it (a token scope's actions). */
  action?: Verb;
  /** Absent for a catalog listing or a login check, which name no repository. */
  repository?: string;
  /** The catalog (`ferry ls REGISTRY`): refused to list its repositories. */
  listing?: boolean;
  /** The registry's own words (`403 DENIED: …`), kept for a missing role: ACR and Harbor name the action there. */
  said?: string;
}

/**
 * The one line a refusal prints, everywhere (client errors and `ferry doctor`):
 * who was refused by which registry, for what, and what to check. The raw
 * request line stays out of it (it is in the error's details).
 */
export function refusedMessage(r: Refused): string {
  const { what, check } = refusedParts(r);
  return `${what}: ${check}`;
}

/** The two halves of refusedMessage: what happened, and what to check (doctor shows the second as its hint). */
export function refusedParts(r: Refused): { what: string; check: string } {
  const verb = r.action ?? (r.method ? verbOf(r.method) : undefined);
  const subject = r.who === 'anonymous' ? 'anonymous access (no credentials)' : r.who;
  const to = r.listing ? ' to list its repositories' : verb === undefined ? '' : r.repository ? ` to ${verb} ${r.repository}` : ` to ${verb}`;
  const what = `${subject} was refused by ${r.registry}${to}`;
  if (r.reason === 'anonymous') {
    return { what, check: `no credentials found for ${r.registry}; pass --creds USER:PASS or --authfile FILE (or set REGISTRY_AUTH_FILE), or run ferry login ${r.registry}` };
  }
  if (r.reason === 'credentials') {
    return { what, check: `wrong user or password, or an expired token; check --creds, --authfile (or REGISTRY_AUTH_FILE), or run ferry login ${r.registry} again` };
  }
  if (r.listing) {
    return { what, check: `these credentials may not list the catalog (ACR: a repository-scoped token cannot, AcrPull on the registry can; Harbor: system administrators only); name a repository instead: ferry ls ${r.registry}/REPO` };
  }
  const need = verb ?? 'pull';
  const said = r.said ? ` (the registry said: ${r.said})` : '';
  return { what, check: `the credentials are valid but lack the role to ${need} (${ROLES[need]}); ask for it, or pass --creds/--authfile of an account that has it${said}` };
}

/** pull, push or delete, from the actions of a token scope (`pull,push`): the strongest one asked. */
export function verbOfActions(actions: readonly string[]): Verb | undefined {
  if (actions.includes('delete') || actions.includes('*')) return 'delete';
  if (actions.includes('push')) return 'push';
  return actions.includes('pull') ? 'pull' : undefined;
}

const roleRefusals = new WeakSet<FerryError>();

/** Is this a refusal for a missing role (403, DENIED, Harbor's 401 naming the action), as refusalError mapped it? */
export function isRoleRefusal(err: FerryError): boolean {
  return roleRefusals.has(err);
}

const QUOTA = /quota|upper limit|storage limit|size limit/i;
const IMMUTABLE = /immutable/i;
const READ_ONLY = /read[- ]only mode/i;
const LOCKED = /disallowed|operation not allowed|write.?disabled|delete.?disabled|locked|quarantin/i;
const FIREWALL = /not allowed access|firewall/i;
const ROLE = /unauthorized to access repository|unauthorized to list catalog|requested access to the resource is denied|insufficient.?scope|not authorized/i;

function locked(method: string, message: string): AuthError {
  if (verbOf(method) === 'pull') {
    return new AuthError(`the image or repository is locked against reads or quarantined: ${message}`, {
      code: ErrorCode.locked,
      hint: 'ACR: az acr repository update --name REGISTRY --image REPO:TAG (or --repository REPO) --read-enabled true; a quarantined image is released by its scanner',
    });
  }
  if (verbOf(method) === 'delete') {
    return new AuthError(`the image or repository is locked against deletes: ${message}`, {
      code: ErrorCode.locked,
      hint: 'ACR: az acr repository update --name REGISTRY --image REPO:TAG (or --repository REPO) --delete-enabled true; Harbor: lift the tag immutability rule or read-only mode',
    });
  }
  return new AuthError(`the registry refuses writes here (image or repository locked, or its storage limit reached): ${message}`, {
    code: ErrorCode.locked,
    hint: 'ACR: az acr repository show shows writeEnabled; unlock with az acr repository update … --write-enabled true. On Azure Stack Hub a full registry quota answers the same: ask the operator to raise it, or delete images (ferry prune)',
  });
}

/**
 * The refusal a registry's answer stands for, or undefined when it is none of
 * these (the caller's generic mapping applies). `said` is the registry's own
 * words: `CODE: message; …` or the body's first line.
 */
export function refusalError(method: string, status: number, entries: readonly RegistryErrorEntry[], said: string, message: string): FerryError | undefined {
  const codes = new Set(entries.map((e) => e.code));
  const refused = status === 401 || status === 403 || status === 405 || status === 412 || codes.has('DENIED');
  if (!refused && !codes.has('REGISTRY_DISALLOWED_OPERATION') && !codes.has('UNSUPPORTED')) return undefined;
  if (QUOTA.test(said)) {
    return new AuthError(`the registry's storage quota is used up: ${message}`, {
      code: ErrorCode.quotaExceeded,
      hint: 'delete images no longer needed (ferry rm, ferry prune --untagged, then the registry\'s garbage collection) or ask the operator to raise the quota (Azure Stack Hub: the ACR quota of the plan; Harbor: the project quota)',
    });
  }
  if (IMMUTABLE.test(said)) {
    return new AuthError(`the tag is immutable and cannot be overwritten or deleted: ${message}`, {
      code: ErrorCode.locked,
      hint: 'push under a new tag, or have a project admin change the tag immutability rule (Harbor)',
    });
  }
  if (READ_ONLY.test(said)) {
    return new AuthError(`the registry is in read-only mode: ${message}`, { code: ErrorCode.locked, hint: 'an administrator turns read-only mode off (Harbor: Configuration → System settings; it is on during GC)' });
  }
  if (codes.has('REGISTRY_DISALLOWED_OPERATION') || (status !== 405 && LOCKED.test(said))) return locked(method, message);
  if (status === 405 || codes.has('UNSUPPORTED')) {
    if (verbOf(method) === 'delete') {
      return new UsageError(`the registry has deletes turned off: ${message}`, {
        code: ErrorCode.unsupported,
        hint: 'distribution: set storage.delete.enabled: true (or REGISTRY_STORAGE_DELETE_ENABLED=true) and restart it; ferry serve: run it without --read-only',
      });
    }
    return new UsageError(`the registry does not support this operation: ${message}`, {
      code: ErrorCode.unsupported,
      hint: 'a read-only registry (ferry serve --read-only, a pull-through cache, Harbor in read-only mode) refuses pushes: push to its source, or lift the setting',
    });
  }
  if (FIREWALL.test(said)) {
    return new AuthError(`the registry's network rules refuse this client: ${message}`, { code: ErrorCode.denied, hint: 'allow this machine\'s address in the registry\'s firewall (ACR: https://aka.ms/acr/firewall)' });
  }
  if (status === 403 || codes.has('DENIED') || (status === 401 && ROLE.test(said))) {
    if (status === 401 && !ROLE.test(said)) return undefined;
    const err = new AuthError(message, { code: ErrorCode.denied, hint: roleHint(method) });
    roleRefusals.add(err);
    return err;
  }
  return undefined;
}
