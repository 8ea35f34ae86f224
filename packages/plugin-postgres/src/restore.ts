import type { RestoreContext } from '@lifeboat/core';
import { type ConnectSettings, qualified } from './connection.js';
import type { ConnectionTarget } from './options.js';
import { restoreFull } from './restore/full.js';
import { restorePartial } from './restore/partial.js';
import { resolveRestoreTarget } from './restore/target.js';
import { parseSummary } from './summary.js';

export interface RestoreSettings {
  source: ConnectionTarget;
  connect: ConnectSettings;
  parallel: number;
}

/**
 * Restores the database section: the whole database, or only `options.tables` (replacing their
 * rows, or next to them with `asSuffix`). Without a target, the configured database is used.
 */
export async function restoreDatabase(
  ctx: RestoreContext,
  settings: RestoreSettings,
): Promise<Record<string, unknown>> {
  const summary = parseSummary(ctx.summary);
  const target = resolveRestoreTarget(ctx.options, settings.source);
  const clean = ctx.options.clean === true;
  const tables = ctx.options.tables?.filter((t) => t.trim() !== '') ?? [];
  const asSuffix =
    typeof ctx.options.asSuffix === 'string' && ctx.options.asSuffix !== ''
      ? ctx.options.asSuffix
      : undefined;
  if (tables.length > 0 || asSuffix) {
    const result = await restorePartial(ctx.entries, summary, {
      target,
      connect: settings.connect,
      tables: tables.length > 0 ? tables : summary.tables.map((t) => qualified(t.schema, t.table)),
      asSuffix,
      clean,
      signal: ctx.signal,
      events: ctx.events,
      warn: ctx.warn,
    });
    return { mode: asSuffix ? 'side-by-side' : 'tables', database: target.database, ...result };
  }
  const result = await restoreFull(ctx.entries, summary, {
    target,
    connect: settings.connect,
    parallel: settings.parallel,
    clean,
    signal: ctx.signal,
    events: ctx.events,
  });
  return { mode: 'full', ...result };
}
