import { createRequire, syncBuiltinESMExports } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Runs `fn` counting the messages posted to worker threads. */
export async function countingMessages(fn: () => Promise<void>): Promise<number> {
  const post = Worker.prototype.postMessage;
  let sent = 0;
  Worker.prototype.postMessage = function (this: Worker, ...args: Parameters<Worker['postMessage']>) {
    sent += 1;
    return post.apply(this, args);
  };
  try {
    await fn();
  } finally {
    Worker.prototype.postMessage = post;
  }
  return sent;
}

/**
 * Runs `fn` counting the worker threads it starts, sent a job or not: the
 * module's Worker is swapped for a counting subclass, and syncBuiltinESMExports
 * hands it to the ES modules that imported node:worker_threads too.
 */
export async function countingWorkers(fn: () => Promise<void>): Promise<number> {
  const threads = createRequire(import.meta.url)('node:worker_threads') as { Worker: typeof Worker };
  const Real = threads.Worker;
  let started = 0;
  threads.Worker = class extends Real {
    constructor(...args: ConstructorParameters<typeof Worker>) {
      started += 1;
      super(...args);
    }
  };
  syncBuiltinESMExports();
  try {
    await fn();
  } finally {
    threads.Worker = Real;
    syncBuiltinESMExports();
  }
  return started;
}
