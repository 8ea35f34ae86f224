import type { RestoreCheckContext, Warn } from '@lifeboat/core';
import type { ConnectSettings } from '../connection.js';
import { type ConnectionTarget, describeTarget } from '../options.js';
import { parseSummary } from '../summary.js';
import type { PostgresRestoreOptions } from './options.js';
import { dropDatabase, ensureDatabase, resolveRestoreTarget } from './target.js';

/**
 * `CREATE DATABASE` of a full restore's new target while the engine still hashes the stored
 * archive (core's `prepareRestore`): ~0.1 s of a scale-1 restore that waited for the hash before.
 * Only what the check found (`rememberAbsent`: a full restore, not data-only, into a database
 * that does not exist) and without tablespaces (their mapping is resolved by the restore). It
 * uses the manifest's locale only, never the archive's SQL, and the engine drops it again when
 * the restore stops before it started; once started, a failure drops it as any new database.
 */
const absent = new WeakMap<object, string>();
const made = new WeakMap<object, { target: string; warnings: Parameters<Warn>[] }>();

/** checkRestore found this target missing, and a full restore would create it. */
export const rememberAbsent = (summary: object, target: ConnectionTarget) =>
  absent.set(summary, describeTarget(target));

export async function prepareDatabaseRestore(
  ctx: RestoreCheckContext<PostgresRestoreOptions>,
  settings: { source: ConnectionTarget; connect: ConnectSettings },
): Promise<(() => Promise<void>) | undefined> {
  const target = resolveRestoreTarget(ctx.options, settings.source);
  const name = describeTarget(target);
  if (absent.get(ctx.summary) !== name) return undefined;
  absent.delete(ctx.summary);
  const summary = parseSummary(ctx.summary);
  if ((summary.tablespaces?.length ?? 0) > 0 || summary.databaseTablespace) return undefined;
  // Its warnings (a locale the server lacks) are told by the restore, with the rest.
  const warnings: Parameters<Warn>[] = [];
  const created = await ensureDatabase(target, settings.connect, summary.locale, (...w) =>
    warnings.push(w),
  );
  if (!created) return undefined;
  made.set(ctx.summary, { target: name, warnings });
  return async () => {
    made.delete(ctx.summary);
    await dropDatabase(target, settings.connect);
  };
}

/** The database prepared for this restore (it is the restore's own from here), if any. */
export function takePrepared(
  summary: object,
  target: ConnectionTarget,
): { warnings: Parameters<Warn>[] } | undefined {
  const prepared = made.get(summary);
  if (!prepared || prepared.target !== describeTarget(target)) return undefined;
  made.delete(summary);
  return prepared;
}
