import type { Readable } from 'node:stream';
import type { Agent } from 'undici';
import { systemClock } from '../../core/clock.js';
import { normalizeRegistry, validateRepository, type Namespace } from '../../core/index.js';
import type { Credentials } from './auth/credentials.js';
import { openUrl } from './blobs.js';
import { ManifestCache } from './manifest-cache.js';
import { TagSnapshots } from './tag-snapshot.js';
import { DEFAULTS, type RegistryClientOptions } from './options.js';
import { RemoteRepository } from './remote-repository.js';
import type { RegistryTraits } from './repo-context.js';
import type { RetrySettings } from './retry/index.js';
import { listCatalog, type ListOptions } from './tags.js';
import { createTransport } from './transport/create-transport.js';
import type { HttpResponse } from './transport/exchange.js';
import type { HttpClient, RequestSpec } from './transport/http-client.js';
import { BASE_PATH } from '../api/index.js';
import { discard } from './transport/exchange.js';

// A client for one registry host: one keep-alive undici Agent, one auth state
// (scopes accumulate across its repositories), one recent-manifest cache. It
// hands out RemoteRepository objects (core Namespace). close() when done.
// createRegistryClient is the one way to build one (the CLI's pool, ferry
// doctor, tests): transport, auth, retry and trace come from the options.

export type RegistryClientInit = RegistryClientOptions;

export class RegistryClient implements Namespace<RemoteRepository> {
  /** The registry as normalised (docker.io, host:port). */
  readonly registry: string;
  /** Where the API lives: https://host[:port] (registry-1.docker.io for docker.io). */
  readonly baseUrl: URL;
  private readonly agent: Agent;
  private readonly http: HttpClient;
  private readonly manifests = new ManifestCache();
  private readonly traits: RegistryTraits = {};
  private readonly tagSnapshots: TagSnapshots;
  private readonly opts: RegistryClientInit;
  /** Aborted by close(): retries waiting for their turn give up at once. */
  private readonly closing = new AbortController();

  constructor(opts: RegistryClientInit) {
    this.opts = opts;
    this.tagSnapshots = new TagSnapshots(opts.clock ?? systemClock);
    this.registry = normalizeRegistry(opts.registry);
    const transport = createTransport(opts, this.closing.signal);
    this.agent = transport.agent;
    this.http = transport.http;
    this.baseUrl = this.http.base;
  }

  /** The retry budget, backoff and report of this client, for work that retries around it (copyGraph's whole blobs). */
  get retry(): RetrySettings {
    return this.http.retry;
  }

  /** `push`: the repository is a push target (import, copy): its reads ask for push rights too. */
  repository(name: string, options: { push?: boolean } = {}): RemoteRepository {
    return new RemoteRepository({
      ...(options.push ? { pushing: true } : {}),
      http: this.http,
      name: validateRepository(name),
      registry: this.registry,
      chunkSize: this.opts.chunkSize ?? DEFAULTS.chunkSize,
      monolithicThreshold: this.opts.monolithicThreshold ?? DEFAULTS.monolithicThreshold,
      manifests: this.manifests,
      registryTraits: this.traits,
      tagSnapshots: this.tagSnapshots,
    });
  }

  /** Every repository the registry lists (`/v2/_catalog`, paginated). */
  catalog(opts: ListOptions = {}): AsyncIterable<string> {
    return listCatalog(this.http, opts);
  }

  /** Checks that the registry answers the API; returns the auth scheme it asked for. */
  async ping(signal?: AbortSignal): Promise<'none' | 'basic' | 'bearer'> {
    await this.http.ping(signal);
    return this.http.auth.kind;
  }

  /** The credentials this client uses for its registry (resolved once: --creds, auth files, helpers), if any. */
  credentials(): Promise<Credentials | undefined> {
    return this.http.auth.credentials();
  }

  /**
   * One request through this client's transport — retries, auth (unless
   * `noAuth`), redirects, trace — for what has no method here (ferry doctor's
   * probes). Any status outside `spec.ok` throws a FerryError.
   */
  send(spec: RequestSpec): Promise<HttpResponse> {
    return this.http.request(spec);
  }

  /**
   * Checks the credentials as `docker login` does: an authenticated GET /v2/ (on
   * a token registry, after a token with no scope). AuthError when refused.
   */
  async checkCredentials(signal?: AbortSignal): Promise<'none' | 'basic' | 'bearer'> {
    await discard(await this.http.request({ method: 'GET', url: BASE_PATH, scopes: [], ok: [200], signal }));
    return this.http.auth.kind;
  }

  /** GET any http(s) URL (a foreign layer's `urls`) with this client's TLS settings and trace, without registry auth. */
  fetchUrl(url: string, opts: { offset?: number; signal?: AbortSignal } = {}): Promise<Readable> {
    return openUrl({ http: this.http }, new URL(url), opts.offset ?? 0, opts.signal);
  }

  /**
   * Closes the keep-alive connections. Retries waiting for their turn give up
   * at once; requests in flight get up to `graceMs` to finish, then are cut: a
   * request stuck on a body nobody reads must not keep the process (or, since
   * undici's timers do not hold the event loop, silently end it) waiting.
   */
  async close(graceMs = 2000): Promise<void> {
    this.closing.abort();
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
