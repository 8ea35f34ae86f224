import { buffer } from 'node:stream/consumers';
import { type ArchiveEntry, LifeboatError, throwIfAborted, type Warn } from '@lifeboat/core';
import { type PgClient, qualified } from '../connection.js';
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
  /**
   * What the steps added at the end of the restore, once everything else was in. In a restore
   * into a new database most steps run earlier, each as soon as its table is loaded and
   * indexed, alongside the rest of the loading: they are counted above, not here.
   */
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

/** One step on one connection; a refusal comes as a warning. */
export function statisticsStep(client: PgClient, job: StatisticsJob, warn: Warn): Promise<void> {
  return withScriptWarnings(client, warn, () =>
    runScript(client, job.sql, 'the planner statistics'),
  );
}

/**
 * Which steps a restore into a new database may run as soon as their table's rows, keys and
 * indexes are in (`early`, by the table's quoted name), alongside the loading of the rest, and
 * which wait for the end (`late`). A step waits when its table's statistics need more than
 * that: the job's own reasons (`last`: extended statistics, made in post-data's rest), a
 * partition (its indexes come with its partitioned parent's), a table whose rows come in no
 * part; and every step waits when the scripts could change what ANALYZE reads: statistics
 * targets of indexes set in post-data's rest, or inheritance (ANALYZE of a parent samples its
 * children). Those words in a name or a comment only make every step wait: slower, never wrong.
 */
export function statisticsSchedule(
  jobs: StatisticsJob[],
  summary: PostgresSummary,
  scripts: { preData: string; postDataRest: string },
): { early: Map<string, StatisticsJob>; late: StatisticsJob[] } {
  const early = new Map<string, StatisticsJob>();
  const waitAll =
    /\bINHERITS\b/i.test(scripts.preData) || /\bSET STATISTICS\b/i.test(scripts.postDataRest);
  if (waitAll) return { early, late: jobs };
  const loadedAlone = new Set(
    summary.tables
      .filter((t) => !t.partitionOf && t.parts.length > 0)
      .map((t) => qualified(t.schema, t.table)),
  );
  const late: StatisticsJob[] = [];
  for (const job of jobs) {
    if (!job.last && loadedAlone.has(job.relation) && !early.has(job.relation))
      early.set(job.relation, job);
    else late.push(job);
  }
  return { early, late };
}

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
        await statisticsStep(client, job, warn);
      }
    }),
  );
  return statisticsResult(jobs, Math.round(performance.now() - began));
}

/** What was done, for the result: every step, wherever it ran; `durationMs` the end's. */
export const statisticsResult = (jobs: StatisticsJob[], durationMs: number): StatisticsResult => ({
  imported: jobs.filter((j) => j.kind === 'import').length,
  analyzed: jobs.filter((j) => j.kind === 'analyze').length,
  durationMs,
});
