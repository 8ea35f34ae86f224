import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { Decrypter } from 'age-encryption';
import type { ByteRange } from '../contracts.js';
import { LifeboatError } from '../errors.js';
import { decryptionError } from './age-errors.js';

/**
 * Reads byte ranges of the plaintext of an age v1 file (https://age-encryption.org/v1) through
 * ranged gets of the file, decrypting only the payload chunks that cover them. The payload is the
 * 16-byte nonce after the header, then STREAM chunks of 64 KiB of plaintext, each sealed with
 * ChaCha20-Poly1305 under HKDF-SHA256(file key, nonce, "payload") with the nonce "11-byte
 * big-endian chunk counter || last-chunk flag". Every chunk read is authenticated with its own
 * counter and, knowing the file's size, with the flag it must carry: a chunk moved, a file cut or
 * extended at a chunk boundary fails like an altered byte. The file key comes from age's own
 * `Decrypter.decryptHeader`, which checks the header's MAC. Loaded only when a ranged read of an
 * encrypted archive is planned (these modules cost start-up time).
 */

const CHUNK = 64 * 1024;
const TAG = 16;
const SEALED = CHUNK + TAG;
const NONCE = 16;
/** age headers are a few hundred bytes per recipient (post-quantum ones a few KiB). */
const FIRST_READ = 4096;
const MAX_HEADER = 1024 * 1024;

export type RangedGet = (range: ByteRange) => Promise<Readable>;

export interface AgeRanges {
  /** Plaintext bytes of the whole file. */
  plainBytes: number;
  /** Plaintext `[start, end)`, clipped to the plaintext's end (as a storage's ranged get is). */
  get: RangedGet;
}

const truncated = (what: string) =>
  new LifeboatError(
    'DECRYPTION_FAILED',
    `The encrypted archive was altered, damaged or truncated: ${what}`,
    { hint: 'Use another archive; this one cannot be trusted.' },
  );

async function readExactly(get: RangedGet, range: ByteRange): Promise<Buffer> {
  const bytes = await buffer(await get(range));
  if (bytes.length !== range.end - range.start)
    throw truncated(`bytes ${range.start}–${range.end} could not be read in full`);
  return bytes;
}

/** The header's length: through the end of its MAC line ("--- " + base64, then "\n"). */
function headerEnd(prefix: Buffer): number | undefined {
  const mac = prefix.indexOf('\n--- ');
  if (mac < 0) return undefined;
  const end = prefix.indexOf('\n', mac + 1);
  return end < 0 ? undefined : end + 1;
}

export async function openAgeRanges(
  get: RangedGet,
  storedBytes: number,
  identities: readonly string[],
): Promise<AgeRanges> {
  // The header, then the nonce: read a prefix, longer until the MAC line and the nonce are in it.
  let prefix: Buffer = Buffer.alloc(0);
  let size: number | undefined;
  for (let want = FIRST_READ; ; want *= 2) {
    const end = Math.min(want, storedBytes);
    prefix = await readExactly(get, { start: 0, end });
    size = headerEnd(prefix);
    if ((size !== undefined && size + NONCE <= end) || end === storedBytes || end >= MAX_HEADER)
      break;
  }
  if (size === undefined) throw decryptionError(new Error('invalid header'), identities.length, 0);
  if (size + NONCE > prefix.length) throw truncated('it ends inside its header or nonce');

  const decrypter = new Decrypter();
  for (const identity of identities) decrypter.addIdentity(identity);
  let fileKey: Uint8Array;
  try {
    fileKey = await decrypter.decryptHeader(prefix.subarray(0, size));
  } catch (error) {
    throw decryptionError(error, identities.length, 0);
  }
  const nonce = prefix.subarray(size, size + NONCE);
  const key = hkdf(sha256, fileKey, nonce, new TextEncoder().encode('payload'), 32);
  fileKey.fill(0);

  const payloadStart = size + NONCE;
  const payloadBytes = storedBytes - payloadStart;
  const chunks = Math.max(1, Math.ceil(payloadBytes / SEALED));
  const lastSealed = payloadBytes - (chunks - 1) * SEALED;
  // Only an empty file has an empty final chunk; anything else is not whole chunks.
  if (lastSealed < TAG || (chunks > 1 && lastSealed === TAG))
    throw truncated(`its ${payloadBytes} payload bytes are not whole age chunks`);
  const plainBytes = payloadBytes - chunks * TAG;
  const sealedSize = (i: number) => (i === chunks - 1 ? lastSealed : SEALED);

  const open = (i: number, sealed: Uint8Array): Uint8Array => {
    const chunkNonce = new Uint8Array(12);
    let counter = i;
    for (let k = 10; k >= 0 && counter > 0; k--) {
      chunkNonce[k] = counter % 256;
      counter = Math.floor(counter / 256);
    }
    if (i === chunks - 1) chunkNonce[11] = 1;
    try {
      return chacha20poly1305(key, chunkNonce).decrypt(sealed);
    } catch {
      throw truncated(
        `its age chunk ${i} (plaintext bytes from ${i * CHUNK}) does not authenticate`,
      );
    }
  };

  async function* plain(
    sealed: Readable,
    first: number,
    last: number,
    from: number,
    to: number,
  ): AsyncGenerator<Uint8Array> {
    const pending = new Uint8Array(SEALED);
    let used = 0;
    let i = first;
    // Plaintext offsets `[from, to)` of the chunks read, relative to chunk `first`'s start.
    const emit = (plaintext: Uint8Array) => {
      const at = (i - first) * CHUNK;
      return plaintext.subarray(Math.max(0, from - at), Math.min(plaintext.length, to - at));
    };
    for await (const data of sealed as AsyncIterable<Buffer>) {
      let rest: Uint8Array = data;
      while (rest.length > 0) {
        if (i > last) throw truncated('a ranged read returned more bytes than asked for');
        const n = Math.min(sealedSize(i) - used, rest.length);
        pending.set(rest.subarray(0, n), used);
        used += n;
        rest = rest.subarray(n);
        if (used === sealedSize(i)) {
          const out = emit(open(i, pending.subarray(0, used)));
          used = 0;
          i++;
          if (out.length > 0) yield out;
        }
      }
    }
    if (i <= last) throw truncated(`its age chunk ${i} ends early`);
  }

  return {
    plainBytes,
    async get(range) {
      const start = Math.max(0, range.start);
      const end = Math.min(range.end, plainBytes);
      if (start >= end) return Readable.from([]);
      const first = Math.floor(start / CHUNK);
      const last = Math.floor((end - 1) / CHUNK);
      const sealed = await get({
        start: payloadStart + first * SEALED,
        end: payloadStart + Math.min((last + 1) * SEALED, payloadBytes),
      });
      const at = first * CHUNK;
      return Readable.from(plain(sealed, first, last, start - at, end - at), {
        objectMode: false,
      });
    },
  };
}
