import {
  type ArchiveEntry,
  LifeboatError,
  type RestoreReport,
  throwIfAborted,
} from '@lifeboat/core';
import { selectTables } from '../catalog/select.js';
import {
  type ConnectSettings,
  closeQuietly,
  endOnAbort,
  openClient,
  type PgClient,
  qualified,
  quoteIdent,
  withClient,
} from '../connection.js';
import { pgCode, toPgLifeboatError } from '../errors.js';
import { parseNamePattern, tableMatches } from '../name-pattern.js';
import type { ConnectionTarget } from '../options.js';
import type { PostgresSummary, TableSummary } from '../summary.js';
import { checkedColumnTypes } from './column-types.js';
import { copyPart, partIndex } from './load.js';
import { refuseLongName } from './names.js';
import { canHoldTriggers, cascadeError, deleteEffects, orphanedRows } from './replace-checks.js';

export interface PartialRestoreSettings {
  target: ConnectionTarget;
  connect: ConnectSettings;
  tables: string[];
  /** Load into `<table><suffix>` next to the original instead of replacing its rows. */
  asSuffix?: string | undefined;
  clean: boolean;
  signal: AbortSignal;
  report: RestoreReport;
}

interface Named {
  schema: string;
  name: string;
  table?: TableSummary;
}

const isPattern = (name: string) => /[*?]/.test(name.replace(/"(?:[^"]|"")*"/g, ''));

/** The archive's tables matching the names (or pg_dump-style patterns); a partitioned table means all its partitions. */
export function resolveArchiveTables(summary: PostgresSummary, names: string[]): TableSummary[] {
  const entries: Named[] = summary.tables.map((t) => ({
    schema: t.schema,
    name: t.table,
    table: t,
  }));
  const parents = new Map<string, Named>();
  for (const t of summary.tables) {
    if (t.partitionOf) {
      const key = JSON.stringify(t.partitionOf);
      if (!parents.has(key))
        parents.set(key, { schema: t.partitionOf.schema, name: t.partitionOf.table });
    }
  }
  const all = [...entries, ...parents.values()];
  const expand = (n: Named): Named[] => [
    n,
    ...summary.tables
      .filter((t) => t.partitionOf?.schema === n.schema && t.partitionOf.table === n.name)
      .flatMap((t) => expand(entries.find((e) => e.table === t)!)),
  ];
  // A name with * or ? is a pattern, as pg_dump -t reads one ('user*', 'app.*'); others exact.
  const patterns = names.filter(isPattern);
  const exact = names.filter((n) => !isPattern(n));
  // No exact name: start from nothing (an empty include list means every table).
  const selected =
    exact.length > 0 ? selectTables(all, exact, [], 'the archive', expand) : new Set<Named>();
  const missing: string[] = [];
  for (const text of patterns) {
    const pattern = parseNamePattern(text);
    const found = all.filter((t) => tableMatches({ schema: t.schema, table: t.name }, [pattern]));
    if (found.length === 0) missing.push(text);
    for (const t of found) for (const x of expand(t)) selected.add(x);
  }
  if (missing.length > 0) {
    throw new LifeboatError(
      'TABLE_NOT_FOUND',
      `No table in the archive matches ${missing.map((n) => `"${n}"`).join(', ')}`,
      { details: { tables: missing } },
    );
  }
  const chosen = summary.tables.filter((t) => [...selected].some((s) => s.table === t));
  const empty = chosen.filter((t) => t.rowsLeftOut);
  if (empty.length > 0) {
    // Replacing its rows with none would empty the table: refused, not done.
    throw new LifeboatError(
      'CONFIG_INVALID',
      `The archive holds no rows of ${empty.map((t) => t.name).join(', ')}: the backup left them out (exclude table_data)`,
      { hint: 'restore other tables, or an archive taken without that filter line' },
    );
  }
  return chosen;
}

interface Load {
  client: PgClient;
  table: TableSummary;
  rows: number;
  parts: number;
  began: number;
  /** Replaced with triggers held (session_replication_role = replica). */
  held: boolean;
}

/**
 * Partial restore: each selected table is replaced (or loaded next to the original with
 * `asSuffix`) in its own transaction, committed once all its parts are in; a failure rolls
 * back the tables not yet committed and leaves them as they were.
 */
export async function restorePartial(
  entries: AsyncIterable<ArchiveEntry>,
  summary: PostgresSummary,
  settings: PartialRestoreSettings,
  /** The check's connection, handed over (handover.ts); else one is opened. */
  checkedOn?: PgClient,
): Promise<{ tables: { name: string; rows: number; into: string }[] }> {
  const tables = resolveArchiveTables(summary, settings.tables);
  const wanted = new Set(tables);
  const into = (t: TableSummary) => ({
    schema: t.schema,
    table: settings.asSuffix ? `${t.table}${settings.asSuffix}` : t.table,
  });
  // One connection checks the targets and then loads the tables one after another (each in its
  // own transaction); another opens only while two tables' parts are read at once. A connection
  // costs the server a backend and the client a round trip or more.
  let idle: PgClient | undefined =
    checkedOn ?? (await openClient(settings.target, settings.connect, settings.signal));
  endOnAbort(idle, settings.signal);
  let checked: Awaited<ReturnType<typeof checkTargets>>;
  try {
    checked = await checkTargets(idle, tables, summary, settings, into);
  } catch (error) {
    await closeQuietly(idle);
    throw error;
  }
  const { sideTypes, live } = checked;
  let held = false;
  const take = () => {
    const client = idle;
    idle = undefined;
    return client;
  };

  const parts = partIndex(tables);
  const open = new Map<TableSummary, Load>();
  const done: { name: string; rows: number; into: string }[] = [];
  let bytes = 0;
  try {
    for await (const entry of entries) {
      throwIfAborted(settings.signal);
      const table = parts.get(entry.relativePath);
      if (!table || !wanted.has(table)) continue;
      let load = open.get(table);
      if (!load) {
        load = await beginTable(table, settings, into(table), take(), {
          types: sideTypes.get(table) ?? [],
          oid: live.get(table),
        });
        held ||= load.held;
        open.set(table, load);
      }
      load.rows += await copyPart(load.client, table, entry.stream, into(table));
      load.parts += 1;
      bytes += entry.size;
      settings.report.progress({
        item: table.name,
        rows: load.rows,
        bytes,
      });
      if (load.parts === table.parts.length) {
        if (!settings.asSuffix) await advanceSequences(load.client, summary, table);
        await load.client.query('COMMIT');
        open.delete(table);
        // Kept for the next table (or the orphan check); a spare one is closed.
        if (idle) await closeQuietly(load.client);
        else idle = load.client;
        const target = into(table);
        done.push({ name: table.name, rows: load.rows, into: `${target.schema}.${target.table}` });
        settings.report.item({
          kind: 'table',
          name: table.name,
          rows: load.rows,
          durationMs: Math.round(performance.now() - load.began),
        });
      }
    }
    const missing = tables.filter((t) => !done.some((d) => d.name === t.name));
    if (missing.length > 0) {
      throw new LifeboatError(
        'ENTRY_MISSING',
        `The archive lacks data of ${missing.map((t) => t.name).join(', ')}`,
      );
    }
    // With triggers held nothing checked the rows of other tables that point at these.
    if (held) await reportOrphans(tables, live, settings, take());
    await closeQuietly(take());
    return { tables: done };
  } catch (error) {
    for (const load of open.values()) {
      await load.client.query('ROLLBACK').catch(() => {});
      await closeQuietly(load.client);
    }
    await closeQuietly(take());
    const restored =
      done.length > 0 ? ` Already restored: ${done.map((d) => d.name).join(', ')}.` : '';
    const e = toPgLifeboatError(error, 'restoring tables', 'RESTORE_FAILED');
    throw new LifeboatError(
      e.code,
      `${e.message}.${restored} Tables not restored were left as they were.`,
      {
        cause: error,
        retryable: e.retryable,
        details: { written: done },
      },
    );
  }
}

/**
 * Before anything changes: every name is one the server keeps as it is, every live table
 * exists, and with a suffix every side table's name is free (or, with `clean`, a table that is
 * not one of the backed-up database's) and its column types are checked types. Returns the
 * side tables' column types, and the live tables' OIDs.
 */
export async function checkTargets(
  client: PgClient,
  tables: TableSummary[],
  summary: PostgresSummary,
  settings: Pick<PartialRestoreSettings, 'target' | 'asSuffix' | 'clean'>,
  into: (t: TableSummary) => { schema: string; table: string },
): Promise<{ sideTypes: Map<TableSummary, string[]>; live: Map<TableSummary, number> }> {
  const altered = 'Use another archive: a server never names anything longer.';
  for (const t of tables) {
    refuseLongName(
      t.schema,
      `schema name of ${t.name} in the manifest`,
      altered,
      'MANIFEST_INVALID',
    );
    refuseLongName(t.table, `table name of ${t.name} in the manifest`, altered, 'MANIFEST_INVALID');
    for (const c of t.columns)
      refuseLongName(
        c.name,
        `column name of ${t.name} in the manifest`,
        altered,
        'MANIFEST_INVALID',
      );
    if (!settings.asSuffix) continue;
    const target = into(t);
    const shorter = `Choose a shorter --as-suffix (the live table ${t.name} must never be the target).`;
    refuseLongName(target.table, `side table name for ${t.name}`, shorter);
    const live = summary.tables.find((s) => s.schema === target.schema && s.table === target.table);
    if (live) {
      throw new LifeboatError(
        'CONFIG_INVALID',
        `--as-suffix ${settings.asSuffix} would restore ${t.name} into ${live.name}, a table of the backed-up database`,
        { hint: 'Choose another --as-suffix; --clean never replaces a table the backup holds.' },
      );
    }
  }
  const types = new Map<TableSummary, string[]>();
  const live = new Map<TableSummary, number>();
  const version = Number(
    (await client.query('SHOW server_version_num')).rows[0].server_version_num,
  );
  for (const t of tables) {
    const target = into(t);
    const { rows } = await client.query(
      `SELECT c.oid::int8 AS oid, c.relkind FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relname = $2`,
      [target.schema, target.table],
    );
    const found = rows.length > 0;
    const kind = rows[0]?.relkind as string | undefined;
    if (!settings.asSuffix && !found) {
      throw new LifeboatError(
        'TABLE_NOT_FOUND',
        `Table ${t.name} does not exist in database ${settings.target.database}`,
        {
          hint: 'Restore it side by side with --as-suffix, or restore the whole database into a new one.',
        },
      );
    }
    if (!settings.asSuffix) {
      live.set(t, Number(rows[0].oid));
      continue;
    }
    if (found && !settings.clean) {
      throw new LifeboatError(
        'TARGET_NOT_EMPTY',
        `Table ${target.schema}.${target.table} already exists`,
        {
          hint: 'Pass --clean to replace it, or choose another --as-suffix.',
        },
      );
    }
    if (found && kind !== 'r') {
      throw new LifeboatError(
        'CONFIG_INVALID',
        `${target.schema}.${target.table} exists and is not a table (relkind ${kind}): --clean replaces only a side table`,
        { hint: 'Choose another --as-suffix.' },
      );
    }
    types.set(t, await checkedColumnTypes(client, t, version));
  }
  // Deleting the old rows must not reach other tables: refused unless triggers can be held.
  if (live.size > 0 && !(await canHoldTriggers(client))) {
    const found: { table: string; effects: string[] }[] = [];
    for (const [t, oid] of live) {
      const effects = await deleteEffects(client, oid);
      if (effects.length > 0) found.push({ table: t.name, effects });
    }
    if (found.length > 0) throw cascadeError(found);
  }
  return { sideTypes: types, live };
}

/** Warns of rows in other tables whose foreign key finds no row in a restored table. */
async function reportOrphans(
  tables: TableSummary[],
  live: Map<TableSummary, number>,
  settings: PartialRestoreSettings,
  /** The restore's idle connection, if it has one (closed here). */
  idle: PgClient | undefined,
): Promise<void> {
  const check = async (client: PgClient) => {
    for (const t of tables) {
      const oid = live.get(t);
      if (oid === undefined) continue;
      for (const o of await orphanedRows(client, oid, t)) {
        settings.report.warn(
          'ORPHANED_ROWS',
          `${o.rows} ${o.rows === 1 ? 'row' : 'rows'} of ${o.child} (foreign key ${o.key}) refer to no row of ${t.name} as restored (added since the backup, or their row was not in it); foreign keys were held while rows were replaced, so nothing removed them: check them.`,
        );
      }
    }
  };
  if (!idle) return withClient(settings.target, settings.connect, check, settings.signal);
  try {
    await check(idle);
  } finally {
    await closeQuietly(idle);
  }
}

async function beginTable(
  table: TableSummary,
  settings: PartialRestoreSettings,
  target: { schema: string; table: string },
  /** An open connection to use (outside any transaction), else a new one is opened. */
  given: PgClient | undefined,
  checked: {
    /** The side table's column types, checked by the server. */
    types: string[];
    /** The live table's OID (when its rows are replaced). */
    oid: number | undefined;
  },
): Promise<Load> {
  let client = given;
  if (!client) {
    client = await openClient(settings.target, settings.connect, settings.signal);
    endOnAbort(client, settings.signal);
  }
  let held = false;
  try {
    await client.query('BEGIN');
    const name = qualified(target.schema, target.table);
    if (settings.asSuffix) {
      if (settings.clean) await client.query(`DROP TABLE IF EXISTS ${name}`);
      const columns = table.columns
        .map((c, i) => `${quoteIdent(c.name)} ${checked.types[i]}`)
        .join(', ');
      await client.query(`CREATE TABLE ${name} (${columns})`);
    } else {
      // Replica mode: foreign keys and triggers do not fire, so deleting the old rows neither
      // cascades into other tables nor fails on rows that refer to them.
      await client.query('SAVEPOINT replica');
      try {
        await client.query('SET LOCAL session_replication_role = replica');
        held = true;
      } catch (error) {
        if (pgCode(error) !== '42501') throw error;
        await client.query('ROLLBACK TO SAVEPOINT replica');
        // Checked before anything began; checked again under the lock DELETE takes, which keeps
        // new foreign keys to the table out until the commit.
        await client.query(`LOCK TABLE ONLY ${name} IN ROW EXCLUSIVE MODE`);
        const effects = checked.oid === undefined ? [] : await deleteEffects(client, checked.oid);
        if (effects.length > 0) throw cascadeError([{ table: table.name, effects }]);
        settings.report.warn(
          'REPLICA_ROLE_DENIED',
          `Cannot disable triggers while replacing ${table.name} (not a superuser): foreign keys and triggers stay active (none of them reaches another table).`,
        );
      }
      await client.query(`DELETE FROM ONLY ${name}`);
    }
    return { client, table, rows: 0, parts: 0, began: performance.now(), held };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    await closeQuietly(client);
    throw toPgLifeboatError(error, `preparing table ${table.name}`, 'RESTORE_FAILED');
  }
}

/** A sequence owned by the table never goes back below what the restored rows may use. */
async function advanceSequences(
  client: PgClient,
  summary: PostgresSummary,
  table: TableSummary,
): Promise<void> {
  for (const s of summary.sequences) {
    if (s.ownedBy?.schema !== table.schema || s.ownedBy.table !== table.table || !s.isCalled)
      continue;
    const name = qualified(s.schema, s.sequence);
    const { rows } = await client.query('SELECT pg_catalog.to_regclass($1) IS NOT NULL AS found', [
      name,
    ]);
    if (!rows[0].found) continue;
    await client.query(
      `SELECT pg_catalog.setval($1::pg_catalog.regclass, GREATEST(s.last_value, $2::bigint), true) FROM ${name} s`,
      [name, s.lastValue],
    );
  }
}
