import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes the metrics atomically, as node_exporter's textfile collector requires: a temporary
 * file in the same folder (not ending in `.prom`, so the collector never reads it half written),
 * flushed to disk, then renamed over the old one. Readable by others (0644): the collector
 * usually runs as another user, and metrics hold no secret.
 */
export async function writeMetricsFile(file: string, text: string): Promise<void> {
  const temp = join(
    dirname(file),
    `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  const handle = await open(temp, 'wx', 0o644);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
}
