import type { Storage } from '../contracts.js';
import { INDEX_PREFIX } from '../engine/archive-index.js';

/**
 * Puts a hand-made archive file into a storage with an index record beside it, as a backup
 * leaves one, so that it counts as a backup (`latest`, health, status, retention). The record
 * holds no manifest: a restore of it reads the whole archive, as for any unusable index.
 */
export async function putIndexedArchive(
  storage: Storage,
  file: string,
  body: Buffer | string = 'x',
): Promise<void> {
  await storage.put(file, Buffer.from(body), { overwrite: true });
  // Named as the engine names it: an encrypted archive's index is encrypted too (`.json.age`).
  const key = `${INDEX_PREFIX}${file}.json${file.endsWith('.age') ? '.age' : ''}`;
  await storage.put(key, Buffer.from(JSON.stringify({ archive: file })), { overwrite: true });
}
