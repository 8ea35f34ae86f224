import { LifeboatError, type RestoreContext } from '@lifeboat/core';
import { type ConnectSettings, qualified } from './connection.js';
import { globalsWanted } from './globals/restore.js';
import type { ConnectionTarget } from './options.js';
import { anyChoice, choicesOf, dataWanted, filterTables } from './restore/choices.js';
import { restoreDataOnly } from './restore/data-only.js';
import { restoreFull } from './restore/full.js';
import { takeParked } from './restore/handover.js';
import type { PostgresRestoreOptions } from './restore/options.js';
import { resolveArchiveTables, restorePartial } from './restore/partial.js';
import { takePrepared } from './restore/prepare.js';
import { statisticsWanted } from './restore/statistics.js';
import { dropDatabase, resolveRestoreTarget } from './restore/target.js';
import { refuseNewerArchive, wasVersionChecked } from './restore/version.js';
import { type PostgresSummary, parseSummary } from './summary.js';

export interface RestoreSettings {
  source: ConnectionTarget;
  connect: ConnectSettings;
  jobs: number;
}

/**
 * Restores the database section: the whole database, or only `options.tables` (replacing their
 * rows, or next to them with `asSuffix`), into the target named (or the configured database when
 * `inPlace`).
 */
export async function restoreDatabase(
  ctx: RestoreContext<PostgresRestoreOptions>,
  settings: RestoreSettings,
): Promise<Record<string, unknown>> {
  const target = resolveRestoreTarget(ctx.options, settings.source);
  // Made while the archive was checked (prepare.ts): a failure anywhere from here drops it
  // (restoreFull drops it too; DROP DATABASE IF EXISTS twice is harmless).
  const prepared = takePrepared(ctx.summary, target);
  try {
    return await restoreInto(ctx, settings, target, prepared);
  } catch (error) {
    if (prepared) await dropDatabase(target, settings.connect).catch(() => {});
    throw error;
  }
}

async function restoreInto(
  ctx: RestoreContext<PostgresRestoreOptions>,
  settings: RestoreSettings,
  target: ConnectionTarget,
  prepared: ReturnType<typeof takePrepared>,
): Promise<Record<string, unknown>> {
  const summary = parseSummary(ctx.summary);
  const clean = ctx.options.clean === true;
  const asSuffix = suffixOf(ctx.options);
  const tables = partialTables(summary, ctx.options);
  const choices = checkedChoices(ctx.options, tables !== undefined);
  const globals = globalsWanted(ctx.options, summary, tables !== undefined);
  // Checked before (checkRestore); again here for a caller that restores without it.
  if (!wasVersionChecked(ctx.summary, target))
    await refuseNewerArchive(summary, ctx.options, target, settings.connect);
  if (tables) {
    const result = await restorePartial(
      ctx.entries,
      summary,
      {
        target,
        connect: settings.connect,
        tables,
        asSuffix,
        clean,
        signal: ctx.signal,
        report: ctx,
      },
      takeParked(ctx.summary, target),
    );
    return {
      mode: asSuffix ? 'side-by-side' : 'tables',
      database: target.database,
      ...result,
      ...selectionOf(summary),
    };
  }
  // Tables whose rows are left out are created empty: the restore neither waits for nor counts them.
  const loaded = { ...summary, tables: summary.tables.filter((t) => dataWanted(choices, t)) };
  if (choices.dataOnly) {
    const result = await restoreDataOnly(ctx.entries, loaded, {
      target,
      connect: settings.connect,
      choices,
      signal: ctx.signal,
      report: ctx,
    });
    return { mode: 'data-only', ...result, ...selectionOf(summary) };
  }
  const result = await restoreFull(ctx.entries, loaded, {
    target,
    connect: settings.connect,
    jobs: settings.jobs,
    clean,
    choices,
    globals,
    statistics: statisticsWanted(ctx.options),
    signal: ctx.signal,
    report: ctx,
    ...(prepared ? { prepared } : {}),
  });
  return { mode: 'full', ...result, ...selectionOf(summary) };
}

/** The backup's selection rules: the restore says its archive holds part of the database. */
const selectionOf = (summary: PostgresSummary) =>
  summary.selection ? { selection: summary.selection.rules } : {};

export const suffixOf = (options: PostgresRestoreOptions) =>
  typeof options.asSuffix === 'string' && options.asSuffix !== '' ? options.asSuffix : undefined;

/** The tables a partial restore loads (all of them side by side), or undefined for a full one. */
export function partialTables(
  summary: PostgresSummary,
  options: PostgresRestoreOptions,
): string[] | undefined {
  const tables = [
    ...(options.tables?.filter((t) => t.trim() !== '') ?? []),
    ...filterTables(options),
  ];
  if (tables.length === 0 && !suffixOf(options)) return undefined;
  if (tables.length > 0) return tables;
  // Side by side, every table the archive holds rows of.
  return summary.tables.filter((t) => !t.rowsLeftOut).map((t) => qualified(t.schema, t.table));
}

/** The entries a restore with these options reads: only the chosen tables' data parts. */
export function restoreEntries(
  summary: Record<string, unknown>,
  options: PostgresRestoreOptions,
): string[] | undefined {
  const parsed = parseSummary(summary);
  const tables = partialTables(parsed, options);
  return tables && resolveArchiveTables(parsed, tables).flatMap((t) => t.parts);
}

/**
 * The restore-time choices; they shape a full restore (a partial one loads rows only, so
 * `--data-only` with `--tables` is what `--tables` does anyway).
 */
export function checkedChoices(options: PostgresRestoreOptions, partial: boolean) {
  const choices = choicesOf(options);
  if (partial && anyChoice(choices)) {
    throw new LifeboatError(
      'CONFIG_INVALID',
      'Restore-time choices (--schema-only, --no-owner, --schema, --exclude-table-data, a filter file…) apply to full restores, not with --tables or --as-suffix',
    );
  }
  if (choices.dataOnly && options.clean === true) {
    // As pg_restore: --clean drops objects, and a data-only restore neither drops nor creates.
    throw new LifeboatError('CONFIG_INVALID', '--data-only cannot go with --clean', {
      hint: 'a data-only restore loads into empty tables; to replace rows of existing tables, restore them with --tables',
    });
  }
  return choices;
}
