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

export function indexedMember(deflated: Buffer, crc: number, inputBytes: number): Buffer {
  const total = HEADER_BYTES + deflated.length + TRAILER_BYTES;
  const out = Buffer.allocUnsafe(total);
  out[0] = 0x1f;
  out[1] = 0x8b;
  out[2] = 8; // deflate
  out[3] = 4; // FEXTRA
  out.writeUInt32LE(0, 4); // no mtime
  out[8] = 0;
  out[9] = 255; // unknown OS
  out.writeUInt16LE(8, 10); // XLEN
  out[12] = 0x4c; // 'L'
  out[13] = 0x42; // 'B'
  out.writeUInt16LE(4, 14);
  out.writeUInt32LE(total, 16);
  deflated.copy(out, HEADER_BYTES);
  out.writeUInt32LE(crc >>> 0, HEADER_BYTES + deflated.length);
  out.writeUInt32LE(inputBytes >>> 0, HEADER_BYTES + deflated.length + 4);
  return out;
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
