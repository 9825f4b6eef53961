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
