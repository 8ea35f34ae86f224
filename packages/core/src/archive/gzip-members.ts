/**
 * Indexed gzip members: each member's header carries an extra field ("LB", RFC 1952 FEXTRA)
 * holding the member's total size, as BGZF does. gzip, tar and every reader ignore it; Lifeboat
 * uses it to find member boundaries without inflating, so members inflate in parallel.
 */
export const HEADER_BYTES = 20;
/** A member's CRC-32 and input size. */
export const TRAILER_BYTES = 8;
/** The header zlib writes itself (no name, no extra field), replaced by the indexed one. */
export const GZIP_HEADER_BYTES = 10;

/**
 * The head of an indexed member holding `deflatedBytes` of raw deflate data and the 8-byte
 * trailer: written as a piece of its own, the deflated bytes are never copied.
 */
export function indexedMemberHead(deflatedBytes: number): Buffer {
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
  return head;
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
