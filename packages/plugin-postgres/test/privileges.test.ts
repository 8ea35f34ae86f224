import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createEngine } from '@lifeboat/core';
import { describe, expect, it } from 'vitest';
import { renderPrivileges } from '../src/catalog/access.js';
import { splitBatches } from '../src/catalog/pre-data.js';
import { postgresSource } from '../src/index.js';
import { engineFor, extractArchive } from './support/engine.js';
import {
  adminClient,
  createDatabase,
  servers,
  sql,
  trackDatabase,
  uniqueName,
} from './support/servers.js';

/**
 * GRANTs come back with a restore (fidelity.test.ts compares every ACL). Roles are not part of
 * a database: a grant to a role the target server lacks is skipped with a warning, and the
 * restore goes on with everything else, into a new database and into an existing empty one.
 */
describe.each(servers)('privileges on $name', (server) => {
  it('skips a grant to a missing role with ROLE_MISSING and restores the rest', async () => {
    await server.start();
    const role = `lb_gone_${randomBytes(3).toString('hex')}`;
    const db = await createDatabase(server, 'privgone');
    await sql(
      server,
      db,
      `CREATE ROLE ${role} NOLOGIN;
       CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1);
       GRANT SELECT ON t TO ${role}; GRANT INSERT ON t TO PUBLIC;
       CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';
       REVOKE EXECUTE ON FUNCTION f() FROM PUBLIC; GRANT EXECUTE ON FUNCTION f() TO ${role};
       CREATE FUNCTION g() RETURNS int LANGUAGE sql AS 'SELECT 2';
       REVOKE ALL ON FUNCTION g() FROM PUBLIC, CURRENT_USER;`,
    );
    const { engine } = engineFor(server, db);
    await engine.backup();
    // The role goes away, as on a server that never had it.
    await sql(server, db, `DROP OWNED BY ${role}`);
    await sql(server, 'postgres', `DROP ROLE ${role}`);
    const acls = async (database: string) =>
      sql(
        server,
        database,
        `SELECT (SELECT relacl::text FROM pg_class WHERE oid = 'public.t'::regclass) AS t,
                (SELECT proacl::text FROM pg_proc WHERE oid = 'public.f()'::regprocedure) AS f`,
      );
    const expected = await acls(db);
    expect(expected[0]).toEqual({ t: expect.stringContaining('=a/'), f: expect.any(String) });
    expect(expected[0]!.f).not.toMatch(/(^|[{,])=X/);

    const created = uniqueName('privgone_new');
    trackDatabase(server, created);
    const existing = await createDatabase(server, 'privgone_old');
    for (const target of [created, existing]) {
      const warnings: { code: string; message: string }[] = [];
      const onWarning = (w: { code: string; message: string }) => warnings.push(w);
      engine.events.on('warning', onWarning);
      try {
        await engine.restore('latest', { postgres: { targetDatabase: target } });
      } finally {
        engine.events.off('warning', onWarning);
      }
      const missing = warnings.filter((w) => w.code === 'ROLE_MISSING').map((w) => w.message);
      expect(missing).toHaveLength(2);
      for (const m of missing) expect(m).toMatch(new RegExp(`^role ${role} does not exist`));
      expect(missing.join('\n')).toMatch(/skipped: GRANT SELECT ON TABLE public\.t TO /);
      expect(await acls(target)).toEqual(expected);
      const rows = await sql<{ n: number }>(server, target, 'SELECT count(*)::int AS n FROM t');
      expect(rows[0]!.n).toBe(1);
      // All privileges taken (an empty ACL): PUBLIC may not run it after the restore either.
      const [g] = await sql<{ acl: string | null }>(
        server,
        target,
        `SELECT proacl::text AS acl FROM pg_proc WHERE oid = 'public.g()'::regprocedure`,
      );
      expect(g!.acl).not.toBeNull();
      expect(g!.acl).not.toMatch(/(^|[{,])=X/);
    }
  });

  it('gives objects back to their owners when it may; otherwise says so once per role', async () => {
    await server.start();
    const restorer = `lb_restorer_${randomBytes(3).toString('hex')}`;
    const password = 'Restorer-Pa55-word';
    const db = await createDatabase(server, 'privown');
    // The source's objects belong to the server's superuser (the test's user).
    await sql(
      server,
      db,
      `CREATE TABLE a (id int PRIMARY KEY); INSERT INTO a VALUES (1), (2);
       CREATE TABLE b (id int); CREATE VIEW v AS SELECT id FROM a;`,
    );
    const { engine, storage } = engineFor(server, db);
    await engine.backup();
    await sql(server, 'postgres', `CREATE ROLE ${restorer} LOGIN CREATEDB PASSWORD '${password}'`);
    const target = uniqueName('privown_r');
    try {
      // Restored by a role that may not give objects to the superuser: they stay its own.
      const asRestorer = createEngine({
        sources: [
          postgresSource({
            host: server.host,
            port: server.port,
            user: restorer,
            password,
            database: db,
          }),
        ],
        storage,
      });
      const warnings: { code: string; message: string }[] = [];
      asRestorer.events.on('warning', (w) => warnings.push(w));
      await asRestorer.restore('latest', { postgres: { targetDatabase: target } });
      const notSet = warnings.filter((w) => w.code === 'OWNER_NOT_SET');
      expect(notSet).toHaveLength(1);
      // Three relations, and the database it created (owned by the source's owner there).
      expect(notSet[0]!.message).toMatch(
        new RegExp(`^${restorer} may not give objects to ${server.user} .*\\(4 objects\\)$`),
      );
      const owners = await sql<{ relname: string; owner: string }>(
        server,
        target,
        `SELECT relname, pg_get_userbyid(relowner) AS owner FROM pg_class
         WHERE relname IN ('a', 'b', 'v') ORDER BY 1`,
      );
      expect(owners.map((o) => o.owner)).toEqual([restorer, restorer, restorer]);
      const rows = await sql<{ n: number }>(server, target, 'SELECT count(*)::int AS n FROM a');
      expect(rows[0]!.n).toBe(2);
    } finally {
      await sql(server, 'postgres', `DROP DATABASE IF EXISTS ${target}`);
      await sql(server, 'postgres', `DROP ROLE IF EXISTS ${restorer}`);
    }
  });

  it('gives each object its owner right after its CREATE, in pre-data batches that commit', async () => {
    await server.start();
    const role = `lb_owner_${randomBytes(3).toString('hex')}`;
    const db = await createDatabase(server, 'privmany');
    await sql(server, 'postgres', `CREATE ROLE ${role} NOLOGIN`);
    const target = uniqueName('privmany_r');
    trackDatabase(server, target);
    try {
      await sql(
        server,
        db,
        `DO $$ BEGIN FOR i IN 1..1001 LOOP
           EXECUTE format('CREATE SEQUENCE s%s', i);
           EXECUTE format('ALTER SEQUENCE s%s OWNER TO ${role}', i);
         END LOOP; END $$`,
      );
      const { engine, storage } = engineFor(server, db);
      await engine.backup();
      const dir = join(await extractArchive(storage), 'database');
      const pre = await readFile(join(dir, 'pre-data.sql'), 'utf8');
      const post = await readFile(join(dir, 'post-data.sql'), 'utf8');
      // Each sequence is followed by its owner, within the batch that creates it.
      expect(pre).toContain(
        `CREATE SEQUENCE "public"."s1" AS bigint START WITH 1 INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 CACHE 1 NO CYCLE;\nSELECT pg_temp.lifeboat_owner('SEQUENCE public.s1', '${role}');\n`,
      );
      expect(splitBatches(pre).length).toBeGreaterThan(5);
      expect(post).not.toMatch(/OWNER TO|lifeboat_owner\(/);
      const warnings: string[] = [];
      engine.events.on('warning', (w) => warnings.push(w.code));
      await engine.restore('latest', { postgres: { targetDatabase: target } });
      expect(warnings).toEqual([]);
      const owned = await sql<{ n: number }>(
        server,
        target,
        `SELECT count(*)::int AS n FROM pg_class WHERE relkind = 'S' AND pg_get_userbyid(relowner) = '${role}'`,
      );
      expect(owned[0]!.n).toBe(1001);
    } finally {
      for (const d of [db, target]) await sql(server, d, `DROP OWNED BY ${role}`).catch(() => {});
      await sql(server, 'postgres', `DROP ROLE IF EXISTS ${role}`);
    }
  });

  it('a grant the server refuses is a GRANT_FAILED warning, not a failed script', async () => {
    await server.start();
    const db = await createDatabase(server, 'privfail');
    await sql(server, db, 'CREATE TABLE t (id int)');
    const script = renderPrivileges([
      {
        kind: 'relation',
        target: 'TABLE public.t',
        column: null,
        privilege: 'FROBNICATE',
        grantable: false,
        grantee: null,
        toOwner: false,
      },
    ]).join('');
    const client = adminClient(server, db);
    await client.connect();
    const notices: string[] = [];
    client.on('notice', (n) => notices.push(n.message ?? ''));
    try {
      await client.query(script);
    } finally {
      await client.end();
    }
    expect(notices).toContainEqual(
      expect.stringMatching(
        /^lifeboat: GRANT_FAILED: GRANT FROBNICATE ON TABLE public\.t TO PUBLIC: /,
      ),
    );
  });
});
