import type { Storage } from '../contracts.js';

export const META_PREFIX = '.lifeboat/';
export const HISTORY_PREFIX = '.lifeboat/history/';

/** One run, kept in the storage itself so every host and fresh container sees the same history. */
export interface RunRecord {
  kind: 'backup' | 'verify' | 'prune';
  ok: boolean;
  id?: string;
  file?: string;
  startedAt: string;
  durationMs: number;
  bytes?: number;
  encrypted?: boolean;
  tables?: { name: string; rows: number }[];
  files?: number;
  deep?: boolean;
  error?: { code: string; message: string };
  problems?: { code: string; message: string }[];
  notifications?: { notifier: string; ok: boolean; error?: string }[];
  deleted?: string[];
}

const stamp = (iso: string) => iso.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

export async function recordRun(storage: Storage, record: RunRecord): Promise<void> {
  const key = `${HISTORY_PREFIX}${stamp(record.startedAt)}_${record.kind}_${record.id ?? 'run'}_${Math.random()
    .toString(36)
    .slice(2, 8)}.json`;
  await storage.put(key, Buffer.from(JSON.stringify(record, null, 2)), { overwrite: true });
}

export async function readHistory(storage: Storage): Promise<RunRecord[]> {
  const objects = await storage.list(HISTORY_PREFIX);
  const records: RunRecord[] = [];
  for (const object of objects) {
    if (!object.key.endsWith('.json')) continue;
    try {
      const stream = await storage.get(object.key);
      const chunks: Buffer[] = [];
      for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
      records.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as RunRecord);
    } catch {
      // A damaged record must not hide the others.
    }
  }
  return records.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}
