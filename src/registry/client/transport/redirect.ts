import { ErrorCode, NetworkError } from '../../../core/index.js';
import { discard, headerOf, isReplayable, type Exchange, type HttpResponse } from './exchange.js';
import { nextLocation } from './location.js';
import { redactUrl } from './redact.js';

// Redirects, followed by hand. A registry (ACR, Harbor on S3, Docker Hub) sends
// blob GETs to storage on another origin with a signed URL; our Authorization must
// not go there (Azure answers InvalidAuthenticationInfo, and it would leak the
// token). Same origin keeps the header. undici issues #872/#4917 show why this is
// done here and not by an interceptor.

const MAX_REDIRECTS = 10;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export type Send = (x: Exchange) => Promise<HttpResponse>;

export async function followRedirects(send: Send, first: Exchange): Promise<HttpResponse> {
  let x = first;
  for (let hop = 0; ; hop++) {
    const res = await send(x);
    if (!REDIRECTS.has(res.status)) return res;
    const location = headerOf(res.headers, 'location');
    await discard(res);
    if (!location) throw new NetworkError(`${x.method} ${redactUrl(x.url)}: redirect ${res.status} without Location`, { code: ErrorCode.registry });
    if (hop >= MAX_REDIRECTS) throw new NetworkError(`${x.method} ${redactUrl(first.url)}: more than ${MAX_REDIRECTS} redirects`, { code: ErrorCode.registry });
    const url = nextLocation(x.url, location);
    const headers = { ...x.headers };
    if (url.origin !== x.url.origin) delete headers.authorization;
    // 303, and 301/302 after a POST, turn into a GET without a body (RFC 9110 §15.4).
    const toGet = res.status === 303 || ((res.status === 301 || res.status === 302) && x.method === 'POST');
    if (toGet) {
      delete headers['content-length'];
      delete headers['content-type'];
      x = { ...x, url, headers, method: x.method === 'HEAD' ? 'HEAD' : 'GET', body: undefined };
      continue;
    }
    if (!isReplayable(x.body)) {
      throw new NetworkError(`${x.method} ${redactUrl(x.url)}: redirected to ${redactUrl(url)} after the body was streamed`, { code: ErrorCode.registry });
    }
    x = { ...x, url, headers };
  }
}
