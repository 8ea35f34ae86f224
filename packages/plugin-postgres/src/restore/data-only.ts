import { buffer } from 'node:stream/consumers';
import {
  type ArchiveEntry,
  LifeboatError,
  type RestoreReport,
  throwIfAborted,
} from '@lifeboat/core';
import { type ConnectSettings, type PgClient, qualified, withClient } from '../connection.js';
import { pgCode, toPgLifeboatError } from '../errors.js';
import { type ConnectionTarget, describeTarget } from '../options.js';
import { POST_DATA, type PostgresSummary, type TableSummary } from '../summary.js';
import { type RestoreChoices, sequenceValues } from './choices.js';
import { tracker } from './full.js';
import { runScript } from './load.js';
import { serialData } from './serial-data.js';

/**
 * `--data-only`, as `pg_restore --data-only --disable-triggers`: rows into tables that exist
 * already (made by a `--schema-only` restore, or by the application's migrations), then the
 * sequence values and the large objects; nothing is created or dropped. Unlike pg_restore it
 * refuses tables that hold rows (appending to them is rarely meant and fails half-way on a key),
 * checked before anything is written; `--tables` is the way to replace some tables' rows.
 */

export interface DataOnlySettings {
  target: ConnectionTarget;
  connect: ConnectSettings;
  choices: RestoreChoices;
  signal: AbortSignal;
  report: RestoreReport;
}

/**
 * The precondition, checked without writing: every table whose rows load exists in the target
 * and is empty. TABLE_NOT_FOUND or TARGET_NOT_EMPTY names them all at once.
 */
export async function checkDataOnly(
  client: PgClient,
  target: ConnectionTarget,
  tables: TableSummary[],
) {
  const missing: string[] = [];
  const holding: string[] = [];
  for (const t of tables) {
    const name = qualified(t.schema, t.table);
    const { rows } = await client.query('SELECT pg_catalog.to_regclass($1) IS NOT NULL AS found', [
      name,
    ]);
    if (!rows[0].found) {
      missing.push(t.name);
      continue;
    }
    const { rows: any } = await client.query(`SELECT EXISTS (SELECT FROM ONLY ${name}) AS rows`);
    if (any[0].rows) holding.push(t.name);
  }
  const where = describeTarget(target);
  if (missing.length > 0) {
    throw new LifeboatError(
      'TABLE_NOT_FOUND',
      `--data-only loads rows into existing tables; ${where} lacks ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`,
      {
        hint: 'Create the tables first: restore the same archive with --schema-only into it (or run your migrations), then --data-only.',
        details: { missing },
      },
    );
  }
  if (holding.length > 0) {
    throw new LifeboatError(
      'TARGET_NOT_EMPTY',
      `--data-only loads into empty tables; in ${where} these hold rows: ${holding.slice(0, 5).join(', ')}${holding.length > 5 ? ` and ${holding.length - 5} more` : ''}`,
      {
        hint: 'To replace the rows of some tables, restore them with --tables; to replace the whole database, restore without --data-only (--clean).',
        details: { tables: holding },
      },
    );
  }
}

/**
 * Loads everything in one transaction with triggers and foreign keys held
 * (session_replication_role = replica, a superuser's right), so tables load in any order and
 * no user trigger rewrites the restored rows; a failure leaves the target as it was.
 */
export async function restoreDataOnly(
  entries: AsyncIterable<ArchiveEntry>,
  summary: PostgresSummary,
  settings: DataOnlySettings,
): Promise<DataOnlyResult> {
  return withClient(
    settings.target,
    settings.connect,
    async (client) => {
      try {
        return await loadDataOnly(client, entries, summary, settings);
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw toPgLifeboatError(error, 'restoring rows (--data-only)', 'RESTORE_FAILED');
      }
    },
    settings.signal,
  );
}

interface DataOnlyResult {
  database: string;
  tables: { name: string; rows: number }[];
  triggersHeld: boolean;
}

async function loadDataOnly(
  client: PgClient,
  entries: AsyncIterable<ArchiveEntry>,
  summary: PostgresSummary,
  settings: DataOnlySettings,
): Promise<DataOnlyResult> {
  await checkDataOnly(client, settings.target, summary.tables);
  await client.query('BEGIN');
  const triggersHeld = await holdTriggers(client, settings);
  const progress = tracker(summary, settings.report);
  const data = serialData(client, summary, settings.choices, settings.report.warn, progress);
  let values: string | undefined;
  let refreshes: string[] = [];
  for await (const entry of entries) {
    throwIfAborted(settings.signal);
    if (entry.relativePath === POST_DATA) {
      const post = (await buffer(entry.stream)).toString();
      values = sequenceValues(post, settings.choices, summary);
      refreshes = matviewRefreshes(post);
    } else await data.take(entry);
  }
  await runScript(client, data.complete(values), `the sequence values of ${POST_DATA}`);
  await client.query('COMMIT');
  if (refreshes.length > 0) {
    // pg_restore -a does not refresh them either (MATERIALIZED VIEW DATA is post-data): they
    // hold what they held, so say how to bring them up to the rows just loaded.
    settings.report.warn(
      'MATVIEW_NOT_REFRESHED',
      `--data-only leaves materialized views as they were, as pg_restore --data-only does; refresh them now that the rows are in: ${refreshes.join(' ')}`,
    );
  }
  return {
    database: settings.target.database,
    tables: summary.tables.map((t) => ({
      name: t.name,
      rows: progress.loaded.get(t)?.rows ?? 0,
    })),
    triggersHeld,
  };
}

/**
 * The REFRESH MATERIALIZED VIEW statements of post-data, in their order (a view over another
 * comes after it); views created WITH NO DATA have none.
 */
export function matviewRefreshes(post: string): string[] {
  const seen = new Set<string>();
  for (const m of post.matchAll(
    /REFRESH MATERIALIZED VIEW ((?:"(?:[^"]|"")+"|[^\s;'.]+)\.(?:"(?:[^"]|"")+"|[^\s;']+?))(?=[;'\s])/g,
  )) {
    seen.add(`REFRESH MATERIALIZED VIEW ${m[1]!.replaceAll("''", "'")};`);
  }
  return [...seen];
}

/** Holds triggers and foreign keys when allowed; otherwise says they fire. */
async function holdTriggers(client: PgClient, settings: DataOnlySettings): Promise<boolean> {
  await client.query('SAVEPOINT replica');
  try {
    await client.query('SET LOCAL session_replication_role = replica');
    return true;
  } catch (error) {
    if (pgCode(error) !== '42501') throw error;
    await client.query('ROLLBACK TO SAVEPOINT replica');
    settings.report.warn(
      'REPLICA_ROLE_DENIED',
      'Cannot hold triggers while loading (not a superuser): triggers and foreign keys fire, so a row whose reference loads later fails the restore (nothing is kept then).',
    );
    return false;
  }
}
