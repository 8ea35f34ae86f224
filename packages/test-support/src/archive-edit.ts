import { gunzipSync, gzipSync } from 'node:zlib';

/**
 * Rewrites the stored bytes `start..end` of a .tar.gz (whole gzip members) with `change` applied
 * to what they inflate to, keeping the archive's size: the new member is padded by a gzip header
 * field (FCOMMENT or FEXTRA), so every offset an index holds stays right. gzip's own CRC then
 * holds: only the manifest's sha256 can tell the entry was changed.
 */
export function alterMembers(
  raw: Buffer,
  span: { start: number; end: number },
  change: (inflated: Buffer) => void,
): Buffer {
  const inflated = gunzipSync(raw.subarray(span.start, span.end));
  change(inflated);
  const size = span.end - span.start;
  for (const level of [9, 8, 7, 6, 5, 4, 3, 2, 1]) {
    const member = gzipSync(inflated, { level });
    const pad = size - member.length;
    if (pad < 0 || pad > 65537) continue;
    const flags = pad === 0 ? 0 : pad === 1 ? 0x10 : 0x04;
    const head = Buffer.from(member.subarray(0, 10));
    head[3] = flags;
    // An empty comment is one zero byte; an extra field is its 2-byte length and its bytes.
    const field =
      pad === 0
        ? Buffer.alloc(0)
        : pad === 1
          ? Buffer.from([0])
          : Buffer.concat([Buffer.from([(pad - 2) & 0xff, (pad - 2) >> 8]), Buffer.alloc(pad - 2)]);
    const rebuilt = Buffer.concat([head, field, member.subarray(10)]);
    return Buffer.concat([raw.subarray(0, span.start), rebuilt, raw.subarray(span.end)]);
  }
  throw new Error('alterMembers: the changed members do not compress into their old size');
}
