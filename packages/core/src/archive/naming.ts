import { hostHint, LifeboatError } from '../errors.js';
import { ARCHIVE_FILE_PATTERN, ARCHIVE_PREFIX_PATTERN } from './layout.js';

export const ARCHIVE_EXTENSION = '.tar.gz';
export const ENCRYPTED_EXTENSION = '.tar.gz.age';

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `critical_backup_20261126_194000` for a date, in UTC. */
export function archiveBaseName(prefix: string, date: Date): string {
  return `${prefix}_${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}_${pad(
    date.getUTCHours(),
  )}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}`;
}

export interface ParsedArchiveName {
  /** The archive name without extensions: its id. */
  id: string;
  prefix: string;
  createdAt: Date;
  encrypted: boolean;
}

const NAME = /^(.+)_(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})(?:_(\d+))?\.tar\.gz(\.age)?$/;

/** Parses an archive file name; undefined for anything that is not one. */
export function parseArchiveName(file: string): ParsedArchiveName | undefined {
  const m = NAME.exec(file);
  if (!m) return undefined;
  const [, prefix, y, mo, d, h, mi, s, , age] = m;
  const createdAt = new Date(Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!));
  if (Number.isNaN(createdAt.getTime())) return undefined;
  return {
    id: file.replace(ARCHIVE_FILE_PATTERN, ''),
    prefix: prefix!,
    createdAt,
    encrypted: Boolean(age),
  };
}

/** Strips `.tar.gz` / `.tar.gz.age` / `.tar` so an id can be given with or without extensions. */
export function normalizeArchiveId(idOrFile: string): string {
  const base = idOrFile.split('/').pop() ?? idOrFile;
  return base.replace(/(\.tar\.gz\.age|\.tar\.gz|\.tgz|\.tar)$/, '');
}

/** Picks a name not in `taken`: two backups in the same second get `_2`, `_3`, … */
export function uniqueArchiveId(prefix: string, date: Date, taken: Set<string>): string {
  if (!ARCHIVE_PREFIX_PATTERN.test(prefix)) {
    throw new LifeboatError(
      'CONFIG_INVALID',
      `${hostHint('engine:prefix', 'prefix')} "${prefix}" may hold only letters, digits, ".", "_" and "-"`,
    );
  }
  const base = archiveBaseName(prefix, date);
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base}_${n}`;
    if (!taken.has(candidate)) return candidate;
  }
}

/**
 * Orders archive ids as `localeCompare(…, 'en', { numeric: true })` did for them (`_2` before
 * `_10`), without ICU: a collator touches about 3 MiB of ICU data, a fixed cost of every run.
 * Runs of digits compare by value, the rest case-insensitively, then by code unit.
 */
export function compareIds(a: string, b: string): number {
  const pa = a.match(/\d+|\D+/g) ?? [];
  const pb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    const dx = x.charCodeAt(0) >= 48 && x.charCodeAt(0) <= 57;
    const dy = y.charCodeAt(0) >= 48 && y.charCodeAt(0) <= 57;
    if (dx && dy) {
      const nx = x.replace(/^0+/, '');
      const ny = y.replace(/^0+/, '');
      if (nx.length !== ny.length) return nx.length - ny.length;
      if (nx !== ny) return nx < ny ? -1 : 1;
      continue;
    }
    if (dx !== dy) return dx ? -1 : 1;
    const lx = x.toLowerCase();
    const ly = y.toLowerCase();
    if (lx !== ly) return lx < ly ? -1 : 1;
  }
  if (pa.length !== pb.length) return pa.length - pb.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Newest first: ISO timestamps compare as strings, ties by id (highest first). */
export const newestFirst = (
  a: { createdAt: string; id: string },
  b: { createdAt: string; id: string },
): number =>
  b.createdAt < a.createdAt ? -1 : b.createdAt > a.createdAt ? 1 : compareIds(b.id, a.id);
