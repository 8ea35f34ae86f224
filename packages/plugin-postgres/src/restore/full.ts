import {
  type ArchiveEntry,
  type LifeboatEmitter,
  LifeboatError,
  throwIfAborted,
} from '@lifeboat/core';
import { splitPostData } from '../catalog/post-data.js';
import {
  type ConnectSettings,
  closeQuietly,
  endOnAbort,
  openClient,
  type PgClient,
} from '../connection.js';
import { toPgLifeboatError } from '../errors.js';
import type { ConnectionTarget } from '../options.js';
import { POST_DATA, type PostgresSummary, PRE_DATA, type TableSummary } from '../summary.js';
import { copyPart, partIndex, readAll, runScript } from './load.js';
import {
  cleanDatabase,
  dropDatabase,
  ensureDatabase,
  notEmptyError,
  userObjects,
} from './target.js';

export interface FullRestoreSettings {
  target: ConnectionTarget;
  connect: ConnectSettings;
  parallel: number;
  clean: boolean;
  signal: AbortSignal;
  events: LifeboatEmitter;
}

export interface FullRestoreResult {
  database: string;
  created: boolean;
  tables: { name: string; rows: number }[];
}

/** Counts rows per table as parts load, and reports progress and finished tables. */
function tracker(summary: PostgresSummary, events: LifeboatEmitter) {
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
      events.emit('restore:progress', {
        source: 'postgres',
        item: table.name,
        rows: state.rows,
        bytes,
        totalBytes,
      });
      if (state.parts === table.parts.length) {
        events.emit('restore:table', {
          table: table.name,
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
  const created = await ensureDatabase(settings.target, settings.connect);
  try {
    const progress = tracker(summary, settings.events);
    if (created) await loadParallel(entries, summary, settings, progress);
    else await loadInOneTransaction(entries, summary, settings, progress);
    return {
      database: settings.target.database,
      created,
      tables: summary.tables.map((t) => ({
        name: t.name,
        rows: progress.loaded.get(t)?.rows ?? 0,
      })),
    };
  } catch (error) {
    if (created) await dropDatabase(settings.target, settings.connect).catch(() => {});
    throw error;
  }
}

async function loadInOneTransaction(
  entries: AsyncIterable<ArchiveEntry>,
  summary: PostgresSummary,
  settings: FullRestoreSettings,
  progress: ReturnType<typeof tracker>,
): Promise<void> {
  const client = await openClient(settings.target, settings.connect, settings.signal);
  const stop = endOnAbort(client, settings.signal);
  try {
    if (!settings.clean) {
      const objects = await userObjects(client);
      if (objects.length > 0) throw notEmptyError(settings.target, objects);
    }
    await client.query('BEGIN');
    if (settings.clean) await cleanDatabase(client);
    const parts = partIndex(summary.tables);
    let post: string | undefined;
    for await (const entry of entries) {
      throwIfAborted(settings.signal);
      if (entry.relativePath === PRE_DATA)
        await runScript(client, (await readAll(entry.stream)).toString(), PRE_DATA);
      else if (entry.relativePath === POST_DATA) post = (await readAll(entry.stream)).toString();
      else {
        const table = parts.get(entry.relativePath);
        if (table) progress.done(table, await copyPart(client, table, entry.stream), entry.size);
      }
    }
    progress.check();
    if (post === undefined)
      throw new LifeboatError('ENTRY_MISSING', `The archive has no database/${POST_DATA}`);
    await runScript(client, post, POST_DATA);
    await client.query('COMMIT');
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
  summary: PostgresSummary,
  settings: FullRestoreSettings,
  progress: ReturnType<typeof tracker>,
): Promise<void> {
  const internal = new AbortController();
  const signal = AbortSignal.any([settings.signal, internal.signal]);
  const clients: PgClient[] = [];
  const open = async () => {
    const c = await openClient(settings.target, settings.connect, signal);
    clients.push(c);
    endOnAbort(c, signal);
    // A new database is dropped on failure anyway: durability per commit buys nothing here,
    // and index builds get room to sort in memory.
    await c.query("SET synchronous_commit = off; SET maintenance_work_mem = '256MB'");
    return c;
  };
  try {
    const main = await open();
    const idle: PgClient[] = [];
    const waiting: ((c: PgClient) => void)[] = [];
    const running = new Set<Promise<void>>();
    let failure: unknown;
    const release = (c: PgClient) => {
      const next = waiting.shift();
      if (next) next(c);
      else idle.push(c);
    };
    const acquire = () => {
      const c = idle.pop();
      return c ? Promise.resolve(c) : new Promise<PgClient>((resolve) => waiting.push(resolve));
    };
    const parts = partIndex(summary.tables);
    let post: string | undefined;
    let preDone = false;
    for await (const entry of entries) {
      if (failure) break;
      throwIfAborted(signal);
      if (entry.relativePath === PRE_DATA) {
        await runScript(main, (await readAll(entry.stream)).toString(), PRE_DATA);
        preDone = true;
        // Workers connect once the tables exist; the main connection is one of them.
        idle.push(main);
        for (let i = 1; i < settings.parallel; i++) idle.push(await open());
      } else if (entry.relativePath === POST_DATA) post = (await readAll(entry.stream)).toString();
      else {
        const table = parts.get(entry.relativePath);
        if (!table) continue;
        if (!preDone)
          throw new LifeboatError(
            'ARCHIVE_CORRUPT',
            `Table data comes before database/${PRE_DATA}`,
          );
        // At most `parallel` parts in memory: wait for a free connection before reading the next.
        const client = await acquire();
        const data = await readAll(entry.stream);
        const job = copyPart(client, table, data)
          .then((rows) => progress.done(table, rows, data.length))
          .catch((error) => {
            failure ??= error;
            internal.abort(error);
          })
          .finally(() => {
            running.delete(job);
            release(client);
          });
        running.add(job);
      }
    }
    await Promise.all(running);
    if (failure) throw failure;
    progress.check();
    if (post === undefined)
      throw new LifeboatError('ENTRY_MISSING', `The archive has no database/${POST_DATA}`);
    // Keys and indexes are built in parallel, one per connection; foreign keys too when they
    // share no table; the rest runs in order.
    const { parallel, foreignKeys, rest } = splitPostData(post);
    let next = 0;
    await Promise.all(
      clients.map(async (client) => {
        for (let sql = parallel[next++]; sql !== undefined; sql = parallel[next++]) {
          throwIfAborted(signal);
          await runScript(client, sql, POST_DATA);
        }
      }),
    );
    await runWithoutSharedTables(clients, foreignKeys, signal);
    await runScript(main, `BEGIN;\n${rest}\nCOMMIT;`, POST_DATA);
  } catch (error) {
    internal.abort(error);
    throw toPgLifeboatError(error, 'restoring the database', 'RESTORE_FAILED');
  } finally {
    await Promise.all(clients.map(closeQuietly));
  }
}

/** Runs foreign keys over the connections, never two at once that lock the same table. */
async function runWithoutSharedTables(
  clients: PgClient[],
  jobs: { sql: string; tables: string[] }[],
  signal: AbortSignal,
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
          await runScript(client, job!.sql, POST_DATA);
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
