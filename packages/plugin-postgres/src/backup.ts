import { Readable } from 'node:stream';
import {
  type BackupContext,
  incompleteError,
  isLifeboatError,
  LifeboatError,
  throwIfAborted,
} from '@lifeboat/core';
import type { Submittable } from 'pg';
import { lockTables, refuseRowSecurity } from './backup-checks.js';
import {
  type BackupSelection,
  includesOnly,
  relationTaken,
  rowsLeftOut,
  type SelectionSummary,
} from './backup-filter.js';
import { leaveOutDependents } from './catalog/left-out.js';
import type { Catalog, TableObj, UnsupportedObj } from './catalog/model.js';
import { renderPostData } from './catalog/post-data.js';
import { renderPreData } from './catalog/pre-data.js';
import { readCatalog } from './catalog/read.js';
import { usedTablespaces } from './catalog/tablespaces.js';
import { findUnknownKinds } from './catalog/unknown-kinds.js';
import {
  type ConnectSettings,
  connectionGroup,
  openAtOnce,
  type PgClient,
  qualified,
  quoteIdent,
} from './connection.js';
import { BatchCopyTo, type BatchPiece, RowAlignedCopyTo } from './copy-out.js';
import { catalogCounts } from './counts.js';
import { databaseTablespace, readDatabaseLocale } from './database-locale.js';
import { backupDatabaseProperties } from './database-properties.js';
import { isConnectionLoss, toPgLifeboatError } from './errors.js';
import { extensionConfigTables, extensionSequenceValues } from './extension-config.js';
import { backupGlobals } from './globals/backup.js';
import type { GlobalsScope } from './globals/read.js';
import { backupLargeObjects, largeObjectsNotSelected } from './large-objects.js';
import type { ConnectionTarget } from './options.js';
import { renderRestorePsql } from './restore-psql.js';
import {
  captureStatistics,
  STATISTICS,
  STATISTICS_SQL,
  summarizeStatistics,
} from './statistics.js';
import { renderStatisticsPsql } from './statistics-sql.js';
import {
  POST_DATA,
  type PostgresSummary,
  PRE_DATA,
  partPath,
  RESTORE_PSQL,
  type SequenceSummary,
  type TableSummary,
} from './summary.js';

export interface BackupSettings {
  target: ConnectionTarget;
  connect: ConnectSettings;
  /** An open connection to start with (the source's check's), instead of opening one. */
  first?: PgClient | undefined;
  tables?: string[] | undefined;
  excludeTables: string[];
  jobs: number;
  partBytes: number;
  /** A table whose heap is bigger than this is copied in page ranges by several workers. */
  splitBytes: number;
  /** Roles to keep in `globals.sql` (BACKUP_GLOBALS); undefined: none. */
  globals?: GlobalsScope | undefined;
  /** pg_dump's pattern selection (filter file, BACKUP_SCHEMAS…); undefined: none. */
  filter?: BackupSelection | undefined;
  /** What the manifest records of the selection. */
  selection?: SelectionSummary | undefined;
}

const BEGIN_SNAPSHOT = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY';

/**
 * Fail closed: objects the archive cannot hold fail the backup before any row is copied, unless
 * the setup allows an incomplete archive; then they, and everything that needs them (pg_depend),
 * are left out and named, so the archive never holds DDL that fails on what is missing.
 */
async function leaveOutWhatCannotBeKept(
  ctx: BackupContext,
  client: PgClient,
  read: Awaited<ReturnType<typeof readCatalog>>,
): Promise<{ catalog: Catalog; notSelected: UnsupportedObj[]; leftOut: UnsupportedObj[] }> {
  const missing = [...read.catalog.unsupported, ...(await findUnknownKinds(client))];
  if (missing.length === 0)
    return { catalog: read.catalog, notSelected: read.skipped, leftOut: [] };
  const plain = (list: UnsupportedObj[]) =>
    list.map(({ kind, name, reason }) => ({ kind, name, reason }));
  if (!ctx.allowIncomplete) throw incompleteError('postgres', plain(missing));
  const { catalog, dependents } = await leaveOutDependents(client, read.catalog, missing);
  const leftOut = [...plain(missing), ...dependents];
  ctx.leaveOut(leftOut);
  return { catalog, notSelected: read.skipped, leftOut };
}

/**
 * One consistent backup: a REPEATABLE READ transaction exports its snapshot, every worker
 * connection imports it, so all tables are copied as of the same instant. The catalog is read
 * in the same snapshot. Tables are streamed as CSV parts of about `partBytes`.
 */
export async function backupDatabase(
  ctx: BackupContext,
  settings: BackupSettings,
): Promise<PostgresSummary> {
  const internal = new AbortController();
  const signal = AbortSignal.any([ctx.signal, internal.signal]);
  const group = connectionGroup(settings.target, settings.connect, signal);
  const open = group.open;
  let joining: Promise<unknown> | undefined;
  try {
    const main = settings.first ? await group.adopt(settings.first) : await open();
    // One backup of a database at a time, across every replica that backs it up, whatever their
    // storages: a session advisory lock on the main connection, released when it closes (also
    // when the process dies).
    const locked = await main.query(
      "SELECT pg_catalog.pg_try_advisory_lock(pg_catalog.hashtextextended('lifeboat:backup:' || pg_catalog.current_database(), 0)) AS ok",
    );
    if (locked.rows[0]?.ok !== true) {
      throw new LifeboatError(
        'LOCKED',
        `Another Lifeboat backup of ${catalogName(settings)} is running`,
        {
          retryable: true,
          hint: 'Wait for it to finish; replicas sharing this database take turns.',
        },
      );
    }
    let snapshot: string | undefined;
    await main.query(BEGIN_SNAPSHOT);
    try {
      snapshot = (await main.query('SELECT pg_catalog.pg_export_snapshot() AS id')).rows[0]
        .id as string;
    } catch (error) {
      if (isConnectionLoss(error)) throw error;
      // Some servers (old standbys, poolers) cannot export a snapshot: copy on one connection.
      await main.query('ROLLBACK');
      await main.query(BEGIN_SNAPSHOT);
      ctx.warn(
        'SNAPSHOT_NOT_EXPORTED',
        'The server cannot export a snapshot; tables are copied one at a time.',
      );
    }
    const workers: PgClient[] = [main];
    // Workers join the snapshot all at once (over a network each connection costs several round
    // trips) while this connection starts reading the catalog; the first one to join reads part
    // of it (from the constraints on). Each imports the exported snapshot, so whenever it joins
    // it sees the database as of the instant the snapshot was taken.
    const connections = snapshot ? settings.jobs : 1;
    const joined = openAtOnce(connections - 1, async () => {
      const worker = await open();
      await worker.query(BEGIN_SNAPSHOT);
      await worker.query(`SET TRANSACTION SNAPSHOT '${snapshot}'`);
      return worker;
    });
    joining = joined;
    joined.catch(() => {});
    const helperJoined = joined.then((j) => j.opened[0]);
    helperJoined.catch(() => {});

    const read = await readCatalog(
      main,
      {
        tables: settings.tables,
        excludeTables: settings.excludeTables,
        filter: settings.filter,
        // Locked as soon as they are known, before the rest of the catalog is read.
        tablesSelected: async (tables) => {
          await lockTables(main, tables);
          await refuseRowSecurity(main, tables);
        },
      },
      helperJoined,
    );
    const { opened, refused } = await joined;
    // Workers only add speed: with the snapshot exported, fewer still give the same backup.
    workers.push(...opened);
    if (refused > 0) {
      ctx.warn(
        'FEWER_WORKERS',
        `The server refused ${refused} of ${connections - 1} worker connections (no free connection); copying with ${workers.length}.`,
      );
    }
    const { catalog, notSelected, leftOut } = await leaveOutWhatCannotBeKept(ctx, main, read);
    // Planner statistics as of the snapshot (a restore makes the copy plan as the source did):
    // read by the helper while this connection counts and renders (a tenth of the catalog time).
    const helper = workers[1];
    const statisticsRead = helper ? captureStatistics(helper, catalog) : undefined;
    statisticsRead?.catch(() => {});
    // pg_dump --exclude-table-data: the table stays without its rows. A sequence is a relation
    // to it too: one the pattern matches keeps no value; one a table owns keeps its own.
    const emptyTables = new Set(catalog.tables.filter((t) => rowsLeftOut(settings.filter, t)));
    for (const seq of catalog.sequences)
      if (rowsLeftOut(settings.filter, seq)) seq.valueLeftOut = true;
    // pg_dump -n and -t leave out what lies outside any schema: extensions' rows, large objects.
    const everything = !settings.tables && !(settings.filter && includesOnly(settings.filter));
    const post = renderPostData(catalog, { attachKeysFromBytes: settings.partBytes });
    // Left out because the backup was told to take only some tables, as pg_dump -t does.
    for (const u of [...notSelected, ...post.skipped]) {
      ctx.warn('POSTGRES_NOT_SELECTED', `Not backed up: ${u.kind} ${u.name} (${u.reason})`, {
        ...u,
      });
    }
    const counts = await catalogCounts(main, [
      ...catalog.tables.map((t) => t.oid),
      ...catalog.views.map((v) => v.oid),
      ...catalog.sequences.map((s) => s.oid),
    ]);
    counts.functions = catalog.functions.length;
    counts.types =
      catalog.types.length + catalog.objects.filter((o) => o.kind === 'range type').length;

    // Before pre-data: a restore reads the entries in order and makes the roles first.
    const globals = settings.globals
      ? await backupGlobals(ctx, main, settings.globals, catalog.serverVersionNum, catalog.database)
      : undefined;
    await ctx.emit({ path: PRE_DATA, type: 'file', body: Buffer.from(renderPreData(catalog)) });
    const extensionSequences = everything ? await extensionSequenceValues(main) : '';
    await ctx.emit({
      path: POST_DATA,
      type: 'file',
      body: Buffer.from(post.sql + extensionSequences),
    });
    await backupDatabaseProperties(ctx, main);
    const statistics = await (statisticsRead ?? captureStatistics(main, catalog));
    await ctx.emit({
      path: STATISTICS,
      type: 'file',
      body: Buffer.from(`${JSON.stringify(statistics)}\n`),
    });
    await ctx.emit({
      path: STATISTICS_SQL,
      type: 'file',
      body: Buffer.from(renderStatisticsPsql(statistics)),
    });

    const dataTables = catalog.tables.filter((t) => t.kind === 'r' && !emptyTables.has(t));
    const jobs = await planCopyJobs(main, catalog, dataTables, {
      split: Boolean(snapshot) && workers.length > 1,
      splitBytes: settings.splitBytes,
    });
    const results = new Map<TableObj, TableSummary>();
    const tableStates = new Map<TableObj, TableState>();
    const state: CopyState = {
      bytes: 0,
      total: dataTables.reduce((n, t) => n + t.sizeBytes, 0),
      open: new Set(),
    };
    const queue = [...jobs];
    const stateOf = (job: CopyJob) => {
      let table = tableStates.get(job.table);
      if (!table) {
        table = newTableState(job);
        tableStates.set(job.table, table);
      }
      return table;
    };
    await Promise.all(
      workers.map(async (client) => {
        for (let job = queue.shift(); job; job = queue.shift()) {
          throwIfAborted(signal);
          const batch = [job];
          // Small tables go several to a query: one round trip for many.
          if (isSmall(job, settings.partBytes)) {
            let bytes = job.table.sizeBytes;
            while (
              batch.length < BATCH_TABLES &&
              queue[0] &&
              isSmall(queue[0], settings.partBytes)
            ) {
              bytes += queue[0].table.sizeBytes;
              if (bytes > settings.partBytes) break;
              batch.push(queue.shift()!);
            }
          }
          if (batch.length > 1) {
            const states = batch.map(stateOf);
            await copyBatch(ctx, client, batch, states, settings.partBytes, state);
            for (const [i, b] of batch.entries()) {
              settleEstimate(state, states[i]!);
              results.set(b.table, finishTable(ctx, states[i]!, catalog));
            }
            continue;
          }
          const table = stateOf(job);
          await copyRange(ctx, client, job, table, settings.partBytes, state);
          if (--table.pendingRanges === 0) {
            settleEstimate(state, table);
            results.set(job.table, finishTable(ctx, table, catalog));
          }
        }
      }),
    ).catch((error) => {
      // One worker failed: stop the others at once, then report the first failure.
      internal.abort(error);
      throw error;
    });
    // Rows of extensions' configuration tables, through each extension's filter (pg_dump's).
    const configTables: TableSummary[] = [];
    const configs = everything ? await extensionConfigTables(main) : [];
    for (const c of configs.filter(
      (x) => !settings.filter || relationTaken(settings.filter, x.table),
    )) {
      const job: CopyJob = { table: c.table, ranges: 1, where: c.where };
      const table = newTableState(job);
      await copyRange(ctx, main, job, table, settings.partBytes, state);
      configTables.push({ ...finishTable(ctx, table, catalog), extension: c.extension });
    }
    const large = everything
      ? await backupLargeObjects(ctx, main)
      : await largeObjectsNotSelected(ctx, main);
    for (const client of workers) await client.query('COMMIT');

    const summary: PostgresSummary = {
      format: 1,
      serverVersion: catalog.serverVersion,
      serverVersionNum: catalog.serverVersionNum,
      database: catalog.database,
      encoding: catalog.encoding,
      locale: await readDatabaseLocale(main, catalog.serverVersionNum),
      ...(snapshot ? { snapshot } : {}),
      partBytes: settings.partBytes,
      // Archive order of the tables is the catalog order, so restore.psql is stable.
      tables: [
        ...catalog.tables
          .filter((t) => results.has(t) || emptyTables.has(t))
          .map((t) => results.get(t) ?? withoutRows(t, catalog)),
        ...configTables,
      ],
      sequences: sequenceSummaries(catalog),
      catalog: counts,
      unsupported: leftOut,
      ...(large && large.summary.count > 0 ? { largeObjects: large.summary } : {}),
      ...(globals ? { globals } : {}),
      statistics: summarizeStatistics(statistics),
      ...tablespacesOf(catalog, await databaseTablespace(main)),
      ...(settings.selection ? { selection: settings.selection } : {}),
    };
    await ctx.emit({
      path: RESTORE_PSQL,
      type: 'file',
      body: Buffer.from(renderRestorePsql(summary, large?.oids)),
    });
    return summary;
  } catch (error) {
    if (ctx.signal.aborted)
      throw new LifeboatError('ABORTED', undefined, { cause: ctx.signal.reason });
    const reason = internal.signal.aborted ? internal.signal.reason : error;
    throw isLifeboatError(reason) ? reason : toPgLifeboatError(reason, 'backing up the database');
  } finally {
    internal.abort(new LifeboatError('ABORTED', 'backup finished'));
    // A worker still joining would be added to the group after closeAll: wait for it first.
    await joining?.catch(() => {});
    await group.closeAll();
  }
}

/** One COPY: a whole table, or a range of its heap pages (a big table is copied by several). */
export interface CopyJob {
  table: TableObj;
  /** Heap pages [from, to): `to` undefined is open-ended, so rows on pages added later count too. */
  pages?: { from: number; to?: number };
  ranges: number;
  /** An extension configuration table's filter (`WHERE …`, or ''): only those rows. */
  where?: string;
}

interface TableState {
  table: TableObj;
  name: string;
  began: number;
  parts: string[];
  rows: number;
  bytes: number;
  pendingRanges: number;
  ranges: number;
}

const newTableState = (job: CopyJob): TableState => ({
  table: job.table,
  name: `${job.table.schema}.${job.table.name}`,
  began: performance.now(),
  parts: [],
  rows: 0,
  bytes: 0,
  pendingRanges: job.ranges,
  ranges: job.ranges,
});

/**
 * The order tables are copied in is the order a restore loads them. Tables that foreign keys
 * point to go first, so keys can be validated while the big tables still load; then biggest
 * first. A table bigger than `splitBytes` is copied in ranges of heap pages by several workers
 * at once (TID range scans, PostgreSQL 14+): no single COPY is the long pole of a backup, and a
 * restore gets the biggest table early and whole, so its indexes and keys (the longest part of
 * post-data) build while the other tables load. (Measured: interleaving its parts with other
 * tables' to spare the restore two COPYs into one table left those builds for the end: slower.)
 */
export async function planCopyJobs(
  client: PgClient,
  catalog: Catalog,
  tables: TableObj[],
  options: { split: boolean; splitBytes: number },
): Promise<CopyJob[]> {
  const referenced = new Set(
    catalog.constraints.filter((c) => c.type === 'f').map((c) => c.refTableOid),
  );
  const ordered = [...tables].sort(
    (a, b) =>
      Number(referenced.has(b.oid)) - Number(referenced.has(a.oid)) || b.sizeBytes - a.sizeBytes,
  );
  const canSplit = options.split && catalog.serverVersionNum >= 140000;
  const big = canSplit
    ? ordered.filter((t) => t.sizeBytes > options.splitBytes && t.columns.length > 0)
    : [];
  const pages = new Map<number, { pages: number; bytes: number }>();
  if (big.length > 0) {
    const { rows } = await client.query(
      "SELECT c.oid::int8 AS oid, pg_catalog.pg_relation_size(c.oid, 'main') AS bytes, pg_catalog.pg_relation_size(c.oid, 'main') / pg_catalog.current_setting('block_size')::int8 AS pages FROM pg_catalog.pg_class c WHERE c.oid = ANY($1::oid[])",
      [big.map((t) => t.oid)],
    );
    for (const r of rows)
      pages.set(Number(r.oid), { pages: Number(r.pages), bytes: Number(r.bytes) });
  }
  const jobs: CopyJob[] = [];
  for (const table of ordered) {
    const heap = pages.get(table.oid) ?? { pages: 0, bytes: 0 };
    const total = heap.pages;
    const ranges = Math.min(64, Math.ceil(heap.bytes / options.splitBytes));
    if (ranges < 2) {
      jobs.push({ table, ranges: 1 });
      continue;
    }
    const step = Math.ceil(total / ranges);
    for (let i = 0; i < ranges; i++) {
      jobs.push({
        table,
        ranges,
        pages: { from: i * step, ...(i < ranges - 1 ? { to: (i + 1) * step } : {}) },
      });
    }
  }
  return jobs;
}

function copySql(job: CopyJob): { sql: string; columns: TableObj['columns'] } {
  const { table } = job;
  const columns = table.columns.filter((c) => c.generated === '');
  const names = columns.map((c) => quoteIdent(c.name)).join(', ');
  const options = 'WITH (FORMAT csv, HEADER true)';
  if (job.where !== undefined) {
    return {
      sql: `COPY (SELECT ${names} FROM ONLY ${qualified(table.schema, table.name)} ${job.where}) TO STDOUT ${options}`,
      columns,
    };
  }
  if (!job.pages) {
    return {
      sql: `COPY ${qualified(table.schema, table.name)}${names ? ` (${names})` : ''} TO STDOUT ${options}`,
      columns,
    };
  }
  const { from, to } = job.pages;
  const where = [
    `ctid >= '(${from},0)'::pg_catalog.tid`,
    ...(to !== undefined ? [`ctid < '(${to},0)'::pg_catalog.tid`] : []),
  ].join(' AND ');
  return {
    sql: `COPY (SELECT ${names} FROM ONLY ${qualified(table.schema, table.name)} WHERE ${where}) TO STDOUT ${options}`,
    columns,
  };
}

/** Up to this many small tables are copied by one query. */
const BATCH_TABLES = 64;

/** CSV bytes copied so far, and the estimate of the whole: the catalog's sizes at first. */
interface CopyState {
  bytes: number;
  total: number;
  /** Tables under way: their CSV may already outgrow their catalog size. */
  open: Set<TableState>;
}

/**
 * Adds one data part of a table (its COPY header and `bytes` bytes of rows) and tells the
 * progress. Parts are numbered when emitted: ranges and batches copied at once share a table's
 * numbering.
 */
async function emitTablePart(
  ctx: BackupContext,
  job: CopyJob,
  table: TableState,
  state: CopyState,
  header: Buffer,
  chunks: Buffer[],
  bytes: number,
): Promise<void> {
  const path = partPath(job.table.schema, job.table.name, table.parts.length + 1);
  table.parts.push(path);
  table.bytes += bytes;
  state.bytes += bytes;
  const body = [header, ...chunks];
  await ctx.emit({
    path,
    type: 'file',
    size: header.length + bytes,
    body: () => Readable.from(body),
  });
  ctx.progress({
    item: table.name,
    rows: table.rows,
    bytes: state.bytes,
    totalBytes: estimate(state, table),
  });
}

/**
 * The estimate grows with tables that write more CSV than the catalog said (compressed TOAST
 * values do, many times over), so a progress display never passes 100% before the end…
 */
function estimate(state: CopyState, table: TableState): number {
  state.open.add(table);
  let over = 0;
  for (const t of state.open) over += Math.max(0, t.bytes - t.table.sizeBytes);
  return state.total + over;
}

/** …and a finished table's real size replaces its catalog size in it. */
function settleEstimate(state: CopyState, table: TableState): void {
  state.open.delete(table);
  state.total += table.bytes - table.table.sizeBytes;
}

/** Small enough to share a query with others: the planner's size says well under one part. */
const isSmall = (job: CopyJob, partBytes: number) =>
  job.ranges === 1 && job.table.sizeBytes <= partBytes / 8;

async function copyBatch(
  ctx: BackupContext,
  client: PgClient,
  jobs: CopyJob[],
  tables: TableState[],
  partBytes: number,
  state: CopyState,
): Promise<void> {
  const stream = new BatchCopyTo(jobs.map((j) => copySql(j).sql).join(';\n'), partBytes);
  const emitted = new Set<number>();
  try {
    client.query(stream as unknown as Submittable);
    for await (const piece of stream as AsyncIterable<BatchPiece>) {
      const table = tables[piece.index];
      const job = jobs[piece.index];
      if (!table || !job) throw new Error(`COPY batch sent a result for statement ${piece.index}`);
      table.rows += piece.rows;
      // Every table leaves at least one part (a header alone for an empty table).
      if (piece.bytes === 0 && (!piece.last || emitted.has(piece.index))) continue;
      emitted.add(piece.index);
      await emitTablePart(ctx, job, table, state, piece.header, piece.chunks, piece.bytes);
    }
    const missing = tables.findIndex((_, i) => !emitted.has(i));
    if (missing >= 0) throw new Error(`COPY batch sent nothing for ${tables[missing]!.name}`);
  } catch (error) {
    const at = tables[Math.max(0, stream.current)]?.name ?? tables[0]!.name;
    throw toPgLifeboatError(error, `copying table ${at}`);
  }
}

const partBuffers = new WeakMap<PgClient, Buffer>();

/** The connection's part buffer: room for a part and the chunk that takes it past partBytes. */
function partBuffer(client: PgClient, partBytes: number): Buffer {
  const room = partBytes + 256 * 1024;
  let buffer = partBuffers.get(client);
  if (!buffer || buffer.length !== room) {
    buffer = Buffer.allocUnsafeSlow(room);
    partBuffers.set(client, buffer);
  }
  return buffer;
}

async function copyRange(
  ctx: BackupContext,
  client: PgClient,
  job: CopyJob,
  table: TableState,
  partBytes: number,
  state: CopyState,
): Promise<void> {
  const { sql } = copySql(job);
  let emitted = 0;
  const emitPart = async (header: Buffer, chunks: Buffer[], size: number) => {
    emitted++;
    await emitTablePart(ctx, job, table, state, header, chunks, size);
  };
  try {
    // Chunks end at row boundaries: a part is cut at the first chunk end past partBytes.
    const stream = new RowAlignedCopyTo(sql);
    client.query(stream as unknown as Submittable);
    // The rows are copied into the connection's part buffer, reused part after part (an added
    // entry's chunks are free, see ArchiveWriter.add): the socket's chunks die young, and the
    // parts are no garbage for the memory guard's full collections to wait for.
    const part = partBuffer(client, partBytes);
    let copied = 0;
    let tail: Buffer | undefined;
    let size = 0;
    let counted = 0;
    const count = () => {
      table.rows += stream.rows - counted;
      counted = stream.rows;
    };
    const pieces = () => [part.subarray(0, copied), ...(tail ? [tail] : [])];
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      // A chunk that does not fit (rows of hundreds of KiB) goes as it is, and ends the part.
      if (copied + chunk.length <= part.length) copied += chunk.copy(part, copied);
      else tail = chunk;
      size += chunk.length;
      if (size >= partBytes) {
        count();
        await emitPart(stream.header!, pieces(), size);
        copied = size = 0;
        tail = undefined;
      }
    }
    count();
    if (!stream.header) throw new Error('COPY sent no header line');
    // Every range leaves at least one part (a header alone for an empty range).
    if (size > 0 || emitted === 0) await emitPart(stream.header, pieces(), size);
  } catch (error) {
    throw toPgLifeboatError(error, `copying table ${table.name}`);
  }
}

/** A table whose rows the selection leaves out (exclude table_data): no parts, on purpose. */
function withoutRows(t: TableObj, catalog: Catalog): TableSummary {
  return { ...tableShape(t, catalog), rows: 0, bytes: 0, parts: [], rowsLeftOut: true };
}

function tableShape(t: TableObj, catalog: Catalog) {
  const columns = t.columns.filter((c) => c.generated === '');
  const parent = t.partitionBound ? catalog.tables.find((p) => p.oid === t.parents[0]) : undefined;
  return {
    name: `${t.schema}.${t.name}`,
    schema: t.schema,
    table: t.name,
    columns: columns.map((c) => ({
      name: c.name,
      type: c.type,
      // A side-by-side restore creates the table from these: a column's own collation too.
      ...(c.collation ? { collation: c.collation } : {}),
    })),
    ...(parent ? { partitionOf: { schema: parent.schema, table: parent.name } } : {}),
  };
}

function finishTable(ctx: BackupContext, table: TableState, catalog: Catalog): TableSummary {
  const durationMs = Math.round(performance.now() - table.began);
  ctx.item({
    kind: 'table',
    name: table.name,
    rows: table.rows,
    bytes: table.bytes,
    durationMs,
  });
  const { columns, partitionOf, ...shape } = tableShape(table.table, catalog);
  // Key order as before: name, schema, table, rows, bytes, parts, columns…
  return {
    ...shape,
    rows: table.rows,
    bytes: table.bytes,
    parts: table.parts,
    columns,
    ...(partitionOf ? { partitionOf } : {}),
    ...(table.ranges > 1 ? { ranges: table.ranges } : {}),
  };
}

const catalogName = (settings: BackupSettings) => `database "${settings.target.database}"`;

function sequenceSummaries(catalog: Catalog): SequenceSummary[] {
  const byOid = new Map(catalog.tables.map((t) => [t.oid, t]));
  return catalog.sequences.map((s) => {
    const owner = s.identityOf ?? s.ownedBy;
    const table = owner ? byOid.get(owner.tableOid) : undefined;
    return {
      schema: s.schema,
      sequence: s.name,
      lastValue: s.lastValue,
      isCalled: s.isCalled,
      ...(owner && table
        ? { ownedBy: { schema: table.schema, table: table.name, column: owner.column } }
        : {}),
    };
  });
}

/** The summary's tablespace fields: only those there are. */
function tablespacesOf(
  catalog: Parameters<typeof usedTablespaces>[0],
  database: string | null,
): Pick<PostgresSummary, 'tablespaces' | 'databaseTablespace'> {
  const used = usedTablespaces(catalog);
  return {
    ...(used.length > 0 ? { tablespaces: used } : {}),
    ...(database && database !== 'pg_default' ? { databaseTablespace: database } : {}),
  };
}
