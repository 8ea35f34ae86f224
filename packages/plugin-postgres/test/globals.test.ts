import { randomBytes } from 'node:crypto';
import { ageCipher, createEngine, generateAgeIdentity, memoryStorage } from '@lifeboat/core';
import { afterAll, describe, expect, it } from 'vitest';
import { engineFor } from './support/engine.js';
import { dropDatabasesThenRoles, restoredByPsql } from './support/roles.js';
import {
  createDatabase,
  embeddedServer,
  servers,
  sourceFor,
  sql,
  type TestServer,
  uniqueName,
} from './support/servers.js';

/**
 * Roles (BACKUP_GLOBALS): backed up from the local PostgreSQL 15, restored into the embedded
 * PostgreSQL 18, a fresh server where none of the source's roles exist (as after a disaster).
 */
const source = servers.find((s) => s !== embeddedServer);
const target = embeddedServer;
const planted: string[] = [];

afterAll(async () => {
  if (source) await dropDatabasesThenRoles(source, 'glob', planted);
});

/** Roles and a database using them; `p` keeps every name unique to the test. */
async function plant(server: TestServer, p: string) {
  const r = {
    owner: `${p}_owner`,
    reader: `${p}_reader`,
    app: `${p}_app`,
    other: `${p}_other`,
  };
  planted.push(r.app, r.reader, r.owner, r.other);
  const db = await createDatabase(server, `glob_${p}`);
  await sql(
    server,
    'postgres',
    `CREATE ROLE ${r.owner} LOGIN CREATEDB CONNECTION LIMIT 5 VALID UNTIL '2031-01-02 03:04:05+00' PASSWORD 'Owner-Pa55';
     COMMENT ON ROLE ${r.owner} IS 'owns the schema';
     ALTER ROLE ${r.owner} SET work_mem = '8MB';
     ALTER ROLE ${r.owner} SET search_path = s, "B", public;
     CREATE ROLE ${r.reader} NOLOGIN NOINHERIT BYPASSRLS;
     CREATE ROLE ${r.app} LOGIN PASSWORD 'App-Pa55';
     GRANT ${r.reader} TO ${r.app} WITH ADMIN OPTION;
     CREATE ROLE ${r.other} LOGIN;
     ALTER ROLE ${r.app} IN DATABASE ${db} SET statement_timeout = '5s'`,
  );
  await sql(
    server,
    db,
    `CREATE SCHEMA s AUTHORIZATION ${r.owner};
     CREATE TABLE s.t (id int PRIMARY KEY, v text); INSERT INTO s.t VALUES (1, 'a'), (2, 'b');
     ALTER TABLE s.t OWNER TO ${r.owner};
     GRANT USAGE ON SCHEMA s TO ${r.reader};
     GRANT SELECT ON s.t TO ${r.reader}; GRANT UPDATE (v) ON s.t TO ${r.reader};
     CREATE FUNCTION s.f() RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT 1';
     ALTER FUNCTION s.f() OWNER TO ${r.owner};
     REVOKE ALL ON FUNCTION s.f() FROM PUBLIC; GRANT EXECUTE ON FUNCTION s.f() TO ${r.reader};
     CREATE POLICY p ON s.t TO ${r.reader} USING (id > 0)`,
  );
  return { db, roles: r };
}

/**
 * Owners and ACLs of the user objects, and the policies' roles: what roles give a database.
 * PostgreSQL 17 added MAINTAIN (m) to an owner's default table privileges: left out to compare.
 */
const ownersAndGrants = async (server: TestServer, db: string) =>
  (
    await sql(
      server,
      db,
      `SELECT 'schema ' || n.nspname AS obj, n.nspowner::regrole::text AS owner, n.nspacl::text AS acl
       FROM pg_namespace n WHERE n.nspname = 's'
     UNION ALL SELECT 'rel ' || c.oid::regclass::text, c.relowner::regrole::text, c.relacl::text
       FROM pg_class c WHERE c.relnamespace = 's'::regnamespace
     UNION ALL SELECT 'col ' || a.attname, NULL, a.attacl::text
       FROM pg_attribute a WHERE a.attrelid = 's.t'::regclass AND a.attacl IS NOT NULL
     UNION ALL SELECT 'fn ' || p.oid::regprocedure::text, p.proowner::regrole::text, p.proacl::text
       FROM pg_proc p WHERE p.pronamespace = 's'::regnamespace
     UNION ALL SELECT 'policy ' || pol.polname, NULL, (SELECT string_agg(x::regrole::text, ',') FROM unnest(pol.polroles) x)
       FROM pg_policy pol
     ORDER BY 1`,
    )
  ).map((r) => ({
    ...r,
    acl: typeof r.acl === 'string' ? r.acl.replace('=arwdDxtm/', '=arwdDxt/') : r.acl,
  }));

/** A role's attributes, settings and memberships (not its oid, nor its password). */
const roleRows = (server: TestServer, names: string[]) =>
  sql(
    server,
    'postgres',
    `SELECT r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin,
       r.rolreplication, r.rolbypassrls, r.rolconnlimit, pg_catalog.to_char(r.rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS valid_until, r.rolconfig::text AS config,
       pg_catalog.shobj_description(r.oid, 'pg_authid') AS comment,
       (SELECT string_agg(g.rolname || CASE WHEN m.admin_option THEN ' (admin)' ELSE '' END, ',' ORDER BY g.rolname)
          FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid) AS member_of
     FROM pg_roles r WHERE r.rolname = ANY($1) ORDER BY 1`,
    [names],
  );

const hashOf = async (server: TestServer, role: string) =>
  (
    await sql<{ h: string | null }>(
      server,
      'postgres',
      'SELECT rolpassword AS h FROM pg_authid WHERE rolname = $1',
      [role],
    )
  )[0]?.h;

const targetUrl = (db: string) =>
  `postgres://${target.user}:${encodeURIComponent(target.password!)}@${target.host}:${target.port}/${db}`;

function collect(engine: ReturnType<typeof createEngine>) {
  const warnings: { code: string; message: string }[] = [];
  engine.events.on('warning', (w: { code: string; message: string }) => warnings.push(w));
  return warnings;
}

describe.skipIf(!source)('roles (BACKUP_GLOBALS) into a fresh PostgreSQL 18', () => {
  const from = source!;

  it('without --globals the restore succeeds with ROLE_MISSING; with it owners and grants are identical', async () => {
    await from.start();
    await target.start();
    const p = `lbg${randomBytes(3).toString('hex')}`;
    const { db, roles } = await plant(from, p);
    const { engine } = engineFor(from, db, { globals: 'roles' });
    const backupWarnings = collect(engine);
    await engine.backup();
    // Not encrypted: no password hash in the archive, and the backup says so.
    expect(backupWarnings.map((w) => w.code)).toContain('GLOBALS_PASSWORDS_LEFT_OUT');

    // Without --globals: every role is missing on the target, the restore still succeeds.
    const plain = uniqueName('globplain');
    const warnings = collect(engine);
    await engine.restore('latest', { postgres: { targetUrl: targetUrl(plain) } });
    const missing = warnings.filter((w) => w.code === 'ROLE_MISSING').map((w) => w.message);
    expect(missing.join('\n')).toContain(`owner role ${roles.owner} does not exist`);
    expect(missing.join('\n')).toContain(`role ${roles.reader} does not exist`);
    expect(await roleRows(target, Object.values(roles))).toEqual([]);
    const [rows] = await sql<{ n: number }>(target, plain, 'SELECT count(*)::int AS n FROM s.t');
    expect(rows!.n).toBe(2);

    // With --globals: the roles are made first, so owners, grants and policies are the source's.
    const full = uniqueName('globfull');
    const again = collect(engine);
    const restored = await engine.restore('latest', {
      postgres: { targetUrl: targetUrl(full), globals: true },
    });
    expect(again.filter((w) => w.code === 'ROLE_MISSING')).toEqual([]);
    expect(JSON.stringify(restored)).toContain('"rolesCreated":3');
    expect(await ownersAndGrants(target, full)).toEqual(await ownersAndGrants(from, db));
    // `other` owns nothing in the database: BACKUP_GLOBALS=roles leaves it out; `app` comes as
    // a member of `reader` (it gets its rights through it).
    const kept = [roles.owner, roles.reader, roles.app];
    expect(await roleRows(target, Object.values(roles))).toEqual(await roleRows(from, kept));
    // No password without encryption.
    expect(await hashOf(target, roles.owner)).toBeNull();
    // The role's setting in the database (database.json) came with the database.
    const settings = await sql<{ c: string }>(
      target,
      full,
      `SELECT s.setconfig::text AS c FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
       WHERE d.datname = current_database() AND s.setrole = $1::regrole`,
      [roles.app],
    );
    expect(settings).toEqual([{ c: '{statement_timeout=5s}' }]);
  });

  it('keeps password hashes only in an encrypted archive; existing roles and the restoring role are left alone', async () => {
    await from.start();
    await target.start();
    const p = `lbg${randomBytes(3).toString('hex')}`;
    const { db, roles } = await plant(from, p);
    const { identity, recipient } = await generateAgeIdentity();
    const engine = createEngine({
      sources: [sourceFor(from, db, { globals: 'all-roles' })],
      storage: memoryStorage(),
      cipher: ageCipher({ recipients: [recipient], identities: [identity] }),
      pruneAfterBackup: false,
    });
    const backupWarnings = collect(engine);
    await engine.backup();
    expect(backupWarnings.map((w) => w.code)).not.toContain('GLOBALS_PASSWORDS_LEFT_OUT');

    // One of the roles exists on the target already, differently: it must stay as it is.
    await sql(target, 'postgres', `CREATE ROLE ${roles.reader} LOGIN CONNECTION LIMIT 3`);
    const existingBefore = await roleRows(target, [roles.reader]);
    const restorerBefore = await sql(
      target,
      'postgres',
      'SELECT * FROM pg_authid WHERE rolname = current_user',
    );
    const into = uniqueName('globenc');
    await engine.restore('latest', { postgres: { targetUrl: targetUrl(into), globals: true } });

    expect(await hashOf(target, roles.owner)).toBe(await hashOf(from, roles.owner));
    expect(await hashOf(target, roles.app)).toMatch(/^SCRAM-SHA-256\$|^md5/);
    expect(await hashOf(target, roles.app)).toBe(await hashOf(from, roles.app));
    // all-roles: also the role that has nothing to do with the database.
    expect(await roleRows(target, [roles.other])).toEqual(await roleRows(from, [roles.other]));
    const [reader] = await roleRows(target, [roles.reader]);
    const { member_of: _m, ...readerAttributes } = reader!;
    const { member_of: _b, ...before } = existingBefore[0]!;
    expect(readerAttributes).toEqual(before);
    // Its membership is added (missing), with the admin option the source had.
    const [app] = await roleRows(target, [roles.app]);
    expect(app!.member_of).toBe(`${roles.reader} (admin)`);
    // The restoring role (postgres, with its own password here) is never touched.
    expect(
      await sql(target, 'postgres', 'SELECT * FROM pg_authid WHERE rolname = current_user'),
    ).toEqual(restorerBefore);
  });

  it('restore.psql creates the roles with -v globals=1', async () => {
    await from.start();
    await target.start();
    const p = `lbg${randomBytes(3).toString('hex')}`;
    const { db, roles } = await plant(from, p);
    const { engine, storage } = engineFor(from, db, { globals: 'roles' });
    await engine.backup();
    const restored = await restoredByPsql(target, storage, 'globpsql', ['globals=1']);
    expect(await ownersAndGrants(target, restored)).toEqual(await ownersAndGrants(from, db));
    const kept = [roles.owner, roles.reader, roles.app];
    expect(await roleRows(target, kept)).toEqual(await roleRows(from, kept));
  });

  it('refuses --globals for an archive without roles', async () => {
    await from.start();
    const db = await createDatabase(from, 'glob_none');
    await sql(from, db, 'CREATE TABLE t (id int)');
    const { engine } = engineFor(from, db);
    await engine.backup();
    await expect(
      engine.restore('latest', {
        postgres: { targetDatabase: uniqueName('glob_none_r'), globals: true },
      }),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
