import {
  type ArchiveEntry,
  LifeboatError,
  type RestoreReport,
  throwIfAborted,
  type Warn,
} from '@lifeboat/core';
import { type PostDataPlan, splitPostData } from '../catalog/post-data.js';
import { splitBatches } from '../catalog/pre-data.js';
import { STEP_SKIPPED } from '../catalog/step-guard.js';
import {
  type ConnectSettings,
  closeQuietly,
  connectionGroup,
  endOnAbort,
  openAtOnce,
  openClient,
  type PgClient,
  qualified,
} from '../connection.js';
import { databaseProperties } from '../database-properties.js';
import { toPgLifeboatError } from '../errors.js';
import { applyGlobals } from '../globals/restore.js';
import type { ConnectionTarget } from '../options.js';
import {
  GLOBALS,
  POST_DATA,
  type PostgresSummary,
  PRE_DATA,
  type TableSummary,
} from '../summary.js';
import { choicesOf, chosenScript, type RestoreChoices } from './choices.js';
import { largeObjectRestore } from './large-objects.js';
import { copyPart, partIndex, readAhead, runScript, withScriptWarnings } from './load.js';
import { serialData } from './serial-data.js';
import {
  runStatistics,
  type StatisticsResult,
  serverVersion,
  statisticsEntry,
  statisticsJobs,
  statisticsResult,
  statisticsSchedule,
  statisticsStep,
} from './statistics.js';
import {
  cleanDatabase,
  databaseDefaultTablespace,
  dropDatabase,
  ensureDatabase,
  notEmptyError,
  resolveTablespaces,
  userObjects,
} from './target.js';

export interface FullRestoreSettings {
  target: ConnectionTarget;
  connect: ConnectSettings;
  jobs: number;
  clean: boolean;
  /** What the restore leaves out (owners, grants, schemas…). */
  choices?: RestoreChoices;
  /** Make the archive's roles first (`globals.sql`), before pre-data. */
  globals?: boolean;
  /** Put planner statistics back (import on 18+, else ANALYZE) once everything is built. */
  statistics: boolean;
  signal: AbortSignal;
  report: RestoreReport;
  /** The target was created while the archive was checked (prepare.ts), with these warnings. */
  prepared?: { warnings: Parameters<Warn>[] };
}

export interface FullRestoreResult {
  database: string;
  created: boolean;
  tables: { name: string; rows: number }[];
  /**
   * SECURITY DEFINER functions and views whose owner could not be set: they run with the
   * restoring user's rights (each also a RUNS_AS_RESTORER warning).
   */
  runsAsRestorer: string[];
  /**
   * Post-data steps not run because they would have run functions of the source's roles as the
   * restoring user (each also a RESTORE_STEP_SKIPPED warning saying how to run it).
   */
  skippedSteps: string[];
  /** Roles `--globals` created (absent without it). */
  rolesCreated?: number;
  /** Planner statistics put back (absent with `noAnalyze`). */
  statistics?: StatisticsResult;
}

/** Counts rows per table as parts load, and reports progress and finished tables. */
export function tracker(summary: PostgresSummary, report: RestoreReport) {
  const began = performance.now();
  const loaded = new Map<TableSummary, { rows: number; parts: number }>();
  let bytes = 0;
  const totalBytes = summary.tables.reduce((n, t) => n + t.bytes, 0);
  return {
    loaded,
    done(table: TableSummary, rows: number, size: number) {
      const state = loaded.get(table) ?? { rows: 0, parts: 0 };
      state.rows += rows;
      state.parts += 1;
      loaded.set(table, state);
      bytes += size;
      report.progress({
        item: table.name,
        rows: state.rows,
        bytes,
        totalBytes,
      });
      if (state.parts === table.parts.length) {
        report.item({
          kind: 'table',
          name: table.name,
          rows: state.rows,
          durationMs: Math.round(performance.now() - began),
        });
      }
    },
    /** Every part of every table arrived (an archive cut short must not pass as a restore). */
    check() {
      for (const t of summary.tables) {
        if ((loaded.get(t)?.parts ?? 0) !== t.parts.length) {
          throw new LifeboatError('ENTRY_MISSING', `The archive lacks data of table ${t.name}`);
        }
      }
    },
  };
}

/**
 * Full restore. Into a database it creates, tables load in parallel (a failure drops the new
 * database). Into an existing database (empty, or emptied by `clean`) everything runs in one
 * transaction on one connection, so a failure leaves it exactly as it was.
 */
export async function restoreFull(
  entries: AsyncIterable<ArchiveEntry>,
  summary: PostgresSummary,
  settings: FullRestoreSettings,
): Promise<FullRestoreResult> {
  // Where the archive's tablespaces go, checked on the target first (TABLESPACE_MISSING).
  const named = [
    ...new Set([
      ...(summary.tablespaces ?? []),
      ...(summary.databaseTablespace ? [summary.databaseTablespace] : []),
    ]),
  ];
  const choices = named.length > 0 ? (settings.choices ?? choicesOf({})) : settings.choices;
  if (choices && !choices.noTablespaces && named.length > 0) {
    choices.tablespaceTargets = await resolveTablespaces(
      named,
      choices.tablespaceMap,
      settings.target,
      settings.connect,
      settings.report.warn,
    );
  }
  if (choices) settings = { ...settings, choices };
  const databaseTablespace =
    summary.databaseTablespace && choices && !choices.noTablespaces
      ? choices.tablespaceTargets?.get(summary.databaseTablespace) || undefined
      : undefined;
  if (settings.prepared) for (const w of settings.prepared.warnings) settings.report.warn(...w);
  const created =
    settings.prepared !== undefined ||
    (await ensureDatabase(
      settings.target,
      settings.connect,
      summary.locale,
      settings.report.warn,
      databaseTablespace,
    ));
  if (choices?.tablespaceTargets) {
    // The database's own default is said as '': the server refuses to name it for a
    // partitioned table ("cannot specify default tablespace for partitioned relations").
    const own = await databaseDefaultTablespace(settings.target, settings.connect);
    for (const [name, to] of choices.tablespaceTargets)
      if (to === own) choices.tablespaceTargets.set(name, '');
  }
  const runsAsRestorer: string[] = [];
  const skippedSteps: string[] = [];
  const roles = { created: undefined as number | undefined };
  // The scripts' warnings also make the result's lists: each is noted on its way out.
  const { progress: told, item, warn } = settings.report;
  const noting: Warn = (code, message, details) => {
    if (code === 'RUNS_AS_RESTORER') runsAsRestorer.push(message.replace(/ runs with .*$/s, ''));
    if (code === STEP_SKIPPED) skippedSteps.push(message.replace(/ not run: .*$/s, ''));
    warn(code, message, details);
  };
  settings = { ...settings, report: { progress: told, item, warn: noting } };
  try {
    const progress = tracker(summary, settings.report);
    const properties = databaseProperties();
    const rest = properties.intercept(entries);
    let statistics: StatisticsResult | undefined;
    const load: Load = { summary, settings, progress, roles };
    if (created) {
      statistics = await loadParallel(rest, load, () =>
        properties.ownerSql(settings.target.database, settings.choices),
      );
      // As pg_restore --create: the database's own properties, once everything is in.
      const { target, connect, choices, report, signal } = settings;
      await properties.apply(target, connect, choices, report.warn, signal);
    } else statistics = await loadInOneTransaction(rest, load);
    return {
      database: settings.target.database,
      created,
      tables: summary.tables.map((t) => ({
        name: t.name,
        rows: progress.loaded.get(t)?.rows ?? 0,
      })),
      runsAsRestorer,
      skippedSteps,
      ...(roles.created !== undefined ? { rolesCreated: roles.created } : {}),
      ...(statistics ? { statistics } : {}),
    };
  } catch (error) {
    if (created) await dropDatabase(settings.target, settings.connect).catch(() => {});
    throw error;
  }
}

/** What both ways of loading work with; `roles` is filled in with the roles `--globals` made. */
interface Load {
  summary: PostgresSummary;
  settings: FullRestoreSettings;
  progress: ReturnType<typeof tracker>;
  roles: { created: number | undefined };
}

async function loadInOneTransaction(
  entries: AsyncIterable<ArchiveEntry>,
  { summary, settings, progress, roles }: Load,
): Promise<StatisticsResult | undefined> {
  const client = await openClient(settings.target, settings.connect, settings.signal);
  const stop = endOnAbort(client, settings.signal);
  try {
    if (!settings.clean) {
      const objects = await userObjects(client);
      if (objects.length > 0) throw notEmptyError(settings.target, objects);
    }
    await client.query('BEGIN');
    if (settings.clean) await cleanDatabase(client);
    const data = serialData(client, summary, settings.choices, settings.report.warn, progress);
    const stats = statisticsEntry();
    let post: string | undefined;
    for await (const entry of entries) {
      throwIfAborted(settings.signal);
      if (entry.relativePath === GLOBALS) {
        // In the restore's transaction: a failure takes the roles back too.
        if (settings.globals)
          roles.created = await applyGlobals(client, entry.stream, settings.report.warn);
      } else if (entry.relativePath === PRE_DATA) {
        const pre = await chosenScript(entry, settings.choices, summary);
        await withScriptWarnings(client, settings.report.warn, () =>
          runScript(client, pre, PRE_DATA),
        );
      } else if (entry.relativePath === POST_DATA) {
        post = await chosenScript(entry, settings.choices, summary);
      } else if (stats.isTheirs(entry)) {
        await stats.take(entry);
      } else await data.take(entry);
    }
    const postData = data.complete(post);
    await withScriptWarnings(client, settings.report.warn, () =>
      runScript(client, postData, POST_DATA),
    );
    // In the transaction: a restore that fails leaves no statistics behind either.
    const statistics = settings.statistics
      ? await runStatistics(
          [client],
          statisticsJobs(stats.value, summary, settings.choices, await serverVersion(client)),
          settings.report.warn,
          settings.signal,
        )
      : undefined;
    await client.query('COMMIT');
    return statistics;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    stop();
    await closeQuietly(client);
  }
}

async function loadParallel(
  entries: AsyncIterable<ArchiveEntry>,
  { summary, settings, progress, roles }: Load,
  /** The new database's owner statement, run before the rest of post-data (and its report). */
  databaseOwner?: () => string | undefined,
): Promise<StatisticsResult | undefined> {
  const internal = new AbortController();
  const signal = AbortSignal.any([settings.signal, internal.signal]);
  // A new database is dropped on failure anyway: durability per commit buys nothing here,
  // and index builds get room to sort in memory.
  const group = connectionGroup(settings.target, settings.connect, signal, (c) =>
    c.query("SET synchronous_commit = off; SET maintenance_work_mem = '256MB'"),
  );
  const { open, clients } = group;
  let workersOpening: Promise<unknown> | undefined;
  try {
    const main = await open();
    // The other connections open while pre-data runs on this one (their round trips and the
    // server's start of each backend overlap its statements: ~20-40 ms of a scale-1 restore);
    // they join the pool once the tables exist. A refusal waits for pre-data to be told.
    const workers = openAtOnce(settings.jobs - 1, open);
    workersOpening = workers.catch(() => {});
    const pool = connectionPool();
    const running = new Set<Promise<void>>();
    let failure: unknown;
    /**
     * Runs `work` on the next free connection. Resolves once it has one (not when the work is
     * done), so a caller can bound what it reads ahead; the first failure stops everything.
     */
    const start = (work: (client: PgClient) => Promise<void>, later = false): Promise<void> => {
      let acquired!: () => void;
      const hasConnection = new Promise<void>((resolve) => {
        acquired = resolve;
      });
      const job: Promise<void> = (async () => {
        const client = await pool.acquire(later);
        acquired();
        try {
          await work(client);
        } finally {
          pool.release(client);
        }
      })()
        .catch((error) => {
          failure ??= error;
          internal.abort(error);
          acquired();
        })
        .finally(() => running.delete(job));
      running.add(job);
      return hasConnection;
    };
    // A post-data step on a worker: its warnings (a step skipped) are reported too.
    const postStep = (client: PgClient, sql: string) =>
      withScriptWarnings(client, settings.report.warn, () => runScript(client, sql, POST_DATA));
    const parts = partIndex(summary.tables);
    const large = largeObjectRestore(summary, settings.choices, settings.report.warn);
    const stats = statisticsEntry();
    let plan: PostDataPlan | undefined;
    let post: string | undefined;
    let preDone = false;
    // Keys and indexes of a table are built as soon as its last part is in, while other
    // tables still load: the connections never wait for the slowest table. A foreign key runs
    // as soon as both its tables are loaded and indexed, never two at once on one table (each
    // locks its tables against the other).
    const byTable = new Map<string, PostDataPlan['parallel']>();
    const built = new Set<PostDataPlan['parallel'][number]>();
    const unbuilt = new Map<string, number>();
    const loadedTables = new Set<string>();
    const dataTables = new Set(summary.tables.map((t) => qualified(t.schema, t.table)));
    let pendingKeys: PostDataPlan['foreignKeys'] = [];
    const keyBusy = new Set<string>();
    const ready = (name: string) =>
      dataTables.has(name) && loadedTables.has(name) && (unbuilt.get(name) ?? 0) === 0;
    // Planner statistics of a table as soon as it is loaded and indexed, on whichever
    // connection is free, instead of all at the end (statisticsSchedule says which may).
    // ANALYZE locks its table against a foreign key's validation: never both at once.
    let statisticsJobsAll: ReturnType<typeof statisticsJobs> | undefined;
    let earlyStatistics = new Map<string, ReturnType<typeof statisticsJobs>[number]>();
    let lateStatistics: ReturnType<typeof statisticsJobs> = [];
    let preDataSql = '';
    // They wait for a connection nothing else wants (loading, keys and indexes come first: the
    // biggest table's chain of them is what the restore waits for).
    const startStatistics = () => {
      for (const [name, job] of earlyStatistics) {
        if (!ready(name) || keyBusy.has(name)) continue;
        earlyStatistics.delete(name);
        void start(async (client) => {
          // A foreign key took the table while this waited: again once it is done.
          if (keyBusy.has(name)) {
            earlyStatistics.set(name, job);
            return;
          }
          keyBusy.add(name);
          try {
            await statisticsStep(client, job, settings.report.warn);
          } finally {
            keyBusy.delete(name);
          }
          startForeignKeys();
        }, true);
      }
    };
    const startForeignKeys = () => {
      for (const job of pendingKeys) {
        if (!job.tables.every((t) => ready(t) && !keyBusy.has(t))) continue;
        for (const t of job.tables) keyBusy.add(t);
        pendingKeys = pendingKeys.filter((j) => j !== job);
        void start(async (client) => {
          try {
            await postStep(client, job.sql);
          } finally {
            for (const t of job.tables) keyBusy.delete(t);
          }
          startForeignKeys();
        });
      }
      startStatistics();
    };
    const buildFor = (table: TableSummary) => {
      const name = qualified(table.schema, table.table);
      loadedTables.add(name);
      for (const statement of byTable.get(name) ?? []) {
        built.add(statement);
        void start(async (client) => {
          await postStep(client, statement.sql);
          for (const t of statement.tables) unbuilt.set(t, (unbuilt.get(t) ?? 1) - 1);
          startForeignKeys();
        });
      }
      startForeignKeys();
    };
    const loadedParts = new Map<TableSummary, number>();
    for await (const entry of entries) {
      if (failure) break;
      throwIfAborted(signal);
      if (entry.relativePath === GLOBALS) {
        // Committed as they are made: roles belong to the server, not to the new database
        // (dropped on failure), and a second run only adds what is still missing.
        if (settings.globals)
          roles.created = await applyGlobals(main, entry.stream, settings.report.warn);
      } else if (entry.relativePath === PRE_DATA) {
        // Batch by batch: the database is new (dropped on failure), and one transaction for
        // thousands of tables would run out of lock slots.
        preDataSql = await chosenScript(entry, settings.choices, summary);
        const batches = splitBatches(preDataSql);
        await withScriptWarnings(main, settings.report.warn, async () => {
          for (const batch of batches) await runScript(main, batch, PRE_DATA);
        });
        preDone = true;
        // Workers (opened all at once) load once the tables exist; the main connection is one.
        pool.release(main);
        const { opened, refused } = await workers;
        // More connections only add speed: load over the ones the server gave.
        for (const worker of opened) pool.release(worker);
        if (refused > 0) {
          settings.report.warn(
            'FEWER_WORKERS',
            `The server refused ${refused} of ${settings.jobs - 1} more connections (no free connection); loading over ${settings.jobs - refused}.`,
          );
        }
      } else if (entry.relativePath === POST_DATA) {
        post = await chosenScript(entry, settings.choices, summary);
        plan = splitPostData(post);
        for (const statement of plan.parallel) {
          for (const t of statement.tables) {
            byTable.set(t, [...(byTable.get(t) ?? []), statement]);
            unbuilt.set(t, (unbuilt.get(t) ?? 0) + 1);
          }
        }
        pendingKeys = [...plan.foreignKeys];
      } else if (stats.isTheirs(entry)) {
        await stats.take(entry);
      } else if (large.isTheirs(entry)) {
        if (!preDone)
          throw new LifeboatError(
            'ARCHIVE_CORRUPT',
            `Large objects come before database/${PRE_DATA}`,
          );
        // One at a time, streamed: a large object is never held whole.
        const client = await pool.acquire();
        try {
          await large.take(entry, client);
        } finally {
          pool.release(client);
        }
      } else {
        const table = parts.get(entry.relativePath);
        if (!table) continue;
        if (!preDone)
          throw new LifeboatError(
            'ARCHIVE_CORRUPT',
            `Table data comes before database/${PRE_DATA}`,
          );
        if (!statisticsJobsAll && settings.statistics && plan && stats.value) {
          // The archive's statistics.json and post-data come before its table data.
          statisticsJobsAll = statisticsJobs(
            stats.value,
            summary,
            settings.choices,
            await serverVersion(main),
          );
          ({ early: earlyStatistics, late: lateStatistics } = statisticsSchedule(
            statisticsJobsAll,
            summary,
            { preData: preDataSql, postDataRest: plan.rest },
          ));
        }
        const loaded = (rows: number, bytes: number) => {
          progress.done(table, rows, bytes);
          const done = (loadedParts.get(table) ?? 0) + 1;
          loadedParts.set(table, done);
          if (done === table.parts.length) buildFor(table);
        };
        if (settings.jobs <= 1) {
          // One connection: the part streams from the archive into COPY as it is inflated
          // (reading still overlaps loading, chunk by chunk), and no part is held whole. This
          // is what keeps a restore under BACKUP_MEMORY_LIMIT (README, Performance).
          let copied!: Promise<void>;
          await start((client) => {
            copied = copyPart(client, table, entry.stream).then((rows) => loaded(rows, entry.size));
            return copied;
          });
          await copied;
          continue;
        }
        // Several connections: the part's COPY starts once one is free, and the rest of the
        // part is read into its buffer meanwhile, so the archive goes on to the next part (for
        // the next free connection) while this one loads. At most `parallel` parts are in
        // memory, each shrinking as it is sent, and none waits whole for a connection.
        let ahead: ReturnType<typeof readAhead> | undefined;
        await start(async (client) => {
          ahead = readAhead(entry.stream, entry.size);
          loaded(await copyPart(client, table, ahead.data), entry.size);
        });
        // A failed COPY ends its buffer: the failure it reports is the one that counts.
        await ahead?.read.catch((error: unknown) => {
          if (!failure) throw error;
        });
      }
    }
    while (running.size > 0) await Promise.all(running);
    if (failure) throw failure;
    progress.check();
    large.check();
    if (post === undefined || !plan)
      throw new LifeboatError('ENTRY_MISSING', `The archive has no database/${POST_DATA}`);
    // What no loaded table triggered (partitioned parents, older archives) runs now.
    for (const statement of plan.parallel) {
      if (!built.has(statement)) void start((client) => postStep(client, statement.sql));
    }
    while (running.size > 0) await Promise.all(running);
    if (failure) throw failure;
    // Keys on tables without data of their own (partitioned parents), or left for the end.
    await runWithoutSharedTables(clients, pendingKeys, signal, postStep);
    // The new database is dropped on failure: pieces may commit on their own.
    const owner = databaseOwner?.();
    const pieces = owner ? [owner, ...plan.restPieces] : plan.restPieces;
    await withScriptWarnings(main, settings.report.warn, async () => {
      for (const piece of pieces) await runScript(main, `BEGIN;\n${piece}\nCOMMIT;`, POST_DATA);
    });
    // What did not run alongside the loading, once every index is built (CREATE INDEX sets its
    // table's pg_class numbers), over all the connections: on a big database ANALYZE is
    // minutes of work.
    if (!settings.statistics) return undefined;
    const jobs =
      statisticsJobsAll ??
      statisticsJobs(stats.value, summary, settings.choices, await serverVersion(main));
    // The steps whose tables never became ready (a guarded index skipped…) run now too.
    const left = statisticsJobsAll
      ? [...lateStatistics, ...earlyStatistics.values()].sort((a, b) => b.pages - a.pages)
      : jobs;
    const end = await runStatistics(clients, left, settings.report.warn, signal);
    return statisticsResult(jobs, end.durationMs);
  } catch (error) {
    internal.abort(error);
    throw toPgLifeboatError(error, 'restoring the database', 'RESTORE_FAILED');
  } finally {
    // None left opening behind the restore (a failure in pre-data).
    await workersOpening;
    await group.closeAll();
  }
}

/** Free connections, handed out in arrival order, work asked for `later` last. */
function connectionPool() {
  const idle: PgClient[] = [];
  const waiting: { resolve: (c: PgClient) => void; later: boolean }[] = [];
  return {
    /** `later`: only once nobody else waits (work that fills gaps, off the critical path). */
    acquire: (later = false) => {
      const c = idle.pop();
      return c
        ? Promise.resolve(c)
        : new Promise<PgClient>((resolve) => waiting.push({ resolve, later }));
    },
    release: (c: PgClient) => {
      const first = waiting.findIndex((w) => !w.later);
      const [next] = waiting.splice(Math.max(first, 0), 1);
      if (next) next.resolve(c);
      else idle.push(c);
    },
  };
}

/** Runs foreign keys over the connections, never two at once that lock the same table. */
async function runWithoutSharedTables(
  clients: PgClient[],
  jobs: { sql: string; tables: string[] }[],
  signal: AbortSignal,
  run: (client: PgClient, sql: string) => Promise<void>,
): Promise<void> {
  const pending = [...jobs];
  const busy = new Set<string>();
  let wake: () => void = () => {};
  await Promise.all(
    clients.map(async (client) => {
      for (;;) {
        throwIfAborted(signal);
        const index = pending.findIndex((job) => job.tables.every((t) => !busy.has(t)));
        if (index < 0) {
          if (pending.length === 0) return;
          await new Promise<void>((resolve) => {
            const previous = wake;
            wake = () => {
              previous();
              resolve();
            };
          });
          continue;
        }
        const [job] = pending.splice(index, 1);
        for (const t of job!.tables) busy.add(t);
        try {
          await run(client, job!.sql);
        } finally {
          for (const t of job!.tables) busy.delete(t);
          const w = wake;
          wake = () => {};
          w();
        }
      }
    }),
  );
}
