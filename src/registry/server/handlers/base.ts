import type { RequestContext } from '../context.js';
import { sendJson } from '../respond.js';

/** GET/HEAD /v2/ — the version check; the router already answered 401 when credentials are needed. */
export async function getBase(ctx: RequestContext): Promise<void> {
  sendJson(ctx.req, ctx.res, 200, {});
}
