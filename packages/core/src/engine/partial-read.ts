import { createHash } from 'node:crypto';
import { planRuns, type Run, readRuns, runBytes } from '../archive/located-reader.js';
import type { ReadEntry } from '../archive/reader.js';
import type { ByteRange, SourceRestoreOptions } from '../contracts.js';
import { LifeboatError } from '../errors.js';
import { entryLocationSchema, MANIFEST_PATH, type Manifest } from '../manifest.js';
import { readArchiveIndex } from './archive-index.js';
import type { ArchiveInfo } from './archives.js';
import type { EngineContext } from './context.js';
import { optionsFor } from './sections.js';

/** Reading ranges pays off only when they are a small part of the archive. */
const MAX_SHARE = 0.5;

export interface PartialRead {
  manifest: Manifest;
  /** The archive paths read (the manifest's, checked to be the index's). */
  wanted: Set<string>;
  /** The wanted entries, each hashed as read (compare with the manifest). */
  entries: AsyncIterable<ReadEntry>;
  /** Compressed bytes the ranges cover. */
  bytes: number;
  /** Stored bytes asked of the storage so far (an encrypted archive's whole chunks). */
  storedBytesRead(): number;
}

/** What a partial restore or verify chooses: a section, and each source's own options. */
export interface Selection {
  only?: string | undefined;
  options: SourceRestoreOptions;
  /**
   * A chosen section no configured source reads: all of its entries (verify), instead of none
   * (restore skips such a section).
   */
  unsourced?: 'all';
}

/**
 * The section a selection is about: `only`, or the section of a source whose options choose part
 * of it (postgres `tables`/`asSuffix`), which cannot go with another `only`. Undefined: all.
 */
export function selectedSection(
  ctx: EngineContext,
  options: SourceRestoreOptions & { only?: string | undefined },
): string | undefined {
  for (const source of ctx.sources) {
    const partial = source.partialRestore?.(optionsFor(options, source));
    if (!partial) continue;
    if (options.only && options.only !== source.section) {
      throw new LifeboatError(
        'CONFIG_INVALID',
        `${partial}; they cannot go with --only ${options.only}`,
      );
    }
    return source.section;
  }
  return options.only;
}

/**
 * Plans reading only the gzip members that hold what a restore needs (`only` a section, the
 * entries its source asks for). The manifest comes from the archive's index and is trusted only
 * when the archive's own manifest.json, read by its range, hashes to the index's sha256; every
 * entry is then checked against its sha256 in that manifest as it is read. Undefined when the
 * archive cannot be read in part (no index or locations, a cipher without ranged reads) or when
 * the ranges would cover most of it: the caller reads it whole. An encrypted archive is read by
 * the cipher's chunks covering the ranges, each authenticated (age: 64 KiB chunks).
 */
export async function planPartialRead(
  ctx: EngineContext,
  archive: ArchiveInfo,
  selection: Selection,
  signal?: AbortSignal,
): Promise<PartialRead | undefined> {
  // Encrypted: read by age chunks when the cipher can (without an identity the whole-archive
  // path reports IDENTITY_REQUIRED).
  if (archive.encrypted && !ctx.cipher?.openRanges) return undefined;
  const index = await readArchiveIndex(ctx, archive, signal);
  const at = entryLocationSchema.safeParse(index?.manifestLocation);
  if (!index || !at.success || index.stored.bytes !== archive.bytes) return undefined;
  const manifest = index.manifest;
  const wanted = wantedEntries(ctx, manifest, selection);
  // A restore of everything keeps the one-pass read (and its check of the stored sha256).
  const sectionEntries = manifest.entries.filter((e) => e.path.includes('/')).length;
  if (wanted.size === 0 || wanted.size >= sectionEntries) return undefined;
  const runs = planRuns(manifest.entries, wanted);
  if (!runs || runBytes(runs) > archive.bytes * MAX_SHARE) return undefined;

  let storedBytesRead = 0;
  const stored = (range: ByteRange) => {
    storedBytesRead += Math.min(range.end, archive.bytes) - range.start;
    return ctx.storage.get(archive.file, { range, ...(signal ? { signal } : {}) });
  };
  // The ranges are plaintext offsets: an encrypted archive maps them to the chunks covering them.
  const get =
    archive.encrypted && ctx.cipher?.openRanges
      ? await ctx.cipher.openRanges(stored, archive.bytes)
      : stored;
  const manifestRun: Run = {
    range: { start: at.data.member, end: at.data.end },
    skip: at.data.inner,
    bytes: at.data.tarBytes,
    entries: [{ path: MANIFEST_PATH, type: 'file', size: 0, location: at.data }],
  };
  const hash = createHash('sha256');
  for await (const entry of readRuns(get, [manifestRun], new Set([MANIFEST_PATH]), {
    ...(signal ? { signal } : {}),
  })) {
    for await (const chunk of entry.stream as AsyncIterable<Buffer>) hash.update(chunk);
  }
  if (hash.digest('hex') !== index.manifestSha256) {
    throw new LifeboatError(
      'ARCHIVE_CORRUPT',
      `${archive.file}: its manifest.json is not the one its index holds (the archive or the index was changed)`,
      { details: { path: MANIFEST_PATH, storedBytesRead } },
    );
  }
  return {
    manifest,
    wanted,
    entries: readRuns(get, runs, wanted, signal ? { signal } : {}),
    bytes: runBytes(runs) + (at.data.end - at.data.member),
    storedBytesRead: () => storedBytesRead,
  };
}

/** Archive paths the selected sections' sources ask for (all of a section by default). */
export function wantedEntries(
  ctx: EngineContext,
  manifest: Manifest,
  selection: Selection,
): Set<string> {
  const wanted = new Set<string>();
  for (const section of manifest.sources) {
    if (selection.only && section.section !== selection.only) continue;
    const source = ctx.sources.find((s) => s.id === section.id && s.section === section.section);
    if (!source && selection.unsourced !== 'all') continue;
    const asked = source?.restoreEntries?.(section.summary, optionsFor(selection.options, source));
    const prefix = `${section.section}/`;
    if (asked) for (const path of asked) wanted.add(`${prefix}${path}`);
    else
      for (const entry of manifest.entries)
        if (entry.path.startsWith(prefix)) wanted.add(entry.path);
  }
  return wanted;
}
