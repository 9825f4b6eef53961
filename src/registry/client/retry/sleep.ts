// The wait between two tries. It ends early, rejecting with the reason, when any
// of the signals aborts (the caller's, or the client's close), and it removes
// its listeners either way: one long-lived signal over hundreds of retries must
// not collect them (MaxListenersExceededWarning after 11).

export function sleep(ms: number, ...signals: ReadonlyArray<AbortSignal | undefined>): Promise<void> {
  const watched = signals.filter((s): s is AbortSignal => s !== undefined);
  const aborted = watched.find((s) => s.aborted);
  if (aborted) return Promise.reject(aborted.reason as Error);
  return new Promise((resolve, reject) => {
    const stop = (): void => {
      clearTimeout(timer);
      for (const s of watched) s.removeEventListener('abort', onAbort);
    };
    const onAbort = (event: Event): void => {
      stop();
      reject((event.target as AbortSignal).reason as Error);
    };
    const timer = setTimeout(() => {
      stop();
      resolve();
    }, ms);
    for (const s of watched) s.addEventListener('abort', onAbort, { once: true });
  });
}
