import { pipeline, type Readable } from 'node:stream';
import { newestFirst, normalizeArchiveId, parseArchiveName } from '../archive/naming.js';
import { LifeboatError } from '../errors.js';
import { digestTap, type StreamDigest } from '../streams/digest-tap.js';
import { INDEX_PREFIX } from './archive-index.js';
import { type ArchiveTrust, archiveTrust, isCounted } from './archive-trust.js';
import type { EngineContext } from './context.js';

export interface ArchiveInfo {
  id: string;
  file: string;
  bytes: number;
  createdAt: string;
  encrypted: boolean;
  /** A Lifeboat index record lies beside it (the backup that made it wrote one). */
  indexed: boolean;
  /** Why it does not count as a backup (for `latest`, health, status, retention); absent when it does. */
  untrusted?: ArchiveTrust;
}

/** The archive files an index record names: `x.tar.gz` for `.lifeboat/index/x.tar.gz.json[.age]`. */
function indexedFiles(keys: string[]): Set<string> {
  const files = new Set<string>();
  for (const key of keys)
    if (key.startsWith(INDEX_PREFIX))
      files.add(key.slice(INDEX_PREFIX.length).replace(/\.json(?:\.[A-Za-z0-9]+)?$/, ''));
  return files;
}

/**
 * The archives in the storage, newest first. Temporary and foreign files are not archives.
 * Each says whether it counts as a backup: only files with an index record, and no name later
 * than the clock allows, do (a name is only a claim: another tool or a clock jump makes any).
 */
export async function listArchives(
  ctx: EngineContext,
  signal?: AbortSignal,
): Promise<ArchiveInfo[]> {
  await ctx.ready(signal, { create: false });
  const objects = await ctx.storage.list('', signal ? { signal } : {});
  const indexed = indexedFiles(objects.map((o) => o.key));
  const now = ctx.now();
  const archives: ArchiveInfo[] = [];
  for (const object of objects) {
    if (object.key.includes('/')) continue;
    const parsed = parseArchiveName(object.key);
    if (!parsed || parsed.prefix !== ctx.config.prefix) continue;
    const hasIndex = indexed.has(object.key);
    const untrusted = archiveTrust(object.key, parsed.createdAt, hasIndex, now);
    archives.push({
      id: parsed.id,
      file: object.key,
      bytes: object.bytes,
      createdAt: parsed.createdAt.toISOString(),
      encrypted: parsed.encrypted,
      indexed: hasIndex,
      ...(untrusted ? { untrusted } : {}),
    });
  }
  return archives.sort(newestFirst);
}

/**
 * Finds an archive by id (with or without extensions), `latest` or `random` (among the last 30
 * days). `latest` and `random` pick only archives that count as backups; an id names any file.
 */
export async function resolveArchive(
  ctx: EngineContext,
  ref = 'latest',
  signal?: AbortSignal,
): Promise<ArchiveInfo> {
  const archives = await listArchives(ctx, signal);
  if (archives.length === 0)
    throw new LifeboatError('NO_ARCHIVES', `No archive in ${ctx.storage.describe()}`);
  if (ref === 'latest' || ref === 'random') {
    const counted = archives.filter(isCounted);
    if (counted.length === 0) {
      const skipped = archives.slice(0, 3).map((a) => `${a.file} (${a.untrusted!.code})`);
      throw new LifeboatError(
        'NO_ARCHIVES',
        `No archive in ${ctx.storage.describe()} counts as a backup for "${ref}": ${archives.length} file(s) are not trusted: ${skipped.join(', ')}${archives.length > 3 ? ', …' : ''}`,
        { hint: 'A file you know to be good can be named by its id (see `lifeboat list`).' },
      );
    }
    if (ref === 'latest') return counted[0]!;
    const since = ctx.now().getTime() - 30 * 86400_000;
    const recent = counted.filter((a) => Date.parse(a.createdAt) >= since);
    const pool = recent.length > 0 ? recent : counted;
    return pool[Math.floor(Math.random() * pool.length)]!;
  }
  const id = normalizeArchiveId(ref);
  const found = archives.find((a) => a.id === id);
  if (!found) {
    throw new LifeboatError('NOT_FOUND', `No archive "${ref}" in ${ctx.storage.describe()}`, {
      hint: 'List the archives with `lifeboat list`.',
    });
  }
  // Named by the user: used, but not silently.
  if (found.untrusted) ctx.events.emit('warning', found.untrusted);
  return found;
}

/** Opens an archive's plain .tar.gz bytes, decrypting when needed. */
export async function openArchive(
  ctx: EngineContext,
  archive: ArchiveInfo,
  signal?: AbortSignal,
  /** The stored bytes were checked against this before: the bytes read now must match it too. */
  expected?: StoredDigest,
): Promise<Readable> {
  const stored = await ctx.storage.get(archive.file, signal ? { signal } : {});
  const raw = expected ? matching(stored, expected, archive.file) : stored;
  if (!archive.encrypted) return raw;
  if (!ctx.cipher) {
    raw.destroy();
    throw new LifeboatError(
      'IDENTITY_REQUIRED',
      `Archive ${archive.id} is encrypted and no identity is configured`,
    );
  }
  return ctx.cipher.decrypt(raw);
}

/** The sha256 and size of an archive as stored. */
export type StoredDigest = StreamDigest;

/**
 * Passes the stored bytes through and fails at their end if they are not the ones checked
 * before (the file was replaced in between): whoever reads it sees the failure before it ends.
 */
function matching(stored: Readable, expected: StoredDigest, file: string): Readable {
  const { stream } = digestTap((read) =>
    read.bytes === expected.bytes && read.sha256 === expected.sha256
      ? undefined
      : new LifeboatError(
          'ARCHIVE_CORRUPT',
          `${file} changed while it was being restored: its bytes no longer match the sha256 checked before`,
        ),
  );
  return pipeline(stored, stream, () => {});
}
