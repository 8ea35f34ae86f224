import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { EntryLocation } from '../archive/entry-locator.js';
import { parseManifest } from '../archive/verify.js';
import type { Manifest } from '../manifest.js';
import { paceMemory } from '../memory-pacer.js';
import type { ArchiveInfo, StoredDigest } from './archives.js';
import type { EngineContext } from './context.js';
import { META_PREFIX } from './history.js';

/**
 * Beside every archive the backup keeps a small index: the archive's sha256 and byte count as
 * stored, and its manifest (encrypted like the archive). A restore that finds the stored bytes
 * unchanged trusts that manifest and reads the archive once instead of twice: checking a raw
 * hash costs a fraction of inflating and hashing every entry (entries are then not hashed
 * again: gzip's CRCs still hold, and an entry the manifest does not list is still refused).
 * Anything missing or odd falls back to the full check before anything is written.
 */
export const INDEX_PREFIX = `${META_PREFIX}index/`;

interface IndexRecord {
  archive: string;
  bytes: number;
  sha256: string;
  /** The manifest as the archive holds it, and its sha256 (an index damaged at rest is refused). */
  manifest: string;
  manifestSha256: string;
  /** Where manifest.json sits in the archive: a partial read checks it against the hash above. */
  manifestLocation?: EntryLocation;
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

export const indexKey = (ctx: EngineContext, file: string, encrypted: boolean) =>
  `${INDEX_PREFIX}${file}.json${encrypted ? (ctx.cipher?.extension ?? '.age') : ''}`;

/** Writes the index of a stored archive. The caller decides what a failure means. */
export async function writeArchiveIndex(
  ctx: EngineContext,
  archive: { file: string; bytes: number; sha256: string; encrypted: boolean },
  manifestBytes: Buffer,
  manifestLocation?: EntryLocation,
): Promise<void> {
  const record: IndexRecord = {
    archive: archive.file,
    bytes: archive.bytes,
    sha256: archive.sha256,
    manifest: manifestBytes.toString('utf8'),
    manifestSha256: sha256(manifestBytes),
    ...(manifestLocation ? { manifestLocation } : {}),
  };
  const plain = Buffer.from(JSON.stringify(record));
  const body =
    archive.encrypted && ctx.cipher
      ? await buffer(ctx.cipher.encrypt(Readable.from([plain])))
      : plain;
  await ctx.storage.put(indexKey(ctx, archive.file, archive.encrypted), body, { overwrite: true });
}

export async function deleteArchiveIndex(ctx: EngineContext, archive: ArchiveInfo): Promise<void> {
  await ctx.storage.delete(indexKey(ctx, archive.file, archive.encrypted));
}

/** What an intact index vouches for: the manifest, and the stored bytes it was checked against. */
export interface IndexedArchive {
  manifest: Manifest;
  stored: StoredDigest;
}

/** An index that reads and holds together: its manifest parses and hashes to its sha256. */
export interface ArchiveIndex {
  manifest: Manifest;
  manifestSha256: string;
  manifestLocation?: EntryLocation;
  stored: StoredDigest;
}

/** The archive's index as stored, or undefined when there is none or it is unusable. */
export async function readArchiveIndex(
  ctx: EngineContext,
  archive: ArchiveInfo,
  signal?: AbortSignal,
): Promise<ArchiveIndex | undefined> {
  let record: IndexRecord;
  try {
    const raw = await ctx.storage.get(
      indexKey(ctx, archive.file, archive.encrypted),
      signal ? { signal } : {},
    );
    if (archive.encrypted && !ctx.cipher) {
      raw.destroy();
      return undefined;
    }
    const stream = archive.encrypted && ctx.cipher ? ctx.cipher.decrypt(raw) : raw;
    record = JSON.parse((await buffer(stream)).toString('utf8')) as IndexRecord;
  } catch {
    // No index (an older archive, a copied-in file) or one that cannot be read: check fully.
    return undefined;
  }
  if (
    record?.archive !== archive.file ||
    typeof record.manifest !== 'string' ||
    typeof record.sha256 !== 'string' ||
    sha256(record.manifest) !== record.manifestSha256
  )
    return undefined;
  let manifest: Manifest;
  try {
    manifest = parseManifest(Buffer.from(record.manifest, 'utf8'));
  } catch {
    return undefined;
  }
  return {
    manifest,
    manifestSha256: record.manifestSha256,
    ...(record.manifestLocation ? { manifestLocation: record.manifestLocation } : {}),
    stored: { sha256: record.sha256, bytes: record.bytes },
  };
}

/**
 * Whether the stored bytes are exactly those an intact index describes (its sha256 and size):
 * one pass over the raw archive, no inflating.
 */
export async function storedMatches(
  ctx: EngineContext,
  archive: ArchiveInfo,
  record: StoredDigest,
  signal?: AbortSignal,
): Promise<boolean> {
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    const stored = await ctx.storage.get(archive.file, signal ? { signal } : {});
    for await (const chunk of stored as AsyncIterable<Buffer>) {
      hash.update(chunk);
      bytes += chunk.length;
      paceMemory(chunk.length);
    }
  } catch {
    return false;
  }
  return bytes === record.bytes && hash.digest('hex') === record.sha256;
}
