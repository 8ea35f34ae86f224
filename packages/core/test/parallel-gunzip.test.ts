import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { createParallelGunzip } from '../src/archive/parallel-gunzip.js';
import { createParallelGzip } from '../src/archive/parallel-gzip.js';

const text = Buffer.from(
  Array.from({ length: 120_000 }, (_, i) => `${i},row ${i},${(i * 7919) % 1000}\n`).join(''),
);

async function gzipped(input: Buffer, blockSize: number): Promise<Buffer> {
  const gzip = createParallelGzip({ level: 4, blockSize });
  const [out] = await Promise.all([buffer(gzip), pipeline(Readable.from([input]), gzip)]);
  return out;
}

/** Feeds `bytes` to a parallel gunzip in chunks of the given sizes, cycling. */
async function inflate(bytes: Buffer, sizes: number[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length]!;
    chunks.push(bytes.subarray(at, at + n));
    at += n;
  }
  const gunzip = createParallelGunzip({ concurrency: 3 });
  const [out] = await Promise.all([buffer(gunzip), pipeline(Readable.from(chunks), gunzip)]);
  return out;
}

describe('parallel gunzip', () => {
  it('inflates members however the bytes arrive: inside one chunk, across many, a byte at a time', async () => {
    const bytes = await gzipped(text, 64 * 1024);
    const members = bytes.readUInt32LE(16);
    expect(members).toBeLessThan(bytes.length); // several members
    // A byte at a time through a smaller input (still several members): a stream per byte is slow.
    const small = text.subarray(0, 200_000);
    expect((await inflate(await gzipped(small, 64 * 1024), [1])).equals(small)).toBe(true);
    for (const sizes of [
      [bytes.length],
      [7, 3, 19],
      [members],
      [members - 1, members + 1],
      [65_536],
      [HEADER_CUT, 1_000_000],
    ]) {
      const out = await inflate(bytes, sizes);
      expect(out.equals(text)).toBe(true);
    }
  });

  it('does not trust a member trailer that lies about its size: zlib refuses the member', async () => {
    const bytes = Buffer.from(await gzipped(text, 64 * 1024));
    const first = bytes.readUInt32LE(16);
    // ISIZE of the first member, far too small: only an output size hint, checked by zlib.
    bytes.writeUInt32LE(10, first - 4);
    await expect(inflate(bytes, [bytes.length])).rejects.toThrow(/size|length|check/i);
  });
});

/** Cuts inside the 20-byte member header. */
const HEADER_CUT = 11;
