import { extractArchive } from './engine.js';
import { createDatabase, psql, sql, type TestServer } from './servers.js';

/**
 * Drops the databases whose names start with `lb_<prefix>`, then `roles`: roles that own
 * objects in those databases, or have settings or grants on them, can go only after them.
 */
export async function dropDatabasesThenRoles(
  server: TestServer,
  prefix: string,
  roles: string[],
): Promise<void> {
  for (const db of await sql<{ datname: string }>(
    server,
    'postgres',
    `SELECT datname FROM pg_database WHERE datname LIKE 'lb\\_${prefix}%'`,
  ))
    await sql(server, 'postgres', `DROP DATABASE IF EXISTS ${db.datname} WITH (FORCE)`);
  for (const role of roles) await sql(server, 'postgres', `DROP ROLE IF EXISTS ${role}`);
}

/**
 * Restores the stored archive with psql alone (restore.psql from the extracted folder) into a
 * new database named after `prefix`; `vars` are psql -v settings (`no_owner=1`).
 */
export async function restoredByPsql(
  server: TestServer,
  storage: Parameters<typeof extractArchive>[0],
  prefix: string,
  vars: string[] = [],
): Promise<string> {
  const dir = await extractArchive(storage);
  const target = await createDatabase(server, prefix);
  const settings = ['ON_ERROR_STOP=1', ...vars].flatMap((v) => ['-v', v]);
  psql(server, target, [...settings, '-f', 'database/restore.psql'], dir);
  return target;
}
