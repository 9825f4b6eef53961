import type { Readable } from 'node:stream';
import type { Agent } from 'undici';
import { normalizeRegistry, validateRepository, type Namespace } from '../../core/index.js';
import { Authenticator } from './auth/authenticator.js';
import { resolveCredentials, type Credentials } from './auth/credentials.js';
import { openUrl } from './blobs.js';
import { ManifestCache } from './manifest-cache.js';
import { DEFAULTS, registryBaseUrl, type RegistryClientOptions } from './options.js';
import { RemoteRepository } from './remote-repository.js';
import { listCatalog, type ListOptions } from './tags.js';
import { BASE_PATH } from '../api/routes.js';
import { createAgent } from './transport/agent.js';
import { discard } from './transport/exchange.js';
import { HttpClient, type RetryInfo } from './transport/http-client.js';

// A client for one registry host: one keep-alive undici Agent, one auth state
// (scopes accumulate across its repositories), one recent-manifest cache. It
// hands out RemoteRepository objects (core Namespace). close() when done.

export interface RegistryClientInit extends RegistryClientOptions {
  /** Called before each retry of a request (for progress/--debug output). */
  onRetry?: (info: RetryInfo) => void;
}

export class RegistryClient implements Namespace<RemoteRepository> {
  /** The registry as normalised (docker.io, host:port). */
  readonly registry: string;
  /** Where the API lives: https://host[:port] (registry-1.docker.io for docker.io). */
  readonly baseUrl: URL;
  private readonly agent: Agent;
  private readonly http: HttpClient;
  private readonly auth: Authenticator;
  private readonly manifests = new ManifestCache();
  private readonly opts: RegistryClientInit;

  constructor(opts: RegistryClientInit) {
    this.opts = opts;
    this.registry = normalizeRegistry(opts.registry);
    this.baseUrl = registryBaseUrl(opts);
    this.agent = createAgent(opts);
    this.http = new HttpClient({
      base: this.baseUrl,
      agent: this.agent,
      policy: {
        retries: opts.retries ?? DEFAULTS.retries,
        baseDelayMs: opts.retryBaseDelayMs ?? DEFAULTS.retryBaseDelayMs,
        maxDelayMs: opts.maxRetryDelayMs ?? DEFAULTS.maxRetryDelayMs,
      },
      userAgent: opts.userAgent ?? DEFAULTS.userAgent,
      ...(opts.trace ? { trace: opts.trace } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.onRetry ? { onRetry: opts.onRetry } : {}),
    });
    const env = opts.env ?? process.env;
    const load = (): Promise<Credentials | undefined> =>
      resolveCredentials(this.registry, {
        env,
        ...(opts.credentials ? { credentials: opts.credentials } : {}),
        ...(opts.authfile ? { authfile: opts.authfile } : {}),
        ...(opts.homeDir ? { homeDir: opts.homeDir } : {}),
      });
    this.auth = new Authenticator(load, (req) =>
      this.http.request({ ...req, scopes: [], ok: [200], noAuth: true }),
    );
    this.http.setAuthenticator(this.auth);
  }

  repository(name: string): RemoteRepository {
    return new RemoteRepository({
      http: this.http,
      name: validateRepository(name),
      registry: this.registry,
      chunkSize: this.opts.chunkSize ?? DEFAULTS.chunkSize,
      monolithicThreshold: this.opts.monolithicThreshold ?? DEFAULTS.monolithicThreshold,
      manifests: this.manifests,
    });
  }

  /** Every repository the registry lists (`/v2/_catalog`, paginated). */
  catalog(opts: ListOptions = {}): AsyncIterable<string> {
    return listCatalog(this.http, opts);
  }

  /** Checks that the registry answers the API; returns the auth scheme it asked for. */
  async ping(signal?: AbortSignal): Promise<'none' | 'basic' | 'bearer'> {
    await this.http.ping(signal);
    return this.auth.kind;
  }

  /**
   * Checks the credentials as `docker login` does: an authenticated GET /v2/ (on
   * a token registry, after a token with no scope). AuthError when refused.
   */
  async checkCredentials(signal?: AbortSignal): Promise<'none' | 'basic' | 'bearer'> {
    await discard(await this.http.request({ method: 'GET', url: BASE_PATH, scopes: [], ok: [200], signal }));
    return this.auth.kind;
  }

  /** GET any http(s) URL (a foreign layer's `urls`) with this client's TLS settings and trace, without registry auth. */
  fetchUrl(url: string, opts: { offset?: number; signal?: AbortSignal } = {}): Promise<Readable> {
    return openUrl({ http: this.http }, new URL(url), opts.offset ?? 0, opts.signal);
  }

  /** Closes the keep-alive connections. */
  /**
   * Waits up to `graceMs` for requests in flight to finish, then cuts them: a
   * request stuck on a body nobody reads must not keep the process (or, since
   * undici's timers do not hold the event loop, silently end it) waiting.
   */
  async close(graceMs = 2000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const closed = this.agent.close().then(() => true);
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs)));
    const inTime = await Promise.race([closed, late]);
    clearTimeout(timer);
    if (!inTime) await this.agent.destroy();
  }
}

export function createRegistryClient(opts: RegistryClientInit): RegistryClient {
  return new RegistryClient(opts);
}
