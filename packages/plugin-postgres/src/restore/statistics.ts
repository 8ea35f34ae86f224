import { buffer } from 'node:stream/consumers';
import { type ArchiveEntry, LifeboatError, throwIfAborted, type Warn } from '@lifeboat/core';
import type { PgClient } from '../connection.js';
import { type ArchivedStatistics, STATISTICS } from '../statistics.js';
import {
  analyzeJob,
  groupStatistics,
  type StatisticsJob,
  statisticsJob,
} from '../statistics-sql.js';
import type { PostgresSummary } from '../summary.js';
import { dataWanted, type RestoreChoices } from './choices.js';
import { runScript, withScriptWarnings } from './load.js';
import type { PostgresRestoreOptions } from './options.js';

/** What putting the planner statistics back did (in a full restore's result). */
export interface StatisticsResult {
  /** Tables whose statistics (and their indexes') were imported (PostgreSQL 18+). */
  imported: number;
  /** Tables analysed (older servers, extended statistics, archives without statistics). */
  analyzed: number;
  durationMs: number;
}

/** `noAnalyze: true` (CLI --no-analyze): neither import nor ANALYZE; autovacuum analyses later. */
export const statisticsWanted = (options: PostgresRestoreOptions) => options.noAnalyze !== true;

/** Keeps `statistics.json` aside as the entries go by. */
export function statisticsEntry() {
  let stats: ArchivedStatistics | undefined;
  return {
    isTheirs: (entry: ArchiveEntry) => entry.relativePath === STATISTICS,
    async take(entry: ArchiveEntry): Promise<void> {
      try {
        stats = JSON.parse((await buffer(entry.stream)).toString()) as ArchivedStatistics;
      } catch (error) {
        throw new LifeboatError('ARCHIVE_CORRUPT', `database/${STATISTICS} is not JSON`, {
          cause: error,
        });
      }
    },
    get value() {
      return stats;
    },
  };
}

/**
 * The steps for the tables this restore made: schemas left out and tables whose rows are left
 * out get none (an empty table must not claim the source's rows). An archive from before
 * statistics gets ANALYZE of its loaded tables.
 */
export function statisticsJobs(
  stats: ArchivedStatistics | undefined,
  summary: PostgresSummary,
  choices: RestoreChoices | undefined,
  targetVersion: number,
): StatisticsJob[] {
  const wanted = (schema: string, table: string) =>
    !choices || dataWanted(choices, { schema, table });
  const jobs = stats
    ? groupStatistics(stats)
        .filter((g) => wanted(g.relation.schema, g.relation.name))
        .flatMap((g) => statisticsJob(g, stats.version, targetVersion) ?? [])
    : summary.tables
        .filter((t) => wanted(t.schema, t.table))
        .map((t) => analyzeJob(t.schema, t.table, t.bytes / 8192));
  return jobs.sort((a, b) => b.pages - a.pages);
}

export const serverVersion = async (client: PgClient): Promise<number> =>
  Number(
    (await client.query("SELECT pg_catalog.current_setting('server_version_num') AS v")).rows[0].v,
  );

/** Runs the steps over the connections, each taking the next; refusals come as warnings. */
export async function runStatistics(
  clients: PgClient[],
  jobs: StatisticsJob[],
  warn: Warn,
  signal: AbortSignal,
): Promise<StatisticsResult> {
  const began = performance.now();
  const queue = [...jobs];
  await Promise.all(
    clients.map(async (client) => {
      for (let job = queue.shift(); job; job = queue.shift()) {
        throwIfAborted(signal);
        const sql = job.sql;
        await withScriptWarnings(client, warn, () =>
          runScript(client, sql, 'the planner statistics'),
        );
      }
    }),
  );
  return {
    imported: jobs.filter((j) => j.kind === 'import').length,
    analyzed: jobs.filter((j) => j.kind === 'analyze').length,
    durationMs: Math.round(performance.now() - began),
  };
}
