import { type BackupContext, hostHint } from '@lifeboat/core';
import type { PgClient } from '../connection.js';
import { GLOBALS, type GlobalsSummary } from '../summary.js';
import { type GlobalsScope, readGlobals } from './read.js';
import { renderGlobals } from './render.js';

/** Warning code: password hashes are not in the archive (not encrypted, or not readable). */
export const PASSWORDS_LEFT_OUT = 'GLOBALS_PASSWORDS_LEFT_OUT';

/**
 * Writes `globals.sql` (the roles and their memberships). A password hash is a secret that
 * opens the database: it goes only into an encrypted archive, and only when the backup's role
 * may read pg_authid (a superuser); otherwise the roles come without passwords, with a warning.
 */
export async function backupGlobals(
  ctx: BackupContext,
  client: PgClient,
  scope: GlobalsScope,
  versionNum: number,
  database: string,
): Promise<GlobalsSummary> {
  const encrypted = ctx.encrypted === true;
  const { model, passwordsRead } = await readGlobals(client, scope, versionNum, encrypted);
  if (!encrypted) {
    ctx.warn(
      PASSWORDS_LEFT_OUT,
      `Roles are backed up without their passwords: the archive is not encrypted (set ${hostHint('age:recipients', 'recipients')} to keep the password hashes); set them again after a restore.`,
    );
  } else if (!passwordsRead) {
    ctx.warn(
      PASSWORDS_LEFT_OUT,
      'Roles are backed up without their passwords: only a superuser may read pg_authid; set them again after a restore.',
    );
  }
  await ctx.emit({
    path: GLOBALS,
    type: 'file',
    body: Buffer.from(renderGlobals(model, database)),
  });
  return {
    scope,
    roles: model.roles.length,
    memberships: model.memberships.length,
    passwords: model.roles.some((r) => r.password !== undefined),
  };
}
