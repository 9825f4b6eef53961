// Work over many items, a few at a time: `lanes` runners each take the next
// item when done with the last. Unlike one promise per item started up front
// (the requests still wait their turn in the limiter), what is held at once —
// closures, half-walked graphs, manifests — stays flat in the number of items.

/**
 * Runs `work` for every item, at most `lanes` at once, in order of start. The
 * first error stops the lanes from starting more; it is thrown once the items
 * already started have settled.
 */
export async function inLanes<T>(items: Iterable<T>, lanes: number, work: (item: T) => Promise<void>): Promise<void> {
  const next = items[Symbol.iterator]();
  let failure: { error: unknown } | undefined;
  const lane = async (): Promise<void> => {
    for (let item = next.next(); !item.done && !failure; item = next.next()) {
      try {
        await work(item.value);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.floor(lanes)) }, lane));
  if (failure) throw failure.error;
}
