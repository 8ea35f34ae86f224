import { Transform, type TransformCallback } from 'node:stream';
import { promisify } from 'node:util';
import { createGunzip, gunzip as gunzipCallback } from 'node:zlib';
import { ByteQueue } from '../streams/byte-queue.js';
import { HEADER_BYTES, indexedMemberSize } from './gzip-members.js';

const gunzip = promisify(gunzipCallback);
const MAX_MEMBER_BYTES = 64 * 1024 * 1024;

/**
 * One output buffer per member: the trailer's ISIZE says how big (a byte more, or zlib fills the
 * buffer exactly and Node allocates a second one to find the end). A wrong ISIZE only costs
 * more chunks; zlib still checks it.
 */
function outputChunkSize(member: Buffer): number {
  const isize = member.readUInt32LE(member.length - 4);
  return Math.min(Math.max(isize + 1, 64 * 1024), MAX_MEMBER_BYTES);
}

/**
 * Gunzip that inflates indexed members (written by createParallelGzip) several at a time on the
 * thread pool, in order, each checked by zlib against its CRC and length. Anything else —
 * another tool's gzip, damage, trailing data — goes through a plain streaming gunzip from that
 * point, which reports it exactly as `zlib.createGunzip` would.
 */
export function createParallelGunzip(options: { concurrency?: number } = {}): Transform {
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const inFlight: Promise<Buffer>[] = [];
  const pending = new ByteQueue();
  let fallback: Transform | undefined;
  let fallbackDone: Promise<void> | undefined;

  return new Transform({
    transform(chunk: Buffer, _enc, callback: TransformCallback) {
      if (fallback) {
        if (!fallback.write(chunk)) fallback.once('drain', () => callback());
        else callback();
        return;
      }
      pending.push(chunk);
      const work = async () => {
        while (!fallback && pending.length >= HEADER_BYTES) {
          const size = indexedMemberSize(pending.peek(HEADER_BYTES));
          // Lifeboat's members hold about 1 MiB: a huge size is damage, not a reason to buffer.
          if (size === undefined || size > MAX_MEMBER_BYTES) {
            await drainInFlight(this);
            startFallback(this);
            return;
          }
          if (pending.length < size) return;
          const member = pending.take(size);
          const p = gunzip(member, { chunkSize: outputChunkSize(member) });
          p.catch(() => {});
          inFlight.push(p);
          while (inFlight.length >= concurrency) this.push(await inFlight.shift()!);
        }
      };
      work().then(() => callback(), callback);
    },
    flush(callback: TransformCallback) {
      const work = async () => {
        if (!fallback && pending.length > 0) {
          // A member cut short, or a few bytes that are no member: let zlib say what it is.
          await drainInFlight(this);
          startFallback(this);
        }
        await drainInFlight(this);
        if (fallback) {
          fallback.end();
          await fallbackDone;
        }
      };
      work().then(() => callback(), callback);
    },
  });

  async function drainInFlight(stream: Transform) {
    while (inFlight.length > 0) stream.push(await inFlight.shift()!);
  }

  function startFallback(stream: Transform) {
    fallback = createGunzip({ chunkSize: 256 * 1024 });
    const f = fallback;
    fallbackDone = new Promise<void>((resolve, reject) => {
      f.on('data', (d: Buffer) => stream.push(d));
      f.on('end', resolve);
      f.on('error', reject);
    });
    fallbackDone.catch((error) => stream.destroy(error));
    for (const b of pending.drain()) f.write(b);
  }
}
