import { LifeboatError } from '@lifeboat/core';
import { type ConnectSettings, closeQuietly, openClient } from './connection.js';
import { toPgLifeboatError } from './errors.js';
import { type ConnectionTarget, describeTarget } from './options.js';

/**
 * A session advisory lock named after the database, held on its own connection for the whole
 * run. Every replica of a backend that backs up this database takes the same lock, whatever its
 * storage; if the holder dies, its connection ends and the server releases the lock.
 */
export async function advisoryLock(
  target: ConnectionTarget,
  connect: ConnectSettings,
  options: { waitMs: number; signal?: AbortSignal },
): Promise<{ release(): Promise<void> }> {
  const key = `lifeboat:backup:${target.database}`;
  const client = await openClient(target, connect, options.signal);
  const deadline = Date.now() + options.waitMs;
  try {
    for (;;) {
      const { rows } = await client.query(
        'SELECT pg_catalog.pg_try_advisory_lock(pg_catalog.hashtextextended($1, 0)) AS ok',
        [key],
      );
      if (rows[0]?.ok === true) break;
      if (Date.now() >= deadline) {
        throw new LifeboatError(
          'LOCKED',
          `Another Lifeboat run holds the advisory lock of ${describeTarget(target)}`,
          { retryable: true, hint: 'Wait for the other backup or prune to finish.' },
        );
      }
      if (options.signal?.aborted)
        throw new LifeboatError('ABORTED', undefined, { cause: options.signal.reason });
      await new Promise((r) => setTimeout(r, Math.min(500, Math.max(20, deadline - Date.now()))));
    }
  } catch (error) {
    await closeQuietly(client);
    throw error instanceof LifeboatError
      ? error
      : toPgLifeboatError(error, 'taking the advisory lock');
  }
  return {
    async release() {
      await client
        .query('SELECT pg_catalog.pg_advisory_unlock(pg_catalog.hashtextextended($1, 0))', [key])
        .catch(() => {});
      await closeQuietly(client);
    },
  };
}
