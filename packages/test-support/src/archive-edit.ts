import { gunzipSync, gzipSync } from 'node:zlib';

/** The gzip members in `start..end`, by the size Lifeboat's indexed headers carry ("LB"). */
function members(raw: Buffer, start: number, end: number): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (let at = start; at < end; ) {
    const indexed = raw[at + 3] === 4 && raw[at + 12] === 0x4c && raw[at + 13] === 0x42;
    // Not an indexed member: the rest is taken as one.
    const size = indexed ? raw.readUInt32LE(at + 16) : end - at;
    out.push({ start: at, end: Math.min(at + size, end) });
    at += size;
  }
  return out;
}

/** `data` gzipped into exactly `size` bytes, padded by an empty comment or an extra field. */
function gzipInto(data: Buffer, size: number): Buffer {
  // Lifeboat writes memLevel 9: the same settings give the same size for the same input.
  const tries = [6, 9, 4, 1, 0].flatMap((level) => [9, 8].map((memLevel) => ({ level, memLevel })));
  for (const options of tries) {
    const member = gzipSync(data, options);
    const pad = size - member.length;
    if (pad < 0 || pad > 65537) continue;
    const head = Buffer.from(member.subarray(0, 10));
    head[3] = pad === 0 ? 0 : pad === 1 ? 0x10 : 0x04;
    const field =
      pad === 0
        ? Buffer.alloc(0)
        : pad === 1
          ? Buffer.from([0])
          : Buffer.concat([Buffer.from([(pad - 2) & 0xff, (pad - 2) >> 8]), Buffer.alloc(pad - 2)]);
    return Buffer.concat([head, field, member.subarray(10)]);
  }
  throw new Error('alterMembers: a changed member does not compress into its old size');
}

/**
 * Rewrites the stored bytes `start..end` of a .tar.gz (whole gzip members) with `change` applied
 * to what they inflate to, keeping the archive's size: each changed member is re-compressed
 * into its old size, padded by a gzip header field, so every offset an index holds stays right.
 * gzip's own CRC then holds: only the manifest's sha256 can tell the entry was changed.
 */
export function alterMembers(
  raw: Buffer,
  span: { start: number; end: number },
  change: (inflated: Buffer) => void,
): Buffer {
  const parts = members(raw, span.start, span.end).map((m) => ({
    ...m,
    inflated: gunzipSync(raw.subarray(m.start, m.end)),
  }));
  const inflated = Buffer.concat(parts.map((p) => p.inflated));
  change(inflated);
  const out = Buffer.from(raw);
  let at = 0;
  for (const p of parts) {
    const now = inflated.subarray(at, at + p.inflated.length);
    at += p.inflated.length;
    if (!now.equals(p.inflated)) gzipInto(now, p.end - p.start).copy(out, p.start);
  }
  return out;
}
