import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { indexedMemberSize } from '../src/archive/gzip-members.js';
import { createParallelGzip } from '../src/archive/parallel-gzip.js';

/** Compressible text, then random bytes, then text: members whose output size jumps both ways. */
const input = Buffer.concat([
  Buffer.from(Array.from({ length: 4000 }, (_, i) => `${i},name ${i},${i % 97}\n`).join('')),
  randomBytes(50_000),
  Buffer.from('x'.repeat(30_000)),
  randomBytes(9_000),
]);

/** Cuts `bytes` into chunks of the given sizes, cycling; each chunk its own copy. */
function chunked(bytes: Buffer, sizes: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length]!;
    chunks.push(Buffer.from(bytes.subarray(at, at + n)));
    at += n;
  }
  return chunks;
}

/** Walks the members by their indexed sizes; returns how many there are. */
function countMembers(gz: Buffer): number {
  let members = 0;
  for (let at = 0; at < gz.length; members++) {
    const size = indexedMemberSize(gz.subarray(at, at + 20));
    expect(size, `member ${members} at ${at} is indexed`).toBeDefined();
    at += size!;
    expect(at).toBeLessThanOrEqual(gz.length);
  }
  return members;
}

describe('parallel gzip', () => {
  it('gives plain gzip of exactly its input however the chunks fall on blocks (block buffers are reused)', async () => {
    const blockSize = 4096;
    for (const sizes of [[1000], [4096], [5000, 7, 300], [input.length], [blockSize - 1, 2]]) {
      const chunks = chunked(input, sizes);
      const before = chunks.map((c) => Buffer.from(c));
      const gzip = createParallelGzip({ level: 4, blockSize, concurrency: 3 });
      const [out] = await Promise.all([buffer(gzip), pipeline(Readable.from(chunks), gzip)]);
      expect(gunzipSync(out).equals(input), `chunks ${sizes}`).toBe(true);
      expect(countMembers(out)).toBe(Math.ceil(input.length / blockSize));
      // The caller's chunks are read, never written.
      expect(chunks.every((c, i) => c.equals(before[i]!))).toBe(true);
    }
  });

  it('an empty input is one empty member', async () => {
    const gzip = createParallelGzip({ level: 4 });
    const [out] = await Promise.all([buffer(gzip), pipeline(Readable.from([]), gzip)]);
    expect(gunzipSync(out).length).toBe(0);
    expect(countMembers(out)).toBe(1);
  });
});

/**
 * A backup reuses its table-part buffer once the entry is added: everything written before the
 * offset `consumed` resolves at is copied, so overwriting it must not change the output.
 */
describe('createParallelGzip consumed', () => {
  it('holds no view of a written chunk once consumed resolves', async () => {
    const gz = createParallelGzip({ blockSize: 16 * 1024, concurrency: 2 });
    const out = buffer(gz);
    const reused = Buffer.alloc(10_000);
    const expected: Buffer[] = [];
    let offset = 0;
    for (let i = 0; i < 12; i++) {
      reused.fill(`part ${i};`);
      expected.push(Buffer.from(reused));
      gz.write(reused);
      offset += reused.length;
      await gz.consumed(offset);
    }
    gz.end();
    expect(gunzipSync(await out).equals(Buffer.concat(expected))).toBe(true);
  });

  it('fails its waiters when the stream is destroyed first', async () => {
    const gz = createParallelGzip();
    const waiting = gz.consumed(1000);
    gz.destroy();
    await expect(waiting).rejects.toThrow(/closed/);
  });
});
