// A deterministic image layer, generated as a stream and never held in memory:
// a POSIX tar of files whose bytes come from an AES-128-CTR keystream keyed by
// the layer's name (so every run makes the same bytes and digests), gzip'd on
// the fly. Incompressible content, like most real compressed layers.
import { createCipheriv, createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { createGzip } from 'node:zlib';

const CHUNK = 1 << 20;
const ZERO = Buffer.alloc(CHUNK);
const MTIME = 1_700_000_000;

function octal(value, width) {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function tarHeader(name, size) {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(0o644, 8), 100);
  h.write(octal(0, 8), 108);
  h.write(octal(0, 8), 116);
  h.write(octal(size, 12), 124);
  h.write(octal(MTIME, 12), 136);
  h.fill(' ', 148, 156);
  h.write('0', 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148);
  return h;
}

/** Keystream bytes for `seed`: the same seed always gives the same bytes. */
export function keystream(seed) {
  const key = createHash('sha256').update(seed).digest();
  return createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
}

/** Tar bytes: files of at most `fileSize` until the content reaches `size` bytes. */
async function* tarBytes(seed, size, fileSize = 8 * CHUNK) {
  const cipher = keystream(seed);
  let left = size;
  for (let i = 0; left > 0; i++) {
    const n = Math.min(fileSize, left);
    yield tarHeader(`opt/${seed.replace(/[^a-z0-9]/gi, '-')}/file-${String(i).padStart(5, '0')}.bin`, n);
    for (let done = 0; done < n; ) {
      const m = Math.min(CHUNK, n - done);
      yield cipher.update(ZERO.subarray(0, m));
      done += m;
    }
    if (n % 512) yield Buffer.alloc(512 - (n % 512));
    left -= n;
  }
  yield Buffer.alloc(1024);
}

class HashTap extends Transform {
  constructor() {
    super();
    this.hash = createHash('sha256');
    this.bytes = 0;
  }
  _transform(chunk, _enc, cb) {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }
  digest() {
    return `sha256:${this.hash.digest('hex')}`;
  }
}

/**
 * The layer as a stream of gzip bytes, plus `result()` → { digest, size, diffId }
 * once the stream has ended. `level` 0 writes stored deflate blocks (fast, for
 * the multi-GiB layer; random bytes do not compress at any level anyway).
 */
export function layerStream(seed, size, level = 1) {
  const raw = new HashTap();
  const gz = createGzip({ level, chunkSize: 256 * 1024 });
  const out = new HashTap();
  const src = Readable.from(tarBytes(seed, size), { objectMode: false });
  src.on('error', (e) => out.destroy(e));
  raw.on('error', (e) => out.destroy(e));
  gz.on('error', (e) => out.destroy(e));
  src.pipe(raw).pipe(gz).pipe(out);
  return {
    stream: out,
    result: () => ({ digest: out.digest(), size: out.bytes, diffId: raw.digest() }),
  };
}
