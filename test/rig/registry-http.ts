import { Agent, request, type Dispatcher } from 'undici';

// A minimal distribution-API client for the rig: HEAD/GET checks in tests and the
// monolithic pushes skopeo 1.9 cannot do. Answers a 401 challenge (Basic, or
// Bearer through the realm) once per request. Not ferry's client: keep it dumb.

export interface RegistryEndpoint {
  readonly url: string;
  readonly caCert?: string | undefined;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly tokenServer?: { readonly username: string; readonly password: string } | undefined;
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export class RegistryHttp {
  private readonly dispatcher: Dispatcher;
  private authorization: string | undefined;
  private readonly basic: string | undefined;
  private readonly registry: RegistryEndpoint;

  constructor(registry: RegistryEndpoint) {
    this.registry = registry;
    this.dispatcher = new Agent({ connect: registry.caCert ? { ca: registry.caCert } : {} });
    const user = registry.username ?? registry.tokenServer?.username;
    const pass = registry.password ?? registry.tokenServer?.password;
    this.basic = user !== undefined ? `Basic ${Buffer.from(`${user}:${pass ?? ''}`).toString('base64')}` : undefined;
  }

  async send(method: Dispatcher.HttpMethod, pathOrUrl: string, headers: Record<string, string> = {}, body?: Buffer): Promise<HttpAnswer> {
    const target = new URL(pathOrUrl, this.registry.url).toString();
    const first = await this.once(method, target, headers, body);
    if (first.status !== 401) return first;
    this.authorization = await this.answerChallenge(first.headers['www-authenticate'] ?? '');
    return this.once(method, target, headers, body);
  }

  /** Push a blob (POST then PUT with the whole body) unless the repository has it. */
  async pushBlob(repository: string, digest: string, bytes: Buffer): Promise<void> {
    const head = await this.send('HEAD', `/v2/${repository}/blobs/${digest}`);
    if (head.status === 200) return;
    const start = expect(await this.send('POST', `/v2/${repository}/blobs/uploads/`), 202, 'start upload');
    const location = new URL(start.headers.location ?? '', this.registry.url);
    location.searchParams.set('digest', digest);
    const headers = { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) };
    expect(await this.send('PUT', location.toString(), headers, bytes), 201, `upload ${digest}`);
  }

  async pushManifest(repository: string, reference: string, mediaType: string, bytes: Buffer): Promise<void> {
    const answer = await this.send('PUT', `/v2/${repository}/manifests/${reference}`, { 'content-type': mediaType }, bytes);
    expect(answer, 201, `push manifest ${repository}:${reference}`);
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private async once(method: Dispatcher.HttpMethod, url: string, headers: Record<string, string>, body?: Buffer): Promise<HttpAnswer> {
    const auth = this.authorization ? { authorization: this.authorization } : {};
    const res = await request(url, { method, headers: { ...headers, ...auth }, ...(body ? { body } : {}), dispatcher: this.dispatcher });
    const bytes = Buffer.from(await res.body.arrayBuffer());
    const flat: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
    return { status: res.statusCode, headers: flat, body: bytes };
  }

  private async answerChallenge(challenge: string): Promise<string | undefined> {
    if (/^basic/i.test(challenge)) return this.basic;
    if (!/^bearer/i.test(challenge)) return undefined;
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
    const realm = new URL(params.realm ?? '');
    if (params.service) realm.searchParams.set('service', params.service);
    if (params.scope) for (const s of params.scope.split(' ')) realm.searchParams.append('scope', s);
    const res = await request(realm, { headers: this.basic ? { authorization: this.basic } : {}, dispatcher: this.dispatcher });
    const json = (await res.body.json()) as { token?: string; access_token?: string };
    if (res.statusCode !== 200) throw new Error(`token realm ${realm.origin} answered ${res.statusCode}`);
    return `Bearer ${json.token ?? json.access_token ?? ''}`;
  }
}

function expect(answer: HttpAnswer, status: number, what: string): HttpAnswer {
  if (answer.status !== status) {
    throw new Error(`${what}: HTTP ${answer.status} (wanted ${status}): ${answer.body.toString('utf8').slice(0, 300)}`);
  }
  return answer;
}
