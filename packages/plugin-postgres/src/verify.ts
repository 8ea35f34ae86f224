import { randomBytes } from 'node:crypto';
import type { RestoreContext, VerifyProblem } from '@lifeboat/core';
import { STEP_SKIPPED } from './catalog/step-guard.js';
import { type ConnectSettings, qualified, withClient } from './connection.js';
import { catalogCounts, countFunctionsAndTypes } from './counts.js';
import { toPgLifeboatError } from './errors.js';
import type { ConnectionTarget } from './options.js';
import { restoreFull } from './restore/full.js';
import type { PostgresRestoreOptions } from './restore/options.js';
import { dropDatabase } from './restore/target.js';
import { refuseNewerArchive } from './restore/version.js';
import { type CatalogCounts, parseSummary } from './summary.js';

export interface VerifySettings {
  source: ConnectionTarget;
  connect: ConnectSettings;
  jobs: number;
}

/**
 * Restores the archive into a scratch database on the configured server, compares row counts
 * and catalog counts with what the backup recorded, and always drops the scratch database.
 */
export async function verifyDatabase(
  ctx: RestoreContext<PostgresRestoreOptions>,
  settings: VerifySettings,
): Promise<VerifyProblem[]> {
  const summary = parseSummary(ctx.summary);
  const scratch: ConnectionTarget = {
    ...settings.source,
    database: `lifeboat_verify_${randomBytes(6).toString('hex')}`,
  };
  const problems: VerifyProblem[] = [];
  try {
    // The drill restores into the configured server: an older one than the archive's is the
    // same refusal a restore gets (verify --deep --allow-newer-archive tries anyway).
    await refuseNewerArchive(summary, ctx.options, scratch, settings.connect);
    const restored = await restoreFull(ctx.entries, summary, {
      target: scratch,
      connect: settings.connect,
      jobs: settings.jobs,
      clean: false,
      // A scratch copy that is dropped at once: planning it well buys nothing.
      statistics: false,
      signal: ctx.signal,
      report: ctx,
    });
    await withClient(
      scratch,
      settings.connect,
      async (client) => {
        for (const t of summary.tables) {
          const { rows } = await client.query(
            `SELECT pg_catalog.count(*) AS n FROM ONLY ${qualified(t.schema, t.table)}`,
          );
          const n = Number(rows[0].n);
          // An extension's configuration table also holds the rows its script made.
          if (t.extension ? n < t.rows : n !== t.rows) {
            problems.push({
              code: 'ROW_COUNT_MISMATCH',
              message: `Table ${t.name}: the manifest says ${t.rows} rows, the restored table has ${n}`,
              ...(t.parts[0] ? { path: `database/${t.parts[0]}` } : {}),
            });
          }
        }
        const counts: CatalogCounts = {
          ...(await catalogCounts(client, null)),
          ...(await countFunctionsAndTypes(client)),
        };
        const expected = summary.catalog;
        if (expected) {
          for (const key of Object.keys(expected) as (keyof CatalogCounts)[]) {
            if (counts[key] !== expected[key]) {
              problems.push({
                code: 'CATALOG_MISMATCH',
                message: `The backup recorded ${expected[key]} ${key}, the restored database has ${counts[key]}`,
              });
            }
          }
        }
      },
      ctx.signal,
    );
    // A drill that could not rebuild the database as it was is not a passing drill.
    for (const step of restored.skippedSteps) {
      problems.push({
        code: STEP_SKIPPED,
        message: `The restore did not run the ${step}: it would have run functions of the source's roles as ${settings.source.user} (their owner could not be set); run the drill as a superuser with the source's roles present`,
      });
    }
  } catch (error) {
    const e = toPgLifeboatError(error, 'restoring into a scratch database', 'RESTORE_FAILED');
    problems.push({ code: e.code, message: e.message });
  } finally {
    await dropDatabase(scratch, settings.connect).catch((error) => {
      ctx.warn(
        'SCRATCH_NOT_DROPPED',
        `Could not drop scratch database ${scratch.database}: ${(error as Error).message}`,
      );
    });
  }
  return problems;
}
