import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { IntegrityError } from '../../src/core/errors.js';
import { readCapped } from '../../src/core/read-capped.js';
import { rejection } from '../helpers/thrown.js';

describe('readCapped', () => {
  it('returns the bytes, concatenated, when under or at the cap', async () => {
    const parts = [Buffer.from('{"schema'), Buffer.from('Version":'), Buffer.from('2}')];
    const all = Buffer.concat(parts);
    expect((await readCapped(Readable.from(parts), 1024, 'm')).equals(all)).toBe(true);
    expect((await readCapped(Readable.from(parts), all.length, 'm')).equals(all)).toBe(true);
    expect((await readCapped(Readable.from([]), 0, 'm')).length).toBe(0);
  });

  it('one byte over the cap → ERR_MANIFEST_TOO_LARGE exit 5, stream destroyed', async () => {
    const stream = Readable.from([Buffer.alloc(10), Buffer.alloc(10), Buffer.alloc(1)]);
    const err = await rejection(readCapped(stream, 20, 'ghcr.io/o/a:1'), IntegrityError);
    expect(err.code).toBe('ERR_MANIFEST_TOO_LARGE');
    expect(err.exitCode).toBe(5);
    expect(err.subject).toBe('ghcr.io/o/a:1');
    expect(err.message).toContain('ghcr.io/o/a:1');
    expect(err.message).toContain('20-byte limit');
    expect(stream.destroyed).toBe(true);
  });

  it('stops reading an endless stream at the cap and releases the source', async () => {
    let produced = 0;
    let released = false;
    async function* endless(): AsyncGenerator<Buffer> {
      try {
        for (;;) {
          produced += 1024;
          yield Buffer.alloc(1024, 0x61);
        }
      } finally {
        released = true;
      }
    }
    const stream = Readable.from(endless());
    const err = await rejection(readCapped(stream, 64 * 1024, 'endless'), IntegrityError);
    expect(err.code).toBe('ERR_MANIFEST_TOO_LARGE');
    expect(stream.destroyed).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(released).toBe(true);
    expect(produced).toBeLessThan(1024 * 1024); // did not keep pulling
  });

  it('counts bytes, not characters, for string chunks', async () => {
    // 'é' is two bytes in UTF-8: four bytes against a cap of three.
    const err = await rejection(readCapped(Readable.from(['é', 'é']), 3, 's'), IntegrityError);
    expect(err.code).toBe('ERR_MANIFEST_TOO_LARGE');
    expect((await readCapped(Readable.from(['é', 'é']), 4, 's')).toString('utf8')).toBe('éé');
  });
});
