import { describe, expect, it } from 'vitest';
import { PriorityQueue } from '../../src/core/priority-queue.js';

// The scheduler's wait list: what pops must be what a stable sort by rank (highest first) gives,
// pushes and pops interleaved, many equal ranks (blobs of one size are common: configs, empty layers).
describe('PriorityQueue', () => {
  it('pops the highest rank first and equal ranks in push order, with pushes and pops interleaved', () => {
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const queue = new PriorityQueue<{ rank: number; id: number }>((x) => x.rank);
    const model: Array<{ rank: number; id: number }> = [];
    const popped: number[] = [];
    const expected: number[] = [];
    for (let id = 0; id < 3000; id++) {
      const item = { rank: random(40), id };
      queue.push(item);
      model.push(item);
      if (random(3) === 0) {
        model.sort((a, b) => b.rank - a.rank || a.id - b.id);
        expected.push(model.shift()!.id);
        popped.push(queue.pop()!.id);
      }
    }
    model.sort((a, b) => b.rank - a.rank || a.id - b.id);
    expected.push(...model.map((x) => x.id));
    expect(queue.size).toBe(model.length);
    for (let item; (item = queue.pop()); ) popped.push(item.id);
    expect(popped).toEqual(expected);
    expect(queue.pop()).toBeUndefined();
  });
});
