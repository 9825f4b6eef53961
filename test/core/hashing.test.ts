import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { digestOf, type Digest } from '../../src/core/digest.js';
import { IntegrityError } from '../../src/core/errors.js';
import { createDigester, verifyBytes, verifyStream } from '../../src/core/hashing.js';
import { rejection } from '../helpers/thrown.js';

/** Deterministic pseudo-random bytes. */
function bytes(length: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function chunks(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

/** A sink that keeps what it receives. */
function collector(): { sink: Writable; received: () => Buffer } {
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      parts.push(chunk);
      cb();
    },
  });
  return { sink, received: () => Buffer.concat(parts) };
}

const DATA = bytes(100_000);
const EXPECTED = { digest: digestOf(DATA), size: DATA.length };

describe('VerifyStream', () => {
  it('passes the correct bytes through unchanged', async () => {
    const { sink, received } = collector();
    const v = verifyStream(EXPECTED, 'blob x');
    await pipeline(Readable.from(chunks(DATA, 7_000)), v, sink);
    expect(received().equals(DATA)).toBe(true);
    expect(v.bytes).toBe(DATA.length);
  });

  it('a flipped bit fails with ERR_DIGEST_MISMATCH naming subject and both digests', async () => {
    const bad = Buffer.from(DATA);
    bad[54_321] ^= 0x04;
    const err = await rejection(pipeline(Readable.from(chunks(bad, 7_000)), verifyStream(EXPECTED, 'layer 3 of app:v1'), collector().sink), IntegrityError);
    expect(err.code).toBe('ERR_DIGEST_MISMATCH');
    expect(err.exitCode).toBe(5);
    expect(err.message).toContain('layer 3 of app:v1');
    expect(err.message).toContain(EXPECTED.digest);
    expect(err.message).toContain(digestOf(bad));
    expect(err.subject).toBe('layer 3 of app:v1');
    expect(err.expected).toBe(EXPECTED.digest);
    expect(err.actual).toBe(digestOf(bad));
  });

  it('too many bytes fail with ERR_SIZE_MISMATCH before the source ends', async () => {
    let ended = false;
    // A source that sends size+1 bytes, then never ends on its own.
    const source = new Readable({
      read() {
        if (!ended) {
          ended = true;
          this.push(Buffer.concat([DATA, Buffer.from([0])]));
        }
      },
    });
    const err = await rejection(pipeline(source, verifyStream(EXPECTED, 'blob y'), collector().sink), IntegrityError);
    expect(err.code).toBe('ERR_SIZE_MISMATCH');
    expect(err.exitCode).toBe(5);
    expect(err.message).toContain('blob y');
    expect(err.message).toContain(`more than ${DATA.length}`);
    expect(source.destroyed).toBe(true);
  }, 10_000); // without the early check this would hang: the source never ends

  it('too few bytes fail with ERR_SIZE_MISMATCH at the end', async () => {
    const short = DATA.subarray(0, DATA.length - 1);
    const err = await rejection(pipeline(Readable.from(chunks(short, 7_000)), verifyStream(EXPECTED, 'blob z'), collector().sink), IntegrityError);
    expect(err.code).toBe('ERR_SIZE_MISMATCH');
    expect(err.message).toContain(`expected ${DATA.length} bytes, got ${DATA.length - 1}`);
    expect(err.actual).toBe(String(DATA.length - 1));
  });

  it('seed() accounts for a resumed prefix', async () => {
    const { sink, received } = collector();
    const v = verifyStream(EXPECTED, 'resumed');
    v.seed(DATA.subarray(0, 30_000));
    await pipeline(Readable.from(chunks(DATA.subarray(30_000), 9_999)), v, sink);
    expect(received().equals(DATA.subarray(30_000))).toBe(true);
    expect(v.bytes).toBe(DATA.length);

    // A wrong prefix of the right length is caught at the end.
    const w = verifyStream(EXPECTED, 'resumed badly');
    w.seed(Buffer.alloc(30_000));
    const err = await rejection(pipeline(Readable.from([DATA.subarray(30_000)]), w, collector().sink), IntegrityError);
    expect(err.code).toBe('ERR_DIGEST_MISMATCH');
  });
});

describe('Digester', () => {
  it('digest and bytes of 10 MiB in chunks equal crypto of the whole', async () => {
    const whole = createHash('sha256');
    let total = 0;
    async function* gen(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 160; i++) {
        const chunk = bytes(65_536, i + 1);
        whole.update(chunk);
        total += chunk.length;
        yield chunk;
      }
    }
    const d = createDigester();
    await pipeline(gen(), d, collector().sink);
    expect(total).toBe(10 * 1024 * 1024);
    expect(d.bytes).toBe(total);
    expect(d.digest()).toBe(`sha256:${whole.digest('hex')}`);
    expect(d.digest()).toBe(d.digest()); // stable on repeated calls
  });

  it('empty input hashes to the empty digest', async () => {
    const d = createDigester();
    await pipeline(Readable.from([]), d, collector().sink);
    expect(d.bytes).toBe(0);
    expect(d.digest()).toBe(digestOf(''));
  });
});

describe('verifyBytes', () => {
  it('accepts matching bytes and rejects digest and size mismatches', () => {
    expect(() => verifyBytes(DATA, EXPECTED, 'm')).not.toThrow();
    const flipped = Buffer.from(DATA);
    flipped[0] ^= 1;
    expect(() => verifyBytes(flipped, EXPECTED, 'm')).toThrow(expect.objectContaining({ code: 'ERR_DIGEST_MISMATCH', exitCode: 5 }));
    expect(() => verifyBytes(DATA.subarray(1), EXPECTED, 'm')).toThrow(expect.objectContaining({ code: 'ERR_SIZE_MISMATCH' }));
    expect(() => verifyBytes(DATA, { digest: EXPECTED.digest, size: DATA.length + 1 }, 'm')).toThrow(
      expect.objectContaining({ code: 'ERR_SIZE_MISMATCH' }),
    );
    expect(() => verifyBytes(new Uint8Array(0), { digest: digestOf('') as Digest, size: 0 }, 'm')).not.toThrow();
  });
});
