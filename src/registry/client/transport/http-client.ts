import type { Dispatcher } from 'undici';
import { AuthError, ErrorCode, FerryError } from '../../../core/index.js';
import { BASE_PATH } from '../../api/routes.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { Scope } from '../auth/scope.js';
import { isAbortError, networkError } from '../network-error.js';
import { roleHint } from '../refusals.js';
import { responseError } from '../response-error.js';
import { discard, exchange, headerOf, isReplayable, type Exchange, type HttpMethod, type HttpResponse, type RequestBody } from './exchange.js';
import { followRedirects } from './redirect.js';
import { backoffDelay, isRetryableError, isRetryableStatus, parseRetryAfter, waitBeforeRetry, type RetryPolicy } from './retry.js';
import type { TraceSink } from './trace.js';

// The transport stack of one registry host, outermost first:
//   retry (idempotent + replayable only) → auth (ping, header, one re-try after a 401)
//   → redirects (Authorization dropped cross-origin) → exchange (undici, trace).
// Anything but an expected status becomes a FerryError here, so resource files
// (blobs.ts, manifests.ts, …) deal only in successes.

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

export interface RetryInfo {
  method: HttpMethod;
  url: URL;
  attempt: number;
  delayMs: number;
  reason: string;
}

export interface HttpClientDeps {
  base: URL;
  agent: Dispatcher;
  policy: RetryPolicy;
  userAgent: string;
  trace?: TraceSink;
  signal?: AbortSignal;
  onRetry?: (info: RetryInfo) => void;
}

export class HttpClient {
  readonly base: URL;
  private readonly deps: HttpClientDeps;
  private auth: Authenticator | undefined;
  private pinged: Promise<void> | undefined;

  constructor(deps: HttpClientDeps) {
    this.deps = deps;
    this.base = deps.base;
  }

  get policy(): RetryPolicy {
    return this.deps.policy;
  }

  setAuthenticator(auth: Authenticator): void {
    this.auth = auth;
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
        if (res.status === 401) this.auth?.learn(headerOf(res.headers, 'www-authenticate'));
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
    const { policy } = this.deps;
    for (let attempt = 1; ; attempt++) {
      let res: HttpResponse;
      const retryable = canRetry && attempt <= policy.retries;
      try {
        res = await this.once(spec, url, attempt, signal);
      } catch (e) {
        if (isAbortError(e) || signal?.aborted) throw e;
        if (retryable && !(e instanceof FerryError) && isRetryableError(e)) {
          await this.pause(spec.method, url, attempt, backoffDelay(policy, attempt), String((e as { code?: unknown }).code ?? e), signal);
          continue;
        }
        throw networkError(spec.method, url, e);
      }
      if (spec.ok.includes(res.status)) return res;
      if (retryable && isRetryableStatus(res.status)) {
        const delay = backoffDelay(policy, attempt, parseRetryAfter(headerOf(res.headers, 'retry-after')));
        await discard(res);
        await this.pause(spec.method, url, attempt, delay, `HTTP ${res.status}`, signal);
        continue;
      }
      throw await this.failure(spec.method, url, res);
    }
  }

  private async pause(method: HttpMethod, url: URL, attempt: number, delayMs: number, reason: string, signal?: AbortSignal): Promise<void> {
    this.deps.onRetry?.({ method, url, attempt, delayMs, reason });
    await waitBeforeRetry(delayMs, signal);
  }

  private async failure(method: HttpMethod, url: URL, res: HttpResponse): Promise<FerryError> {
    const err = await responseError(method, url, res);
    if (res.status !== 401 || !this.auth) return err;
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
    const ours = url.origin === this.base.origin && !spec.noAuth && this.auth !== undefined;
    if (ours) {
      const authorization = await this.auth?.authorization(spec.scopes);
      if (authorization) headers.authorization = authorization;
    }
    const x: Exchange = { method: spec.method, url, headers, body: spec.body, signal, attempt };
    const send = (e: Exchange) => exchange(this.deps.agent, e, this.deps.trace);
    const res = spec.redirects === false ? await send(x) : await followRedirects(send, x);
    if (res.status !== 401 || !ours || res.url.origin !== this.base.origin || !this.auth) return res;
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
