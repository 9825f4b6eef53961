import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request, type Dispatcher } from 'undici';
import { createRegistryServer, type RegistryServer, type RegistryServerOptions, type RequestLogEntry } from '../../src/registry/server/index.js';
import { openStore, type Store } from '../../src/store/index.js';

// A ferry registry on a fresh temp store, on a free loopback port, plus a raw
// HTTP helper (undici) for protocol-level assertions.

export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  json<T = Record<string, unknown>>(): T;
  /** First error code of the envelope, '' when there is none. */
  readonly code: string;
}

export interface SendOptions {
  readonly headers?: Record<string, string>;
  readonly body?: Buffer | string;
}

export interface Served {
  readonly server: RegistryServer;
  readonly store: Store;
  readonly storeDir: string;
  readonly log: RequestLogEntry[];
  readonly errors: unknown[];
  send(method: Dispatcher.HttpMethod, path: string, opts?: SendOptions): Promise<Answer>;
  stop(): Promise<void>;
}

export type ServeOptions = Omit<RegistryServerOptions, 'store'> & { readonly caCert?: string; readonly storeDir?: string };

export const sha256 = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
export const basicAuth = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

export async function sendTo(dispatcher: Dispatcher, base: string, method: Dispatcher.HttpMethod, path: string, opts: SendOptions = {}): Promise<Answer> {
  const res = await request(new URL(path, base), { method, ...(opts.headers ? { headers: opts.headers } : {}), ...(opts.body !== undefined ? { body: opts.body } : {}), dispatcher });
  const body = Buffer.from(await res.body.arrayBuffer());
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  let code = '';
  try {
    code = (JSON.parse(body.toString('utf8')) as { errors?: Array<{ code: string }> }).errors?.[0]?.code ?? '';
  } catch {
    code = '';
  }
  return { status: res.statusCode, headers, body, code, json: <T>() => JSON.parse(body.toString('utf8')) as T };
}

export async function serve(opts: ServeOptions = {}): Promise<Served> {
  const storeDir = opts.storeDir ?? (await mkdtemp(join(tmpdir(), 'ferry-serve-test-')));
  // One clock for the store (grace windows) and the server (tokens, sessions, pins): tests move it instead of sleeping.
  const store = await openStore(storeDir, opts.clock ? { clock: opts.clock } : {});
  const log: RequestLogEntry[] = [];
  const errors: unknown[] = [];
  const { caCert, storeDir: _ignored, ...rest } = opts;
  let server: RegistryServer;
  try {
    server = await createRegistryServer({
      port: 0,
      ...rest,
      store,
      onRequest: (e) => {
        log.push(e);
        opts.onRequest?.(e);
      },
      onError: (e, where) => {
        errors.push(e);
        opts.onError?.(e, where);
      },
    });
  } catch (err) {
    await store.close();
    if (!opts.storeDir) await rm(storeDir, { recursive: true, force: true });
    throw err;
  }
  const dispatcher = new Agent({ connect: caCert ? { ca: caCert } : {} });
  return {
    server,
    store,
    storeDir,
    log,
    errors,
    send: (method, path, o) => sendTo(dispatcher, server.url, method, path, o),
    stop: async () => {
      await dispatcher.close();
      await server.close();
      await store.close();
      if (!opts.storeDir) await rm(storeDir, { recursive: true, force: true });
    },
  };
}

/** Monolithic blob push over raw HTTP; returns the digest. */
export async function pushBlob(served: Pick<Served, 'send'>, name: string, bytes: Buffer, headers: Record<string, string> = {}): Promise<string> {
  const digest = sha256(bytes);
  const answer = await served.send('POST', `/v2/${name}/blobs/uploads/?digest=${digest}`, {
    headers: { 'content-type': 'application/octet-stream', ...headers },
    body: bytes,
  });
  if (answer.status !== 201) throw new Error(`push blob to ${name}: ${answer.status} ${answer.body.toString('utf8')}`);
  return digest;
}

/** A minimal OCI image manifest over the given config and layers (all pushed already). */
export function imageManifest(config: Buffer, layers: readonly Buffer[], extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(l), size: l.length })),
      ...extra,
    }),
  );
}

/** Pushes config + layers + manifest under `reference`; returns the manifest digest. */
export async function pushImage(served: Pick<Served, 'send'>, name: string, reference: string, seed: string): Promise<{ digest: string; manifest: Buffer; blobs: Buffer[] }> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', seed }));
  const layer = Buffer.from(`layer of ${seed}\n`.repeat(50));
  for (const b of [config, layer]) await pushBlob(served, name, b);
  const manifest = imageManifest(config, [layer]);
  const answer = await served.send('PUT', `/v2/${name}/manifests/${reference}`, {
    headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    body: manifest,
  });
  if (answer.status !== 201) throw new Error(`push manifest ${name}:${reference}: ${answer.status} ${answer.body.toString('utf8')}`);
  return { digest: sha256(manifest), manifest, blobs: [config, layer] };
}
