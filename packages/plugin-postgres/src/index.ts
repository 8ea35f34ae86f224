import type { HealthCheck, Source } from '@lifeboat/core';
import { backupDatabase } from './backup.js';
import { backupSelection, namesRecord } from './backup-filter.js';
import { openClient, settingsFrom, withClient } from './connection.js';
import { pgMessage } from './errors.js';
import type { PostgresSummary } from './summary.js';

export { POSTGRES_ERROR_CODES } from './errors.js';

import {
  describeTarget,
  type PostgresSourceOptions,
  resolveOptions,
  targetFromOptions,
} from './options.js';
import { checkDatabaseRestore } from './restore/check.js';
import { type PostgresRestoreOptions, restoreOptionsOf } from './restore/options.js';
import { prepareDatabaseRestore } from './restore/prepare.js';
import { restoreDatabase, restoreEntries } from './restore.js';
import { manualRestoreSteps } from './restore-psql.js';
import { createSpare } from './spare.js';
import { parseSummary } from './summary.js';
import { verifyDatabase } from './verify.js';

export type { SelectionSummary } from './backup-filter.js';
export type { PostgresSourceOptions } from './options.js';
export { type PostgresRestoreOptions, postgresRestoreOptionsSchema } from './restore/options.js';

declare module '@lifeboat/core' {
  /** `engine.restore(ref, { postgres: { … } })`: the postgres source's restore options. */
  interface RestoreOptionsBySource {
    postgres: PostgresRestoreOptions;
  }
}

export { MAX_JOBS, postgresOptionsSchema } from './options.js';
export { filterTables } from './restore/choices.js';
export type { CatalogCounts, PostgresSummary, SequenceSummary, TableSummary } from './summary.js';

/**
 * The PostgreSQL source: backs up a database (or chosen tables) with `pg` and COPY in one
 * consistent snapshot, without pg_dump, and restores it fully or partly.
 */
export function postgresSource(options: PostgresSourceOptions) {
  const resolved = resolveOptions(options);
  const target = targetFromOptions(resolved);
  const connect = settingsFrom(resolved);
  // Read when the source is made: a bad filter line fails the setup, not a backup hours later.
  const filter = backupSelection(resolved);
  const selection = filter?.record ?? namesRecord(resolved);
  const spare = createSpare();
  return {
    id: 'postgres',
    section: 'database',
    describe: () => describeTarget(target),
    async connect(opts: { signal?: AbortSignal } = {}) {
      // Fails early with DATABASE_UNREACHABLE / DATABASE_AUTH_FAILED (opening runs the session's
      // settings: the server has answered). The connection is kept for the backup that follows.
      spare.keep(await openClient(target, connect, opts.signal));
    },
    close: () => spare.close(),
    backup: (ctx) =>
      backupDatabase(ctx, {
        target,
        connect,
        first: spare.take(),
        tables: resolved.tables,
        excludeTables: resolved.excludeTables,
        jobs: resolved.jobs,
        partBytes: resolved.partBytes,
        splitBytes: resolved.splitBytes,
        globals: resolved.globals,
        filter,
        selection,
      }),
    // Each entry point parses the options it is given: they come from a script or the CLI.
    checkRestore: (ctx) =>
      checkDatabaseRestore(
        { ...ctx, options: restoreOptionsOf(ctx.options) },
        { source: target, connect },
      ),
    prepareRestore: (ctx) =>
      prepareDatabaseRestore(
        { ...ctx, options: restoreOptionsOf(ctx.options) },
        { source: target, connect },
      ),
    restore: (ctx) =>
      restoreDatabase(
        { ...ctx, options: restoreOptionsOf(ctx.options) },
        { source: target, connect, jobs: resolved.jobs },
      ),
    // Wrapped, so the declaration bundle need not follow restore.ts's imports (pg twice).
    restoreEntries: (summary, options) => restoreEntries(summary, restoreOptionsOf(options)),
    partialRestore(options) {
      const given = restoreOptionsOf(options);
      const partial = (given.tables?.length ?? 0) > 0 || Boolean(given.asSuffix);
      return partial ? '--tables and --as-suffix restore database tables' : undefined;
    },
    verifyDeep: (ctx) =>
      verifyDatabase(
        { ...ctx, options: restoreOptionsOf(ctx.options) },
        { source: target, connect, jobs: resolved.jobs },
      ),
    // One name whatever the outcome, also when getting ready fails (core's fallback).
    healthName: 'database',
    async health(): Promise<HealthCheck[]> {
      try {
        const version = await withClient(target, connect, async (c) => {
          await c.query('SELECT 1');
          return (await c.query('SHOW server_version')).rows[0].server_version as string;
        });
        return [
          {
            name: 'database',
            status: 'ok',
            message: `PostgreSQL ${version} at ${describeTarget(target)} answers`,
          },
        ];
      } catch (error) {
        return [
          {
            name: 'database',
            status: 'critical',
            message: `${describeTarget(target)}: ${pgMessage(error)}`,
            details: { code: (error as { code?: string }).code },
          },
        ];
      }
    },
    manualRestoreSteps: (summary) => manualRestoreSteps(parseSummary(summary)),
    report(summary) {
      const tables = Array.isArray(summary.tables)
        ? (summary.tables as { name: string; rows: number; bytes?: number; rowsLeftOut?: true }[])
        : [];
      const rules = (summary as Partial<PostgresSummary>).selection?.rules ?? [];
      return {
        tables: tables.map((t) => ({
          name: t.name,
          rows: t.rows,
          ...(typeof t.bytes === 'number' ? { bytes: t.bytes } : {}),
        })),
        lines: [
          ...rules.map((r) => `selection: ${r}`),
          ...tables.map((t) =>
            t.rowsLeftOut
              ? `${t.name}: rows left out (exclude table_data)`
              : `${t.name}: ${t.rows} rows`,
          ),
        ],
        ...(rules.length > 0 ? { scope: rules } : {}),
      };
    },
  } satisfies Source<PostgresSummary, PostgresRestoreOptions>;
}
