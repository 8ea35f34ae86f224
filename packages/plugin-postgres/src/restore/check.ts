import '../errors.js';
import { LifeboatError, type RestoreCheckContext, type RestoreTarget } from '@lifeboat/core';
import { type ConnectSettings, qualified, withClient } from '../connection.js';
import { globalsWanted } from '../globals/restore.js';
import { type ConnectionTarget, describeTarget } from '../options.js';
import { checkedChoices, partialTables, suffixOf } from '../restore.js';
import { parseSummary } from '../summary.js';
import { dataWanted } from './choices.js';
import { checkDataOnly } from './data-only.js';
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
import { refuseNewer, rememberVersionChecked } from './version.js';

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
  // Before anything else touches the target: an older server fails midway through the SQL.
  const server = await targetServer(target, settings.connect);
  refuseNewer(summary, ctx.options, server.version);
  rememberVersionChecked(ctx.summary, target);
  const mode = {
    partial: chosen !== undefined,
    tables: chosen ?? [],
    asSuffix: suffixOf(ctx.options),
    clean: ctx.options.clean === true,
  };
  const plan = {
    target: describeTarget(target),
    inPlace: isSameDatabase(target, settings.source),
    confirmText: target.database,
  };
  const exists = server.exists;
  if (!mode.partial && choices.dataOnly) {
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
  if (!mode.partial) {
    if (!exists) {
      rememberAbsent(ctx.summary, target);
      return { ...plan, replaces: [] };
    }
    const objects = await withClient(target, settings.connect, userObjects, ctx.signal);
    if (objects.length > 0 && !mode.clean) throw notEmptyError(target, objects);
    return { ...plan, replaces: objects };
  }
  const tables = resolveArchiveTables(summary, mode.tables);
  if (!exists) {
    throw new LifeboatError(
      'TABLE_NOT_FOUND',
      `Database ${describeTarget(target)} does not exist, so its tables cannot be restored`,
      {
        hint: 'A partial restore writes into an existing database; name it with --target-database, or restore the whole archive into a new database.',
      },
    );
  }
  const into = (t: { schema: string; table: string }) => ({
    schema: t.schema,
    table: mode.asSuffix ? `${t.table}${mode.asSuffix}` : t.table,
  });
  await checkTargets(
    tables,
    summary,
    {
      target,
      connect: settings.connect,
      asSuffix: mode.asSuffix,
      clean: mode.clean,
      signal: ctx.signal,
    },
    into,
  );
  if (!mode.asSuffix || !mode.clean) return { ...plan, replaces: [] };
  const replaces = await withClient(
    target,
    settings.connect,
    async (client) => {
      const found: string[] = [];
      for (const t of tables) {
        const name = qualified(into(t).schema, into(t).table);
        const { rows } = await client.query(
          'SELECT pg_catalog.to_regclass($1) IS NOT NULL AS found',
          [name],
        );
        if (rows[0].found) found.push(`${into(t).schema}.${into(t).table}`);
      }
      return found;
    },
    ctx.signal,
  );
  return { ...plan, replaces };
}
