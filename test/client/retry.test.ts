import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ErrorCode, IntegrityError, MediaType, NetworkError, type Descriptor } from '../../src/core/index.js';
import { backOff, createMemoryTraceSink, createRegistryClient, isTransient, sleep, type RetryEvent, type RetrySettings } from '../../src/registry/client/index.js';
import { backoffDelay, giveUp, isTransientStatus } from '../../src/registry/client/retry/index.js';
import { freePort } from '../rig/free-port.js';

// The one retry policy (issue 15 item 1): one predicate, one backoff, one
// budget, one report — and waits that leave no listener on a long-lived signal
// (issue 11 item 17). Real sockets where a network failure is the point.

const blob: Descriptor = { mediaType: MediaType.ociLayerGzip, digest: `sha256:${'a'.repeat(64)}` as Descriptor['digest'], size: 1 };

describe('waits between tries', () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => void warnings.push(w);
  beforeEach(() => {
    warnings.length = 0;
    process.on('warning', onWarning);
  });
  afterEach(() => void process.off('warning', onWarning));

  test('many retries on one AbortSignal: no MaxListenersExceededWarning, and no listener left behind', async () => {
    const controller = new AbortController();
    const settings: RetrySettings = { policy: { retries: 30, baseDelayMs: 1, maxDelayMs: 1 } };
    const failure = new NetworkError('GET http://registry/v2/: connection refused', { code: ErrorCode.network });
    for (let attempt = 1; attempt <= 30; attempt++) await backOff(settings, failure, attempt, 'blob x', controller.signal);
    // Warnings are emitted on the next tick.
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  test('an abort ends a wait with its reason and removes the listeners of every signal watched', async () => {
    const mine = new AbortController();
    const closing = new AbortController();
    const waiting = sleep(60_000, mine.signal, closing.signal);
    const reason = new Error('interrupted');
    mine.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    expect(getEventListeners(mine.signal, 'abort')).toHaveLength(0);
    expect(getEventListeners(closing.signal, 'abort')).toHaveLength(0);
  });
});

describe('one predicate, one backoff', () => {
  test('transient: network drops, 408, 429 and 5xx that can pass; not 501/505, other 4xx, integrity, a closed client', () => {
    expect([408, 429, 500, 502, 503, 504].every(isTransientStatus)).toBe(true);
    expect([400, 401, 403, 404, 501, 505].some(isTransientStatus)).toBe(false);
    const raw = (code: string) => Object.assign(new Error(code), { code });
    expect(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'ERR_STREAM_PREMATURE_CLOSE'].every((c) => isTransient(raw(c)))).toBe(true);
    expect(isTransient(raw('UND_ERR_CLOSED'))).toBe(false);
    expect(isTransient(new NetworkError('x', { code: ErrorCode.network, cause: raw('ECONNRESET') }))).toBe(true);
    expect(isTransient(new NetworkError('x', { code: ErrorCode.network, cause: raw('UND_ERR_CLOSED') }))).toBe(false);
    expect(isTransient(new NetworkError('x', { code: ErrorCode.tls }))).toBe(false);
    expect(isTransient(new IntegrityError('x'))).toBe(false);
  });

  test('an error one level retried to the end is not retried by another: retries never multiply', async () => {
    const err = new NetworkError('x', { code: ErrorCode.network });
    expect(isTransient(err)).toBe(true);
    const events: RetryEvent[] = [];
    const settings: RetrySettings = { policy: { retries: 2, baseDelayMs: 1, maxDelayMs: 1 }, onRetry: (e) => events.push(e) };
    await backOff(settings, err, 1, 'blob x');
    await backOff(settings, err, 2, 'blob x');
    await expect(backOff(settings, err, 3, 'blob x')).rejects.toBe(err);
    expect(isTransient(err)).toBe(false);
    await expect(backOff(settings, err, 1, 'blob x')).rejects.toBe(err);
    expect(events.map((e) => `${e.attempt}/${e.max} ${e.what} ${e.reason}`)).toEqual(['1/2 blob x ERR_NETWORK', '2/2 blob x ERR_NETWORK']);
    expect(isTransient(giveUp(new NetworkError('y')))).toBe(false);
  });

  test('backoff: three times longer each try (±20 %), capped; Retry-After honoured up to the cap', () => {
    const policy = { retries: 9, baseDelayMs: 100, maxDelayMs: 5_000 };
    for (let attempt = 1; attempt <= 3; attempt++) {
      const d = backoffDelay(policy, attempt);
      expect(d).toBeGreaterThanOrEqual(0.8 * 100 * 3 ** (attempt - 1));
      expect(d).toBeLessThanOrEqual(1.2 * 100 * 3 ** (attempt - 1));
    }
    expect(backoffDelay(policy, 9)).toBe(5_000);
    expect(backoffDelay(policy, 1, 2_000)).toBe(2_000);
    expect(backoffDelay(policy, 1, 60_000)).toBe(5_000);
  });
});

describe('a registry that is not there costs one budget', () => {
  test('twelve requests at once to a closed port: one schedule of retries, then every request fails without trying', async () => {
    const port = await freePort();
    const events: RetryEvent[] = [];
    const trace = createMemoryTraceSink();
    const client = createRegistryClient({ registry: `127.0.0.1:${port}`, plainHttp: true, retries: 3, retryBaseDelayMs: 5, trace, onRetry: (e) => events.push(e) });
    try {
      const repo = client.repository('down/app');
      const outcomes = await Promise.allSettled(Array.from({ length: 12 }, () => repo.exists(blob)));
      expect(outcomes.every((o) => o.status === 'rejected' && (o.reason as NetworkError).code === ErrorCode.network)).toBe(true);
      expect(events.map((e) => `${e.attempt}/${e.max} ${e.reason}`)).toEqual(['1/3 ECONNREFUSED', '2/3 ECONNREFUSED', '3/3 ECONNREFUSED']);
      const tried = trace.records.length;
      // The host is down for this client: a later request fails at once, with the same error, without a connection attempt.
      const later = await repo.exists(blob).then(() => undefined, (e: unknown) => e);
      expect(later).toBe((outcomes[0] as PromiseRejectedResult).reason);
      expect(trace.records.length).toBe(tried);
      expect(events).toHaveLength(3);
    } finally {
      await client.close();
    }
  });

  test('close() ends a retry that is waiting: it fails with its own error at once', async () => {
    const port = await freePort();
    const events: RetryEvent[] = [];
    let seen: () => void = () => undefined;
    const first = new Promise<void>((resolve) => (seen = resolve));
    const client = createRegistryClient({
      registry: `127.0.0.1:${port}`,
      plainHttp: true,
      retries: 3,
      // Without the close, this request would wait ten minutes before its next try.
      retryBaseDelayMs: 600_000,
      maxRetryDelayMs: 600_000,
      onRetry: (e) => {
        events.push(e);
        seen();
      },
    });
    const pinging = client.ping().then(() => undefined, (e: unknown) => e);
    await first;
    await client.close();
    const err = (await pinging) as NetworkError;
    expect(err).toBeInstanceOf(NetworkError);
    expect(err.message).toMatch(/connection refused/);
    expect(events).toHaveLength(1);
  });
});
