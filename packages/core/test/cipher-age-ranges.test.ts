import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { promisify } from 'node:util';
import { ageCipher, type ByteRange } from '@lifeboat/core';
import { rejectionOf } from '@lifeboat/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ageCli = (() => {
  try {
    execFileSync('which', ['age'], { stdio: 'ignore' });
    execFileSync('which', ['age-keygen'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!ageCli) console.warn('cipher-age-ranges: the `age` tool is not installed; skipped');

const CHUNK = 64 * 1024;
const SEALED = CHUNK + 16;

let dir: string;
let identity: string;
let recipient: string;
let otherIdentity: string;

beforeAll(async () => {
  if (!ageCli) return;
  dir = await mkdtemp(join(tmpdir(), 'lifeboat-age-ranges-'));
  for (const name of ['key', 'other']) await run('age-keygen', ['-o', join(dir, name)]);
  identity = (await readFile(join(dir, 'key'), 'utf8')).match(/AGE-SECRET-KEY-1\S+/)![0];
  recipient = (await run('age-keygen', ['-y', join(dir, 'key')])).stdout.trim();
  otherIdentity = (await readFile(join(dir, 'other'), 'utf8')).match(/AGE-SECRET-KEY-1\S+/)![0];
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Encrypts `plain` with the `age` tool; the file as stored. */
async function ageEncrypt(name: string, plain: Buffer): Promise<string> {
  const input = join(dir, `${name}.plain`);
  const output = join(dir, `${name}.age`);
  await writeFile(input, plain);
  await run('age', ['-r', recipient, '-o', output, input]);
  return output;
}

/** Ranged gets of a file (a positioned read, as local storage does), recording what was read. */
function fileGet(path: string) {
  const reads: ByteRange[] = [];
  const get = async (range: ByteRange): Promise<Readable> => {
    reads.push(range);
    return createReadStream(path, { start: range.start, end: range.end - 1 });
  };
  return { get, reads };
}

async function open(path: string, identities = [identity]) {
  const { get, reads } = fileGet(path);
  const stored = (await readFile(path)).length;
  const cipher = ageCipher({ identities });
  const plainGet = await cipher.openRanges!(get, stored);
  reads.length = 0;
  const read = async (start: number, end: number) => buffer(await plainGet({ start, end }));
  return { read, reads, stored };
}

const sealedBytes = (reads: ByteRange[]) => reads.reduce((n, r) => n + r.end - r.start, 0);

describe.skipIf(!ageCli)('age ranges: files written by the age tool, read by chunks', () => {
  it('reads ranges at chunk boundaries, across them and in the last short chunk', async () => {
    const plain = randomBytes(5 * CHUNK + 1234);
    const { read, reads } = await open(await ageEncrypt('short-last', plain));
    const cases: [number, number][] = [
      [0, 1],
      [0, CHUNK],
      [CHUNK, 2 * CHUNK],
      [CHUNK - 1, CHUNK + 1],
      [CHUNK - 100, 3 * CHUNK + 100],
      [5 * CHUNK, 5 * CHUNK + 1234],
      [5 * CHUNK + 1000, 5 * CHUNK + 1100],
      [4 * CHUNK + 7, plain.length],
      [0, plain.length],
    ];
    for (const [start, end] of cases) {
      reads.length = 0;
      const got = await read(start, end);
      expect(got.equals(plain.subarray(start, end)), `${start}–${end}`).toBe(true);
      // Only the chunks covering the range are read.
      const chunks = Math.floor((end - 1) / CHUNK) - Math.floor(start / CHUNK) + 1;
      expect(sealedBytes(reads), `${start}–${end}`).toBeLessThanOrEqual(chunks * SEALED);
    }
    // A range past the end is clipped, as a storage's ranged get is.
    expect(
      (await read(5 * CHUNK + 1200, 10 * CHUNK)).equals(plain.subarray(5 * CHUNK + 1200)),
    ).toBe(true);
    expect((await read(plain.length, plain.length + 10)).length).toBe(0);
  });

  it('reads a file that is an exact multiple of 64 KiB (its last chunk full, flagged last)', async () => {
    const plain = randomBytes(3 * CHUNK);
    const { read, stored } = await open(await ageEncrypt('multiple', plain));
    expect(stored % SEALED).toBeGreaterThan(0); // header + nonce + 3 whole sealed chunks
    expect((await read(2 * CHUNK, 3 * CHUNK)).equals(plain.subarray(2 * CHUNK))).toBe(true);
    expect(
      (await read(CHUNK - 3, 2 * CHUNK + 3)).equals(plain.subarray(CHUNK - 3, 2 * CHUNK + 3)),
    ).toBe(true);
    expect((await read(0, plain.length)).equals(plain)).toBe(true);
  });

  it('reads a file of one short chunk and an empty one', async () => {
    const plain = randomBytes(1000);
    const { read } = await open(await ageEncrypt('one', plain));
    expect((await read(10, 20)).equals(plain.subarray(10, 20))).toBe(true);
    const empty = await open(await ageEncrypt('empty', Buffer.alloc(0)));
    expect((await empty.read(0, 10)).length).toBe(0);
  });
});

describe.skipIf(!ageCli)('age ranges: what must fail', () => {
  const plain = randomBytes(4 * CHUNK + 500);
  let path: string;
  let raw: Buffer;
  let payload: number;
  beforeAll(async () => {
    path = await ageEncrypt('tamper', plain);
    raw = await readFile(path);
    payload = raw.indexOf('\n', raw.indexOf('\n--- ') + 1) + 1 + 16;
  });
  const variant = async (name: string, bytes: Buffer) => {
    const p = join(dir, name);
    await writeFile(p, bytes);
    return p;
  };
  const failure = async (promise: Promise<unknown>) => {
    const error = await rejectionOf(promise);
    expect(error.code).toBe('DECRYPTION_FAILED');
    expect(`${error.message} ${error.hint ?? ''}`).not.toContain(identity);
    return error;
  };

  it('an altered byte of a chunk fails that chunk only', async () => {
    const bytes = Buffer.from(raw);
    bytes[payload + SEALED + 100]! ^= 0x01; // chunk 1
    const { read } = await open(await variant('altered.age', bytes));
    expect((await read(0, CHUNK)).equals(plain.subarray(0, CHUNK))).toBe(true);
    const error = await failure(read(CHUNK + 10, CHUNK + 20));
    expect(error.message).toContain('chunk 1');
  });

  it('chunks swapped fail by their counter', async () => {
    const bytes = Buffer.from(raw);
    raw.copy(bytes, payload, payload + SEALED, payload + 2 * SEALED);
    raw.copy(bytes, payload + SEALED, payload, payload + SEALED);
    const { read } = await open(await variant('swapped.age', bytes));
    await failure(read(0, 10));
  });

  it('a file cut at a chunk boundary, or extended by a chunk, fails by the last-chunk flag', async () => {
    const cut = await open(await variant('cut.age', raw.subarray(0, payload + 3 * SEALED)));
    // What is now its last chunk was written as a middle one.
    await failure(cut.read(2 * CHUNK, 2 * CHUNK + 10));
    const longer = Buffer.concat([raw, raw.subarray(payload, payload + SEALED)]);
    const extended = await open(await variant('extended.age', longer));
    // The real last chunk is now a middle one: its flag says last.
    await failure(extended.read(4 * CHUNK, 4 * CHUNK + 10));
    // Cut inside a chunk: not whole chunks, refused when opened.
    await failure(open(await variant('cut-inside.age', raw.subarray(0, payload + SEALED + 8))));
  });

  it('a storage returning fewer bytes than the file holds fails', async () => {
    const short = await variant('short.age', raw.subarray(0, raw.length - 100));
    const { get } = fileGet(short);
    // The size as listed before the file shrank.
    const plainGet = await ageCipher({ identities: [identity] }).openRanges!(get, raw.length);
    await failure(buffer(await plainGet({ start: 4 * CHUNK, end: 4 * CHUNK + 10 })));
  });

  it('an altered header fails (its MAC), a wrong identity as the whole-file path says', async () => {
    const bytes = Buffer.from(raw);
    const stanza = bytes.indexOf('\n', bytes.indexOf('-> X25519')) + 5;
    bytes[stanza] = bytes[stanza] === 0x41 ? 0x42 : 0x41;
    await failure(open(await variant('header.age', bytes)));
    const mac = bytes.indexOf('\n--- ') + 8;
    const macBytes = Buffer.from(raw);
    macBytes[mac] = macBytes[mac] === 0x41 ? 0x42 : 0x41;
    const macError = await failure(open(await variant('mac.age', macBytes)));
    // As the whole-file path words it (age's "invalid header HMAC").
    expect(macError.message).toMatch(/age header is damaged/);
    const wrong = await failure(open(path, [otherIdentity]));
    expect(wrong.message).toMatch(/None of the 1 configured age identity/);
    expect(wrong.message).not.toContain(otherIdentity);
    // Not an age file at all.
    await failure(open(await variant('plain.bin', plain)));
  });

  it('without an identity, IDENTITY_REQUIRED', async () => {
    const { get } = fileGet(path);
    const cipher = ageCipher({ recipients: [recipient] });
    expect((await rejectionOf(cipher.openRanges!(get, raw.length))).code).toBe('IDENTITY_REQUIRED');
  });
});
