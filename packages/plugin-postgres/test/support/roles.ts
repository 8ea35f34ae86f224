import { sql, type TestServer } from './servers.js';

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
