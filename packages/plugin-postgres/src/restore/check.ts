import '../errors.js';
import { LifeboatError, type RestoreCheckContext, type RestoreTarget } from '@lifeboat/core';
import {
  type ConnectSettings,
  closeQuietly,
  endOnAbort,
  openClient,
  type PgClient,
  qualified,
  withClient,
} from '../connection.js';
import { pgCode } from '../errors.js';
import { globalsWanted } from '../globals/restore.js';
import { type ConnectionTarget, describeTarget } from '../options.js';
import { checkedChoices, partialTables, suffixOf } from '../restore.js';
import { parseSummary } from '../summary.js';
import { dataWanted } from './choices.js';
import { checkDataOnly } from './data-only.js';
import { park } from './handover.js';
import type { PostgresRestoreOptions } from './options.js';
import { checkTargets, resolveArchiveTables } from './partial.js';
import { rememberAbsent } from './prepare.js';
import {
  isSameDatabase,
  notEmptyError,
  resolveRestoreTarget,
  targetServer,
  userObjects,
} from './target.js';
import { refuseNewer, rememberVersionChecked, serverVersion } from './version.js';

/** The connection failed because the database does not exist (3D000, as the server said). */
const isMissingDatabase = (error: unknown) =>
  error instanceof LifeboatError && pgCode(error.cause) === '3D000';

/**
 * Every precondition of a database restore, checked without writing: a target was named, a full
 * restore's target is empty (or `clean`, and then what it holds is listed to be confirmed), a
 * partial restore's tables exist (or, side by side, are not in the way).
 */
export async function checkDatabaseRestore(
  ctx: RestoreCheckContext<PostgresRestoreOptions>,
  settings: { source: ConnectionTarget; connect: ConnectSettings },
): Promise<RestoreTarget> {
  const summary = parseSummary(ctx.summary);
  const target = resolveRestoreTarget(ctx.options, settings.source);
  const chosen = partialTables(summary, ctx.options);
  const choices = checkedChoices(ctx.options, chosen !== undefined);
  globalsWanted(ctx.options, summary, chosen !== undefined);
  if (chosen !== undefined) return checkPartial(ctx, settings, target, summary, chosen);
  // Before anything else touches the target: an older server fails midway through the SQL.
  const server = await targetServer(target, settings.connect);
  refuseNewer(summary, ctx.options, server.version);
  rememberVersionChecked(ctx.summary, target);
  const plan = {
    target: describeTarget(target),
    inPlace: isSameDatabase(target, settings.source),
    confirmText: target.database,
  };
  const exists = server.exists;
  if (choices.dataOnly) {
    if (!exists) {
      throw new LifeboatError(
        'TABLE_NOT_FOUND',
        `Database ${describeTarget(target)} does not exist: --data-only loads rows into existing tables`,
        {
          hint: 'Restore the same archive with --schema-only into it first (or without --data-only).',
        },
      );
    }
    const tables = summary.tables.filter((t) => dataWanted(choices, t));
    await withClient(target, settings.connect, (c) => checkDataOnly(c, target, tables), ctx.signal);
    return { ...plan, replaces: [] };
  }
  if (!exists) {
    rememberAbsent(ctx.summary, target);
    return { ...plan, replaces: [] };
  }
  const objects = await withClient(target, settings.connect, userObjects, ctx.signal);
  if (objects.length > 0 && ctx.options.clean !== true) throw notEmptyError(target, objects);
  return { ...plan, replaces: objects };
}

/**
 * A partial restore writes into an existing database: its version, its tables and the side
 * tables' names are checked on one connection to it. Only when it cannot be reached because it
 * does not exist is the server asked on its maintenance database (the version still decides
 * first, as for any restore).
 */
async function checkPartial(
  ctx: RestoreCheckContext<PostgresRestoreOptions>,
  settings: { source: ConnectionTarget; connect: ConnectSettings },
  target: ConnectionTarget,
  summary: ReturnType<typeof parseSummary>,
  chosen: string[],
): Promise<RestoreTarget> {
  const asSuffix = suffixOf(ctx.options);
  const clean = ctx.options.clean === true;
  const plan = {
    target: describeTarget(target),
    inPlace: isSameDatabase(target, settings.source),
    confirmText: target.database,
  };
  let client: PgClient;
  try {
    client = await openClient(target, settings.connect, ctx.signal);
  } catch (error) {
    if (!isMissingDatabase(error)) throw error;
    const server = await targetServer(target, settings.connect);
    refuseNewer(summary, ctx.options, server.version);
    resolveArchiveTables(summary, chosen);
    if (server.exists) throw error;
    throw new LifeboatError(
      'TABLE_NOT_FOUND',
      `Database ${describeTarget(target)} does not exist, so its tables cannot be restored`,
      {
        hint: 'A partial restore writes into an existing database; name it with --target-database, or restore the whole archive into a new database.',
      },
    );
  }
  const stop = endOnAbort(client, ctx.signal);
  let handed = false;
  try {
    // Before anything else touches the target: an older server fails midway through the SQL.
    refuseNewer(summary, ctx.options, await serverVersion(client));
    rememberVersionChecked(ctx.summary, target);
    const tables = resolveArchiveTables(summary, chosen);
    const into = (t: { schema: string; table: string }) => ({
      schema: t.schema,
      table: asSuffix ? `${t.table}${asSuffix}` : t.table,
    });
    await checkTargets(client, tables, summary, { target, asSuffix, clean }, into);
    const replaces: string[] = [];
    for (const t of asSuffix && clean ? tables : []) {
      const name = qualified(into(t).schema, into(t).table);
      const { rows } = await client.query(
        'SELECT pg_catalog.to_regclass($1) IS NOT NULL AS found',
        [name],
      );
      if (rows[0].found) replaces.push(`${into(t).schema}.${into(t).table}`);
    }
    // The restore that follows checks again, on this same connection.
    park(ctx.summary, target, client);
    handed = true;
    return { ...plan, replaces };
  } finally {
    stop();
    if (!handed) await closeQuietly(client);
  }
}
