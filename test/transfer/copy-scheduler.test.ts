import { describe, expect, it } from 'vitest';
import { CopyScheduler } from '../../src/transfer/copy-scheduler.js';
import type { NodeAction } from '../../src/transfer/events.js';

// The contract copyGraph relies on when several copies share one scheduler.

function gate(): { promise: Promise<NodeAction>; open: (a: NodeAction) => void; fail: (e: Error) => void } {
  let open!: (a: NodeAction) => void;
  let fail!: (e: Error) => void;
  const promise = new Promise<NodeAction>((res, rej) => ((open = res), (fail = rej)));
  return { promise, open, fail };
}

describe('CopyScheduler', () => {
  it('runs a node once per repository and digest; later callers share its result', async () => {
    const s = new CopyScheduler();
    let runs = 0;
    const g = gate();
    const a = s.once('r', 'sha256:x', () => (runs++, g.promise));
    const b = s.once('r', 'sha256:x', () => (runs++, Promise.resolve<NodeAction>('skipped')));
    expect(b).toBe(a);
    g.open('copied');
    expect(await b).toBe('copied');
    expect(await s.once('r', 'sha256:x', () => (runs++, Promise.resolve<NodeAction>('skipped')))).toBe('copied');
    expect(runs).toBe(1);
  });

  it('tells a node for another repository about the same digest under way', async () => {
    const s = new CopyScheduler();
    const first = s.once('one', 'sha256:x', async () => 'copied');
    let seen: Promise<NodeAction> | undefined;
    await s.once('two', 'sha256:x', async (elsewhere) => ((seen = elsewhere), 'mounted'));
    expect(seen).toBe(first);
    let third: Promise<NodeAction> | undefined = Promise.resolve('skipped');
    await s.once('one', 'sha256:y', async (elsewhere) => ((third = elsewhere), 'copied'));
    expect(third).toBeUndefined();
  });

  it('forgets a node that failed, so a later copy tries it again', async () => {
    const s = new CopyScheduler();
    const g = gate();
    const failed = s.once('r', 'sha256:x', () => g.promise);
    g.fail(new Error('reset'));
    await expect(failed).rejects.toThrow('reset');
    expect(await s.once('r', 'sha256:x', async () => 'copied')).toBe('copied');
    expect(await s.once('other', 'sha256:x', async (elsewhere) => (elsewhere ? 'mounted' : 'copied'))).toBe('mounted');
  });

  it('hands its limiter to whoever shares it', async () => {
    const s = new CopyScheduler();
    expect(await s.limit(async () => 7)).toBe(7);
  });
});
