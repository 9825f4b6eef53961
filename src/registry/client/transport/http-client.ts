import type { Dispatcher } from 'undici';
import type { Clock } from '../../../core/clock.js';
import { AuthError, ErrorCode, FerryError } from '../../../core/index.js';
import { BASE_PATH } from '../../api/index.js';
import { Authenticator } from '../auth/authenticator.js';
import type { Credentials } from '../auth/credentials.js';
import type { Scope } from '../auth/scope.js';
import { isAbortError, networkError } from '../network-error.js';
import { isRoleRefusal, refusedMessage, type RefusalReason } from '../refusals.js';
import { keepRegistryDetails, registryErrorDetails, responseError } from '../response-error.js';
import { refusedTarget } from './refused-target.js';
import { backoffDelay, giveUp, isTransient, isTransientStatus, Outage, parseRetryAfter, waitToRetry, type RetrySettings } from '../retry/index.js';
import { discard, exchange, headerOf, isReplayable, type Exchange, type HttpMethod, type HttpResponse, type RequestBody } from './exchange.js';
import { redactUrl } from './redact.js';
import { followRedirects } from './redirect.js';
import type { TraceSink } from './trace.js';

// The transport stack of one registry host, outermost first:
//   retry (idempotent + replayable only) → auth (ping, header, one re-try after a 401)
//   → redirects (Authorization dropped cross-origin) → exchange (undici, trace).
// Anything but an expected status becomes a FerryError here, so resource files
// (blobs.ts, manifests.ts, …) deal only in successes. A status worth a retry is
// retried per request; a network failure on the origin's shared schedule
// (retry/outage.ts), so a registry that is down costs one budget, not one per request.

export interface RequestSpec {
  method: HttpMethod;
  /** A path on the registry (`/v2/…`) or an absolute URL (an upload Location). */
  url: string | URL;
  headers?: Record<string, string> | undefined;
  body?: RequestBody | undefined;
  /** Token scopes this request needs. */
  scopes: readonly Scope[];
  /** Statuses that are a success for the caller; anything else throws. */
  ok: readonly number[];
  /** Override the retry decision (default: replayable body and not PATCH). */
  retry?: boolean;
  /** Follow redirects (default true). */
  redirects?: boolean;
  /** Send no registry Authorization (token requests). */
  noAuth?: boolean;
  signal?: AbortSignal | undefined;
}

export interface HttpClientDeps {
  base: URL;
  /** The registry as the user names it (docker.io, not registry-1.docker.io), for messages. */
  registry?: string;
  agent: Dispatcher;
  /** The credentials for this registry, asked once, when a challenge first needs them. */
  credentials: () => Promise<Credentials | undefined>;
  retry: RetrySettings;
  userAgent: string;
  trace?: TraceSink;
  /** Now, for bearer token lifetimes (default the system clock). */
  clock?: Clock;
  signal?: AbortSignal;
}

export class HttpClient {
  readonly base: URL;
  private readonly deps: HttpClientDeps;
  /** The auth state of this registry: its token requests go through this client, without registry auth. */
  readonly auth: Authenticator;
  private pinged: Promise<void> | undefined;
  private readonly outages = new Map<string, Outage>();
  private readonly combined = new WeakMap<AbortSignal, AbortSignal>();

  constructor(deps: HttpClientDeps) {
    this.deps = deps;
    this.base = deps.base;
    this.auth = new Authenticator(deps.credentials, (req) => this.request({ ...req, scopes: [], ok: [200], noAuth: true }), deps.clock);
  }

  /** The budget, backoff and report every retry of this client uses. */
  get retry(): RetrySettings {
    return this.deps.retry;
  }

  url(pathOrUrl: string | URL): URL {
    return pathOrUrl instanceof URL ? pathOrUrl : new URL(pathOrUrl, this.base);
  }

  private signal(spec: RequestSpec): AbortSignal | undefined {
    const own = this.deps.signal;
    if (!spec.signal || !own || spec.signal === own) return spec.signal ?? own;
    // One combined signal per caller's signal, not per request: most requests of a run carry the same one.
    let both = this.combined.get(spec.signal);
    if (!both) {
      both = AbortSignal.any([spec.signal, own]);
      this.combined.set(spec.signal, both);
    }
    return both;
  }

  /** GET /v2/ once, unauthenticated, to learn the auth scheme before any body is streamed. */
  ping(signal?: AbortSignal): Promise<void> {
    this.pinged ??= this.request({ method: 'GET', url: BASE_PATH, scopes: [], ok: [200, 401, 404], noAuth: true, signal })
      .then(async (res) => {
        if (res.status === 401) this.auth.learn(headerOf(res.headers, 'www-authenticate'));
        await discard(res);
      })
      .catch((e: unknown) => {
        this.pinged = undefined;
        throw e;
      });
    return this.pinged;
  }

  async request(spec: RequestSpec): Promise<HttpResponse> {
    const url = this.url(spec.url);
    const signal = this.signal(spec);
    if (!spec.noAuth) await this.ping(signal);
    const canRetry = spec.retry ?? (isReplayable(spec.body) && spec.method !== 'PATCH');
    const { retry } = this.deps;
    // Only a retry prints it: a URL parse per request otherwise (N=1000 import: 9,500 requests).
    const what = (): string => `${spec.method} ${redactUrl(url)}`;
    const outage = this.outageOf(url);
    for (let attempt = 1; ; attempt++) {
      let res: HttpResponse;
      const since = outage.begin();
      try {
        res = await this.once(spec, url, attempt, signal);
      } catch (e) {
        if (isAbortError(e) || signal?.aborted) throw e;
        const err = networkError(spec.method, url, e);
        if (!canRetry || !isTransient(err)) throw err;
        await outage.failed(err, since, what(), signal);
        continue;
      }
      outage.answered(since);
      if (spec.ok.includes(res.status)) return res;
      const err = await this.failure(spec.method, url, res, spec.scopes, spec.noAuth === true);
      if (!canRetry || !isTransientStatus(res.status)) throw err;
      // Retried here to the end of the budget: no outer level retries it again.
      if (attempt > retry.policy.retries) throw giveUp(err);
      const delayMs = backoffDelay(retry.policy, attempt, parseRetryAfter(headerOf(res.headers, 'retry-after')));
      await waitToRetry(retry, err, attempt, what(), delayMs, signal);
    }
  }

  private outageOf(url: URL): Outage {
    let outage = this.outages.get(url.origin);
    if (!outage) {
      outage = new Outage(this.deps.retry);
      this.outages.set(url.origin, outage);
    }
    return outage;
  }

  private async failure(method: HttpMethod, url: URL, res: HttpResponse, scopes: readonly Scope[], tokenRequest: boolean): Promise<FerryError> {
    const err = await responseError(method, url, res);
    const reason = await this.refusalReason(err, res, tokenRequest);
    if (!reason) return err;
    // One line naming who, where, what and what to check (refusals.ts); the raw
    // request line goes to details (--json, --debug).
    const who = await this.auth.describe();
    const target = refusedTarget(url, method, this.base, scopes);
    const entries = registryErrorDetails(err)?.errors ?? [];
    const said = entries.length > 0 ? `${res.status} ${entries.map((e) => `${e.code}${e.message ? `: ${e.message}` : ''}`).join('; ')}`.slice(0, 200) : undefined;
    const message = refusedMessage({ who, registry: this.deps.registry ?? this.base.host, reason, ...target, ...(said ? { said } : {}) });
    const refused = new AuthError(message, {
      code: reason === 'credentials' || reason === 'anonymous' ? ErrorCode.unauthorized : ErrorCode.denied,
      cause: err,
      details: { request: err.message, who, registry: this.deps.registry ?? this.base.host, ...target },
    });
    return keepRegistryDetails(err, refused);
  }

  private async refusalReason(err: FerryError, res: HttpResponse, tokenRequest: boolean): Promise<RefusalReason | undefined> {
    // A token granted without what this request needs (RFC 6750): the credentials are fine, the rights are not.
    const scopeShort = res.status === 401 && /error="?insufficient_scope/i.test(headerOf(res.headers, 'www-authenticate') ?? '');
    const role = isRoleRefusal(err) || scopeShort;
    if (!role && !(res.status === 401 && err.code === ErrorCode.unauthorized)) return undefined;
    const creds = await this.auth.credentials();
    if (!creds) return 'anonymous';
    if (role) return 'role';
    // Bearer: the realm took these credentials (it issued the token this request
    // carried, fetched afresh after the first 401), so the registry's 401 is about
    // rights (ACR answers a missing AcrPush so). A registry token given as is may
    // simply have expired.
    if (!tokenRequest && this.auth.kind === 'bearer' && !creds.registryToken) return 'role';
    return 'credentials';
  }

  private async once(spec: RequestSpec, url: URL, attempt: number, signal?: AbortSignal): Promise<HttpResponse> {
    const headers: Record<string, string> = { 'user-agent': this.deps.userAgent, ...spec.headers };
    const ours = url.origin === this.base.origin && !spec.noAuth;
    if (ours) {
      const authorization = await this.auth.authorization(spec.scopes);
      if (authorization) headers.authorization = authorization;
    }
    const x: Exchange = { method: spec.method, url, headers, body: spec.body, signal, attempt };
    const send = (e: Exchange) => exchange(this.deps.agent, e, this.deps.trace);
    const res = spec.redirects === false ? await send(x) : await followRedirects(send, x);
    if (res.status !== 401 || !ours || res.url.origin !== this.base.origin) return res;
    // Learn from the 401 even when we cannot replay this body: the owner's retry
    // of the whole upload then starts with a fresh token.
    const again = await this.auth.challenged(headerOf(res.headers, 'www-authenticate'), spec.scopes, headers.authorization);
    if (!again || !isReplayable(spec.body)) return res;
    await discard(res);
    const authorization = await this.auth.authorization(spec.scopes);
    const retryHeaders = { ...headers };
    if (authorization) retryHeaders.authorization = authorization;
    return spec.redirects === false ? send({ ...x, headers: retryHeaders }) : followRedirects(send, { ...x, headers: retryHeaders });
  }
}
