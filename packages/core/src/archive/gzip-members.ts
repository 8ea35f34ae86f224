import * as zlib from 'node:zlib';

/**
 * Indexed gzip members: each member's header carries an extra field ("LB", RFC 1952 FEXTRA)
 * holding the member's total size, as BGZF does. gzip, tar and every reader ignore it; Lifeboat
 * uses it to find member boundaries without inflating, so members inflate in parallel.
 */
export const HEADER_BYTES = 20;
const TRAILER_BYTES = 8;

/** zlib.crc32 arrived in Node 20.15 / 22.2; without it members are written unindexed. */
export const crc32 = (zlib as unknown as { crc32?: (data: Uint8Array) => number }).crc32;

/**
 * The head and tail of an indexed member around `deflatedBytes` of raw deflate data: written as
 * three pieces, the deflated bytes are never copied.
 */
export function indexedMemberFrame(
  deflatedBytes: number,
  crc: number,
  inputBytes: number,
): { head: Buffer; tail: Buffer } {
  const total = HEADER_BYTES + deflatedBytes + TRAILER_BYTES;
  const head = Buffer.allocUnsafe(HEADER_BYTES);
  head[0] = 0x1f;
  head[1] = 0x8b;
  head[2] = 8; // deflate
  head[3] = 4; // FEXTRA
  head.writeUInt32LE(0, 4); // no mtime
  head[8] = 0;
  head[9] = 255; // unknown OS
  head.writeUInt16LE(8, 10); // XLEN
  head[12] = 0x4c; // 'L'
  head[13] = 0x42; // 'B'
  head.writeUInt16LE(4, 14);
  head.writeUInt32LE(total, 16);
  const tail = Buffer.allocUnsafe(TRAILER_BYTES);
  tail.writeUInt32LE(crc >>> 0, 0);
  tail.writeUInt32LE(inputBytes >>> 0, 4);
  return { head, tail };
}

/** The total size of the indexed member starting at `header`, or undefined if it is not one. */
export function indexedMemberSize(header: Buffer): number | undefined {
  if (header.length < HEADER_BYTES) return undefined;
  if (header[0] !== 0x1f || header[1] !== 0x8b || header[2] !== 8 || header[3] !== 4)
    return undefined;
  if (header.readUInt16LE(10) !== 8 || header[12] !== 0x4c || header[13] !== 0x42) return undefined;
  if (header.readUInt16LE(14) !== 4) return undefined;
  const size = header.readUInt32LE(16);
  return size >= HEADER_BYTES + TRAILER_BYTES ? size : undefined;
}
