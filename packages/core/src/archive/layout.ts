/**
 * The storage key layout, in one place: archives at the top (`<prefix>_<yyyymmdd>_<hhmmss>.tar.gz`,
 * `.age` when encrypted), Lifeboat's own records under `.lifeboat/` (history, index, lock).
 * Every storage and the engine read it from here.
 */

/** Lifeboat's own records: history, indexes, the lock. */
export const META_PREFIX = '.lifeboat/';

/** What an archive's name starts with (`<prefix>_…`): safe in a file name, a key and a URL. */
export const ARCHIVE_PREFIX_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** An archive's file name ends so (plain or encrypted). */
export const ARCHIVE_FILE_PATTERN = /\.tar\.gz(\.age)?$/;

/** Whether a key is an archive at the top of the storage. */
export const isArchiveKey = (key: string): boolean =>
  !key.includes('/') && ARCHIVE_FILE_PATTERN.test(key);

/** Whether a key is one Lifeboat writes: an archive at the top, or a record under `.lifeboat/`. */
export const isLifeboatKey = (key: string): boolean =>
  key.startsWith(META_PREFIX) || isArchiveKey(key);
