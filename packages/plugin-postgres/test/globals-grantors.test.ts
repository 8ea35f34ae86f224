import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { engineFor, extractArchive } from './support/engine.js';
import { embeddedServer, sql, uniqueName } from './support/servers.js';

/**
 * Membership grantors (pg_dumpall's GRANTED BY), kept where the source records them
 * (PostgreSQL 16+): a membership granted by a role with ADMIN OPTION is made again by that role.
 */
const server = embeddedServer;
const p = `lbgg${randomBytes(3).toString('hex')}`;
const roles = { admin: `${p}_admin`, group: `${p}_group`, member: `${p}_member` };
const databases: string[] = [];

afterAll(async () => {
  for (const db of databases)
    await sql(server, 'postgres', `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => {});
  for (const r of [roles.member, roles.group, roles.admin])
    await sql(server, 'postgres', `DROP ROLE IF EXISTS ${r}`).catch(() => {});
});

const grantors = async () =>
  sql<{ role: string; member: string; grantor: string; admin: boolean }>(
    server,
    'postgres',
    `SELECT r.rolname AS role, u.rolname AS member, g.rolname AS grantor, a.admin_option AS admin
     FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles u ON u.oid = a.member
     JOIN pg_roles g ON g.oid = a.grantor WHERE r.rolname = $1 ORDER BY 2`,
    [roles.group],
  );

describe('membership grantors (GRANTED BY) on PostgreSQL 18', () => {
  it('globals.sql keeps the grantor and restore --globals grants as it', async () => {
    await server.start();
    await sql(
      server,
      'postgres',
      `CREATE ROLE ${roles.admin} LOGIN; CREATE ROLE ${roles.group} NOLOGIN; CREATE ROLE ${roles.member} LOGIN;
       GRANT ${roles.group} TO ${roles.admin} WITH ADMIN OPTION;
       GRANT ${roles.group} TO ${roles.member} GRANTED BY ${roles.admin}`,
    );
    const before = await grantors();
    expect(before).toEqual([
      { role: roles.group, member: roles.admin, grantor: server.user, admin: true },
      { role: roles.group, member: roles.member, grantor: roles.admin, admin: false },
    ]);
    const db = uniqueName('gg_src');
    databases.push(db);
    await sql(server, 'postgres', `CREATE DATABASE ${db} TEMPLATE template0`);
    await sql(
      server,
      db,
      `CREATE TABLE t (id int); ALTER TABLE t OWNER TO ${roles.member}; GRANT SELECT ON t TO ${roles.group}`,
    );
    const backup = engineFor(server, db, { globals: 'roles' });
    await backup.engine.backup();
    const folder = await extractArchive(backup.storage);
    const globals = await readFile(join(folder, 'database', 'globals.sql'), 'utf8');
    expect(globals).toContain(`GRANTED BY "${roles.admin}"`);

    // A fresh start: the database and the roles are gone.
    await sql(server, 'postgres', `DROP DATABASE ${db} WITH (FORCE)`);
    for (const r of [roles.member, roles.group, roles.admin])
      await sql(server, 'postgres', `DROP ROLE ${r}`);
    const target = uniqueName('gg_dst');
    databases.push(target);
    await backup.engine.restore('latest', { postgres: { targetDatabase: target, globals: true } });
    expect(await grantors()).toEqual(before);
  }, 120_000);
});
