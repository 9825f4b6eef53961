import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { redactHeaders, redactUrl } from './redact.js';
import type { TraceSink } from './trace.js';

// One HTTP exchange on the client's undici Agent: no redirects (undici 7 follows
// none unless told), no retries, no auth. It only records the exchange in the
// trace. Everything else is a layer around this (ggcr transport stack).

export type HttpMethod = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

/** A request body: bytes (replayable), a factory (replayable), a one-shot stream, or one-shot chunks (undici writes each before it asks for the next). */
export type RequestBody = Uint8Array | string | (() => Readable) | Readable | AsyncIterable<Buffer>;

export interface Exchange {
  method: HttpMethod;
  url: URL;
  headers: Record<string, string>;
  body?: RequestBody | undefined;
  signal?: AbortSignal | undefined;
  attempt: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
  /** The URL that answered (after redirects). */
  url: URL;
}

export function isReplayable(body: RequestBody | undefined): boolean {
  return body === undefined || typeof body === 'string' || body instanceof Uint8Array || typeof body === 'function';
}

function materialize(body: RequestBody | undefined): string | Uint8Array | Readable | AsyncIterable<Buffer> | null {
  if (body === undefined) return null;
  return typeof body === 'function' ? body() : body;
}

export function headerOf(headers: HttpResponse['headers'], name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

export async function exchange(agent: Dispatcher, x: Exchange, trace?: TraceSink): Promise<HttpResponse> {
  const started = Date.now();
  const record = (extra: { status?: number; responseHeaders?: HttpResponse['headers']; error?: string }): void => {
    if (!trace) return;
    const length = Number(x.headers['content-length']);
    const responseLength = Number(extra.responseHeaders ? headerOf(extra.responseHeaders, 'content-length') : NaN);
    trace.write({
      time: new Date(started).toISOString(),
      method: x.method,
      url: redactUrl(x.url),
      ...(extra.status !== undefined ? { status: extra.status } : {}),
      requestHeaders: redactHeaders(x.headers),
      ...(extra.responseHeaders ? { responseHeaders: redactHeaders(extra.responseHeaders) } : {}),
      durationMs: Date.now() - started,
      ...(Number.isFinite(length) ? { requestBytes: length } : {}),
      ...(Number.isFinite(responseLength) ? { responseBytes: responseLength } : {}),
      attempt: x.attempt,
      ...(extra.error ? { error: extra.error } : {}),
    });
  };
  try {
    const res = await agent.request({
      origin: x.url.origin,
      path: `${x.url.pathname}${x.url.search}`,
      method: x.method,
      headers: x.headers,
      // undici writes an async iterable (client-h1 writeIterable); its types leave that out.
      body: materialize(x.body) as string | Uint8Array | Readable | null,
      signal: x.signal ?? null,
      // undici closes the connection after every HEAD (for servers that send a body anyway);
      // registries answer HEAD by the spec, and a re-import's 4,700 blob HEADs were 4,700 connects.
      ...(x.method === 'HEAD' ? { reset: false } : {}),
    });
    record({ status: res.statusCode, responseHeaders: res.headers });
    return { status: res.statusCode, headers: res.headers, body: res.body, url: x.url };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    record({ error: `${err.code ?? err.name}: ${err.message}` });
    throw e;
  }
}

const DRAIN_LIMIT = 64 * 1024;

/**
 * Closes a response body we stop reading. undici reports an unfinished body
 * destroyed without an error as an 'error' (RequestAbortedError); that is our
 * own decision, not a failure, so it is swallowed here.
 */
export function dropBody(res: HttpResponse): void {
  if (res.body.destroyed) return;
  res.body.on('error', () => undefined);
  res.body.destroy();
}

/**
 * Drops a response body we do not want: a small one is drained so its connection
 * goes back to the pool, a big one (a blob) is destroyed rather than read.
 */
export async function discard(res: HttpResponse): Promise<void> {
  let seen = 0;
  try {
    for await (const chunk of res.body) {
      seen += (chunk as Buffer).length;
      if (seen > DRAIN_LIMIT) {
        dropBody(res);
        return;
      }
    }
  } catch {
    // a broken body on a response we do not want changes nothing
  }
}
