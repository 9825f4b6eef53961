import { forwardTo, startFixture, type FixtureServer } from '../client/fixture-server.js';

// A registry that does not mount (Amazon ECR did not for years; the
// distribution spec allows it: "if the registry does not support
// cross-repository mounting … it SHOULD return a 202"): a pass-through proxy
// in front of a real docker-registry that drops `mount` and `from` from an
// upload POST, so the registry starts an ordinary upload and answers 202.
// Everything else, storage included, is the real registry's. Beside it, a
// proxy that only watches mounts (how many of one blob the client sends at once),
// and one that holds each mount and counts the uploads sent meanwhile.

export interface NoMountProxy extends FixtureServer {
  /** Mount requests turned into plain uploads so far. */
  refused(): number;
}

export async function startNoMountProxy(upstream: URL): Promise<NoMountProxy> {
  let refused = 0;
  const server = await startProxy(upstream, async (url) => {
    if (url.searchParams.has('mount')) {
      url.searchParams.delete('mount');
      url.searchParams.delete('from');
      refused += 1;
    }
  });
  return Object.assign(server, { refused: () => refused });
}

export interface MountWatchProxy extends FixtureServer {
  /** The most mount requests of one blob the registry had at once. */
  mostAtOnce(): number;
}

/**
 * A pass-through proxy that holds each mount request until another of the same blob comes in (or `holdMs`
 * passes), counting how many of one blob were in flight at once: a client that mounts one repository after
 * another never has two.
 */
export async function startMountWatchProxy(upstream: URL, holdMs = 400): Promise<MountWatchProxy> {
  const waiting = new Map<string, Array<() => void>>();
  const inFlight = new Map<string, number>();
  let most = 0;
  const server = await startProxy(upstream, async (url) => {
    const digest = url.searchParams.get('mount');
    if (digest === null) return;
    const now = (inFlight.get(digest) ?? 0) + 1;
    inFlight.set(digest, now);
    most = Math.max(most, now);
    const others = waiting.get(digest) ?? [];
    waiting.set(digest, []);
    for (const release of others) release();
    if (others.length === 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, holdMs);
        waiting.get(digest)?.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return () => void inFlight.set(digest, (inFlight.get(digest) ?? 1) - 1);
  });
  return Object.assign(server, { mostAtOnce: () => most });
}

export interface MountHoldProxy extends FixtureServer {
  /** Upload PUTs (?digest=) that arrived while a mount request was held. */
  putsDuringMounts(): number;
  mounts(): number;
}

/** A pass-through proxy that holds each mount request `holdMs` and counts the uploads that end meanwhile. */
export async function startMountHoldProxy(upstream: URL, holdMs = 400): Promise<MountHoldProxy> {
  let held = 0;
  let mounts = 0;
  let during = 0;
  const onPut = (url: URL): void => {
    if (held > 0 && url.pathname.includes('/blobs/uploads/') && url.searchParams.has('digest')) during += 1;
  };
  const server = await startProxy(upstream, async (url) => {
    if (!url.searchParams.has('mount')) return;
    mounts += 1;
    held += 1;
    await new Promise((resolve) => setTimeout(resolve, holdMs));
    held -= 1;
  }, onPut);
  return Object.assign(server, { putsDuringMounts: () => during, mounts: () => mounts });
}

/**
 * Forwards every request to `upstream`; `onPost` may rewrite a POST's URL first, and returns what to run
 * once it is answered; `onPut` sees each PUT as it arrives.
 */
async function startProxy(upstream: URL, onPost: (url: URL) => Promise<(() => void) | void>, onPut: (url: URL) => void = () => undefined): Promise<FixtureServer> {
  return startFixture(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'PUT') onPut(url);
    const done = req.method === 'POST' ? await onPost(url) : undefined;
    res.on('close', () => done?.());
    await forwardTo(upstream, url, req, res);
  });
}
