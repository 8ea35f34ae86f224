import '../errors.js';
import { LifeboatError } from '@lifeboat/core';
import type { ConnectSettings, PgClient } from '../connection.js';
import type { ConnectionTarget } from '../options.js';
import type { PostgresSummary } from '../summary.js';
import type { PostgresRestoreOptions } from './options.js';
import { targetServerVersion } from './target.js';

/** 150004 → 15, 180000 → 18 (major versions since 10). */
export const majorOf = (versionNum: number) => Math.floor(versionNum / 10000);

/** `allowNewerArchive: true` (CLI --allow-newer-archive): try a newer server's archive anyway. */
export const newerArchiveAllowed = (options: PostgresRestoreOptions) =>
  options.allowNewerArchive === true;

/**
 * An archive is SQL written by and for its server's major version: an older server may lack
 * what it uses (syntax, catalog options, functions), and fails somewhere in the middle. Found
 * before anything is created, as pg_restore users would wish it were.
 */
export function newerArchiveError(archive: PostgresSummary, target: { num: number; text: string }) {
  const from = majorOf(archive.serverVersionNum);
  const into = majorOf(target.num);
  return new LifeboatError(
    'RESTORE_VERSION_NEWER',
    `The archive comes from PostgreSQL ${archive.serverVersion} (${from}), newer than the target server's PostgreSQL ${target.text} (${into}): its SQL may use what ${into} lacks`,
    {
      hint: `Restore into PostgreSQL ${from} or newer (the upgrade path goes that way), or try anyway with --allow-newer-archive (SDK option { postgres: { allowNewerArchive: true } }); a failure midway leaves a database the restore created dropped, an existing one as it was.`,
      details: { archiveVersion: archive.serverVersionNum, targetVersion: target.num },
    },
  );
}

/** Throws RESTORE_VERSION_NEWER when the server's major version is older than the archive's. */
export function refuseNewer(
  archive: PostgresSummary,
  options: PostgresRestoreOptions,
  server: { num: number; text: string },
): void {
  if (newerArchiveAllowed(options) || !archive.serverVersionNum) return;
  if (majorOf(server.num) < majorOf(archive.serverVersionNum))
    throw newerArchiveError(archive, server);
}

/** The version of the server a connection is open to. */
export async function serverVersion(client: PgClient): Promise<{ num: number; text: string }> {
  const { rows } = await client.query(
    "SELECT pg_catalog.current_setting('server_version_num')::int AS num, pg_catalog.current_setting('server_version') AS text",
  );
  return { num: Number(rows[0].num), text: String(rows[0].text) };
}

/** Throws RESTORE_VERSION_NEWER when the target's major version is older than the archive's. */
export async function refuseNewerArchive(
  archive: PostgresSummary,
  options: PostgresRestoreOptions,
  target: ConnectionTarget,
  connect: ConnectSettings,
): Promise<void> {
  if (newerArchiveAllowed(options) || !archive.serverVersionNum) return;
  refuseNewer(archive, options, await targetServerVersion(target, connect));
}

/**
 * The servers whose version a restore's check (checkRestore) found fine, by the section's
 * summary as the engine handed it: the restore that follows on the same summary and server
 * need not ask again (one connection less before anything starts).
 */
const versionChecked = new WeakMap<object, string>();
const serverOf = (target: ConnectionTarget) => `${target.host}\u0000${target.port}`;

export const rememberVersionChecked = (summary: object, target: ConnectionTarget) =>
  void versionChecked.set(summary, serverOf(target));

export const wasVersionChecked = (summary: object, target: ConnectionTarget) =>
  versionChecked.get(summary) === serverOf(target);
