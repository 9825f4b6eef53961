import type { EventSink, FerryEvent } from '../core/progress-events.js';

// The CLI end of the one progress channel. A command's transfer gets its
// sink; events that arise below a layer boundary with no sink to hand (the
// registry client's retries, made by a pool built before the presenters)
// come in here, and every presenter of the running command hears them.

const listeners = new Set<EventSink>();

export const channel = {
  emit(event: FerryEvent): void {
    for (const listen of listeners) listen(event);
  },
  /** Listens until the returned function is called. */
  listen(sink: EventSink): () => void {
    listeners.add(sink);
    return () => void listeners.delete(sink);
  },
};
