import type { RetryHook } from './events.js';
import { backoffDelay, DEFAULT_RETRY_POLICY, type RetryPolicy } from './policy.js';
import { sleep } from './sleep.js';
import { failureReason, giveUp, isTransient } from './transient.js';

// One step of a retry loop owned by the work itself (a whole blob that copyGraph
// resumes from the target's offset, a chunk resumed from the registry's): the
// same predicate, backoff, budget and report as a single request's retry.

export interface RetrySettings {
  readonly policy: RetryPolicy;
  readonly onRetry?: RetryHook;
  /** Aborted when the client closes: every wait ends then. */
  readonly closed?: AbortSignal;
}

export const DEFAULT_RETRY_SETTINGS: RetrySettings = { policy: DEFAULT_RETRY_POLICY };

/** Waits `ms` before trying again after `err`; a close of the client ends the wait by giving `err` up. */
export async function pause(settings: RetrySettings, err: unknown, ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await sleep(ms, signal, settings.closed);
  } catch (e) {
    if (settings.closed?.aborted && !signal?.aborted) throw giveUp(err);
    throw e;
  }
}

/** Reports retry number `attempt` of `what`, then waits for it. */
export async function waitToRetry(settings: RetrySettings, err: unknown, attempt: number, what: string, delayMs: number, signal?: AbortSignal): Promise<void> {
  settings.onRetry?.({ attempt, max: settings.policy.retries, what, reason: failureReason(err), delayMs });
  await pause(settings, err, delayMs, signal);
}

/**
 * After failure number `attempt` of `what`: waits when `err` deserves another
 * try within the budget, else throws it — given up when the budget is spent,
 * so no outer level retries it again. `force` retries an error that is not
 * transient (an expired token the authenticator has dropped).
 */
export async function backOff(settings: RetrySettings, err: unknown, attempt: number, what: string, signal?: AbortSignal, force = false): Promise<void> {
  if (signal?.aborted || (!force && !isTransient(err))) throw err;
  if (attempt > settings.policy.retries) throw giveUp(err);
  await waitToRetry(settings, err, attempt, what, backoffDelay(settings.policy, attempt), signal);
}
