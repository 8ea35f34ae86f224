import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { META_PREFIX } from '../archive/layout.js';
import type { ArchiveCipher } from '../cipher.js';
import type { Storage } from '../contracts.js';

export { META_PREFIX };
export const HISTORY_PREFIX = `${META_PREFIX}history/`;

/** One run, kept in the storage itself so every host and fresh container sees the same history. */
export interface RunRecord {
  kind: 'backup' | 'verify' | 'prune';
  ok: boolean;
  /** Stopped through its AbortSignal (Ctrl-C, SIGTERM), not failed. */
  cancelled?: boolean;
  id?: string;
  file?: string;
  startedAt: string;
  durationMs: number;
  bytes?: number;
  encrypted?: boolean;
  tables?: { name: string; rows: number; bytes?: number }[];
  files?: number;
  deep?: boolean;
  error?: { code: string; message: string };
  problems?: { code: string; message: string }[];
  notifications?: { notifier: string; ok: boolean; error?: string }[];
  deleted?: string[];
  /** How long the run waited for another run's lock. */
  lockWaitMs?: number;
  /** How many objects the archive lacks (BACKUP_ALLOW_INCOMPLETE); absent when complete. */
  incomplete?: number;
  /** Which ones (sealed with the details in an encrypted setup). */
  leftOut?: { source: string; kind: string; name: string; reason: string }[];
  /** The backup took part of a source, as told (open); `scope` says how (sealed). */
  partial?: boolean;
  scope?: string[];
}

const stamp = (iso: string) => iso.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

/**
 * What an encrypted setup's record shows without the identity: enough for `health` and `status`
 * on a host that only encrypts. Table names and rows, messages (which may quote data), problems
 * and notifications are sealed with the archive's cipher, like the archive index.
 */
const OPEN_FIELDS = [
  'kind',
  'ok',
  'cancelled',
  'id',
  'file',
  'startedAt',
  'durationMs',
  'bytes',
  'encrypted',
  'files',
  'deep',
  'lockWaitMs',
  'incomplete',
  'partial',
] as const satisfies (keyof RunRecord)[];

/** A record as stored by an encrypted setup: the open fields, and the whole record sealed. */
interface SealedRecord extends Partial<RunRecord> {
  sealed: string;
}

async function seal(record: RunRecord, cipher: ArchiveCipher): Promise<SealedRecord> {
  const open: Record<string, unknown> = {};
  for (const field of OPEN_FIELDS) if (record[field] !== undefined) open[field] = record[field];
  if (record.error) open.error = { code: record.error.code, message: 'sealed (encrypted)' };
  const sealed = await buffer(cipher.encrypt(Readable.from([Buffer.from(JSON.stringify(record))])));
  return { ...(open as Partial<RunRecord>), sealed: sealed.toString('base64') };
}

/** The whole record when the identity is at hand, else what was stored in the open. */
async function unseal(stored: SealedRecord, cipher?: ArchiveCipher): Promise<RunRecord> {
  const { sealed, ...open } = stored;
  if (!cipher) return open as RunRecord;
  try {
    const plain = await buffer(cipher.decrypt(Readable.from([Buffer.from(sealed, 'base64')])));
    return JSON.parse(plain.toString('utf8')) as RunRecord;
  } catch {
    return open as RunRecord;
  }
}

/** Stores one run record; with a cipher (an encrypted setup) its details are sealed. */
export async function recordRun(
  storage: Storage,
  record: RunRecord,
  cipher?: ArchiveCipher,
): Promise<void> {
  const key = `${HISTORY_PREFIX}${stamp(record.startedAt)}_${record.kind}_${record.id ?? 'run'}_${Math.random()
    .toString(36)
    .slice(2, 8)}.json`;
  const body = cipher ? await seal(record, cipher) : record;
  await storage.put(key, Buffer.from(JSON.stringify(body, null, 2)), { overwrite: true });
}

export interface HistoryQuery {
  /** Only runs started at or after this time. */
  since?: Date;
  /** Only these kinds of run. */
  kinds?: RunRecord['kind'][];
  /** At most this many records, newest first. */
  limit?: number;
}

const KEY = /^(\d{8}T\d{6}Z)_(backup|verify|prune)_/;

/**
 * The recorded runs, newest first. The time and kind are read from each record's key, so a
 * query for a window or a kind fetches only the records it returns (one request each, a few
 * at a time), however long the history has grown.
 */
export async function readHistory(
  storage: Storage,
  query: HistoryQuery = {},
  /** Opens sealed records when it holds the identity. */
  cipher?: ArchiveCipher,
): Promise<RunRecord[]> {
  const since = query.since ? stamp(query.since.toISOString()) : undefined;
  const keys = (await storage.list(HISTORY_PREFIX))
    .map((o) => o.key)
    .filter((key) => key.endsWith('.json'))
    .filter((key) => {
      const m = KEY.exec(key.slice(HISTORY_PREFIX.length));
      if (!m) return true; // Not named by recordRun: read it to know.
      if (since && m[1]! < since) return false;
      if (query.kinds && !query.kinds.includes(m[2] as RunRecord['kind'])) return false;
      return true;
    })
    .sort()
    .reverse();
  const records: RunRecord[] = [];
  const want = query.limit ?? Number.POSITIVE_INFINITY;
  for (let i = 0; i < keys.length && records.length < want; i += 8) {
    const batch = await Promise.all(
      keys.slice(i, i + 8).map((key) => readRecord(storage, key, cipher)),
    );
    for (const record of batch) {
      if (!record) continue;
      if (query.since && record.startedAt < query.since.toISOString()) continue;
      if (query.kinds && !query.kinds.includes(record.kind)) continue;
      records.push(record);
    }
  }
  return records
    .sort((a, b) => (b.startedAt < a.startedAt ? -1 : b.startedAt > a.startedAt ? 1 : 0))
    .slice(0, Number.isFinite(want) ? want : undefined);
}

async function readRecord(
  storage: Storage,
  key: string,
  cipher?: ArchiveCipher,
): Promise<RunRecord | undefined> {
  try {
    const stored = JSON.parse((await buffer(await storage.get(key))).toString('utf8')) as
      | RunRecord
      | SealedRecord;
    const record =
      stored && typeof (stored as SealedRecord).sealed === 'string'
        ? await unseal(stored as SealedRecord, cipher)
        : (stored as RunRecord);
    return record && typeof record.startedAt === 'string' && typeof record.kind === 'string'
      ? record
      : undefined;
  } catch {
    // A damaged record must not hide the others.
    return undefined;
  }
}

/**
 * When the oldest recorded run of a kind started, from the record keys alone (one list, no
 * record read); undefined when there is none.
 */
export async function oldestRunAt(
  storage: Storage,
  kind: RunRecord['kind'],
): Promise<string | undefined> {
  let oldest: string | undefined;
  for (const { key } of await storage.list(HISTORY_PREFIX)) {
    const m = KEY.exec(key.slice(HISTORY_PREFIX.length));
    if (m && m[2] === kind && (!oldest || m[1]! < oldest)) oldest = m[1]!;
  }
  return oldest
    ? `${oldest.slice(0, 4)}-${oldest.slice(4, 6)}-${oldest.slice(6, 8)}T${oldest.slice(9, 11)}:${oldest.slice(11, 13)}:${oldest.slice(13, 15)}.000Z`
    : undefined;
}

/** Records kept whatever their age: enough for `status` and for a look back after an incident. */
export const HISTORY_KEEP_NEWEST = 100;
/** Records younger than this many days are kept. */
export const HISTORY_KEEP_DAYS = 90;

/**
 * Deletes run records older than `keepSince` (the oldest archive still kept, or
 * HISTORY_KEEP_DAYS ago if that is earlier), never the newest HISTORY_KEEP_NEWEST: the history
 * stays as long as the archives it describes, and stops growing. Only keys are listed; records
 * whose key does not carry a time are left alone. Returns how many were deleted.
 */
export async function pruneHistory(storage: Storage, keepSince: Date, now: Date): Promise<number> {
  const floor = new Date(now.getTime() - HISTORY_KEEP_DAYS * 86400_000);
  const since = stamp((keepSince < floor ? keepSince : floor).toISOString());
  const keys = (await storage.list(HISTORY_PREFIX))
    .map((o) => o.key)
    .filter((key) => key.endsWith('.json') && KEY.test(key.slice(HISTORY_PREFIX.length)))
    .sort()
    .reverse();
  const old = keys
    .slice(HISTORY_KEEP_NEWEST)
    .filter((key) => KEY.exec(key.slice(HISTORY_PREFIX.length))![1]! < since);
  // A few at a time: the first prune of a long history may have thousands to delete.
  for (let i = 0; i < old.length; i += 8)
    await Promise.all(old.slice(i, i + 8).map((key) => storage.delete(key)));
  return old.length;
}
