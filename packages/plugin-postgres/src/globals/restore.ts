import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { hostHint, LifeboatError, type Warn } from '@lifeboat/core';
import type { PgClient } from '../connection.js';
import { runScript, withScriptWarnings } from '../restore/load.js';
import type { PostgresRestoreOptions } from '../restore/options.js';
import { GLOBALS, type PostgresSummary } from '../summary.js';

/**
 * Whether the restore makes the archive's roles first (`restore --globals`). Asked of an archive
 * without them, or with a partial restore (which creates no objects), it is CONFIG_INVALID
 * before anything is written.
 */
export function globalsWanted(
  options: PostgresRestoreOptions,
  summary: PostgresSummary,
  partial: boolean,
): boolean {
  if (options.globals !== true) return false;
  if (!summary.globals) {
    throw new LifeboatError(
      'CONFIG_INVALID',
      `This archive holds no roles (database/${GLOBALS}): it was made without ${hostHint('postgres:globals', 'globals')}`,
      {
        hint: 'restore without --globals, and create the roles first (the restore warns ROLE_MISSING for each one it lacks)',
      },
    );
  }
  if (partial) {
    throw new LifeboatError(
      'CONFIG_INVALID',
      '--globals applies to full restores, not with --tables or --as-suffix',
    );
  }
  return true;
}

/**
 * Runs `globals.sql` on the restore's connection, before pre-data: creates the roles the server
 * lacks and the missing memberships (what it cannot is a warning). Returns how many roles it made.
 */
export async function applyGlobals(
  client: PgClient,
  stream: Readable,
  warn: Warn,
): Promise<number> {
  const sql = (await buffer(stream)).toString();
  const count = async () =>
    Number(
      (await client.query('SELECT pg_catalog.count(*) AS n FROM pg_catalog.pg_roles')).rows[0].n,
    );
  const before = await count();
  await withScriptWarnings(client, warn, () => runScript(client, sql, GLOBALS));
  return (await count()) - before;
}
