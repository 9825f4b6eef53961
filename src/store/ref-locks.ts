import { ErrorCode, UsageError } from '../core/index.js';

/** Releases a lock; calling it twice is harmless. */
export type Release = () => void;

export function lockedError(ref: string, holder: string): UsageError {
  return new UsageError(`ingest '${ref.slice(0, 200)}' is locked: ${holder} is writing it`, {
    code: ErrorCode.storeLocked,
    hint: 'wait for the other writer to finish, or abort its ingest if it is stuck',
  });
}

/**
 * One writer per ingest ref within this process (containerd local/locks.go). A
 * second opener fails at once, or waits in line up to `waitMs`.
 */
export class RefLocks {
  private readonly queues = new Map<string, Array<() => void>>();

  isHeld(ref: string): boolean {
    return this.queues.has(ref);
  }

  async acquire(ref: string, waitMs: number): Promise<Release> {
    const queue = this.queues.get(ref);
    if (!queue) {
      this.queues.set(ref, []);
      return this.releaser(ref);
    }
    if (waitMs <= 0) throw lockedError(ref, 'another writer in this process');
    await new Promise<void>((resolve, reject) => {
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const i = queue.indexOf(wake);
        if (i >= 0) queue.splice(i, 1);
        reject(lockedError(ref, 'another writer in this process'));
      }, waitMs);
      queue.push(wake);
    });
    return this.releaser(ref);
  }

  private releaser(ref: string): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const queue = this.queues.get(ref);
      const next = queue?.shift();
      // Ownership passes straight to the next waiter; the entry goes only when nobody waits.
      if (next) next();
      else this.queues.delete(ref);
    };
  }
}
