import type { Dispatcher } from 'undici';
import type { Clock } from '../../../core/clock.js';
import { AuthError, ErrorCode, FerryError } from '../../../core/index.js';
import { BASE_PATH } from '../../api/index.js';
import { Authenticator } from '../auth/authenticator.js';
import type { Credentials } from '../auth/credentials.js';
import type { Scope } from '../auth/scope.js';
import { isAbortError, networkError } from '../network-error.js';
import { roleHint } from '../refusals.js';
import { responseError } from '../response-error.js';
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
  headers?: Record<string, string>;
  body?: RequestBody;
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
  signal?: AbortSignal;
}

export interface HttpClientDeps {
  base: URL;
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
    const signals = [spec.signal, this.deps.signal].filter((s): s is AbortSignal => s !== undefined);
    return signals.length <= 1 ? signals[0] : AbortSignal.any(signals);
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
    const what = `${spec.method} ${redactUrl(url)}`;
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
        await outage.failed(err, since, what, signal);
        continue;
      }
      outage.answered(since);
      if (spec.ok.includes(res.status)) return res;
      const err = await this.failure(spec.method, url, res);
      if (!canRetry || !isTransientStatus(res.status)) throw err;
      // Retried here to the end of the budget: no outer level retries it again.
      if (attempt > retry.policy.retries) throw giveUp(err);
      const delayMs = backoffDelay(retry.policy, attempt, parseRetryAfter(headerOf(res.headers, 'retry-after')));
      await waitToRetry(retry, err, attempt, what, delayMs, signal);
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

  private async failure(method: HttpMethod, url: URL, res: HttpResponse): Promise<FerryError> {
    const err = await responseError(method, url, res);
    if (res.status !== 401) return err;
    const who = await this.auth.describe();
    if (who === 'anonymous') {
      return new AuthError(err.message, { code: err.code, hint: `no credentials found for ${this.base.host}: pass --creds USER:PASS or --authfile FILE, or log in with docker/podman` });
    }
    // A token was issued, but without what this request needs (RFC 6750): the credentials are fine, the rights are not.
    if (/error="?insufficient_scope/i.test(headerOf(res.headers, 'www-authenticate') ?? '')) {
      return new AuthError(`${err.message} (${who} was not granted the access this needs)`, {
        code: ErrorCode.denied,
        hint: roleHint(method),
      });
    }
    return err;
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
