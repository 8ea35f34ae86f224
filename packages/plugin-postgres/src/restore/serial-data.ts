import { type ArchiveEntry, LifeboatError, type Warn } from '@lifeboat/core';
import type { PgClient } from '../connection.js';
import { POST_DATA, type PostgresSummary } from '../summary.js';
import type { RestoreChoices } from './choices.js';
import type { tracker } from './full.js';
import { largeObjectRestore } from './large-objects.js';
import { copyPart, partIndex } from './load.js';

/**
 * The data of a restore on one connection (a full restore into an existing database, a
 * data-only one), in archive order: each table part streamed into COPY and told to `progress`,
 * each large object streamed in. Other entries are the caller's.
 */
export function serialData(
  client: PgClient,
  summary: PostgresSummary,
  choices: RestoreChoices | undefined,
  warn: Warn,
  progress: ReturnType<typeof tracker>,
) {
  const parts = partIndex(summary.tables);
  const large = largeObjectRestore(summary, choices, warn);
  return {
    /** Loads the entry when it is a table part or a large object; skips any other. */
    async take(entry: ArchiveEntry): Promise<void> {
      if (large.isTheirs(entry)) return large.take(entry, client);
      const table = parts.get(entry.relativePath);
      if (table) progress.done(table, await copyPart(client, table, entry.stream), entry.size);
    },
    /**
     * Checks that every part, every large object and post-data (what the caller read of it)
     * arrived, and returns that: a cut archive is no restore.
     */
    complete(postData: string | undefined): string {
      progress.check();
      large.check();
      if (postData === undefined)
        throw new LifeboatError('ENTRY_MISSING', `The archive has no database/${POST_DATA}`);
      return postData;
    },
  };
}
