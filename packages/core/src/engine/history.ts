import { buffer } from 'node:stream/consumers';
import type { Storage } from '../contracts.js';

export const META_PREFIX = '.lifeboat/';
export const HISTORY_PREFIX = '.lifeboat/history/';

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
}

const stamp = (iso: string) => iso.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

export async function recordRun(storage: Storage, record: RunRecord): Promise<void> {
  const key = `${HISTORY_PREFIX}${stamp(record.startedAt)}_${record.kind}_${record.id ?? 'run'}_${Math.random()
    .toString(36)
    .slice(2, 8)}.json`;
  await storage.put(key, Buffer.from(JSON.stringify(record, null, 2)), { overwrite: true });
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
    const batch = await Promise.all(keys.slice(i, i + 8).map((key) => readRecord(storage, key)));
    for (const record of batch) {
      if (!record) continue;
      if (query.since && record.startedAt < query.since.toISOString()) continue;
      if (query.kinds && !query.kinds.includes(record.kind)) continue;
      records.push(record);
    }
  }
  return records
    .sort((a, b) => b.startedAt.localeCompare(a.startedAt))
    .slice(0, Number.isFinite(want) ? want : undefined);
}

async function readRecord(storage: Storage, key: string): Promise<RunRecord | undefined> {
  try {
    const record = JSON.parse((await buffer(await storage.get(key))).toString('utf8')) as RunRecord;
    return record && typeof record.startedAt === 'string' && typeof record.kind === 'string'
      ? record
      : undefined;
  } catch {
    // A damaged record must not hide the others.
    return undefined;
  }
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
