import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { engineFor } from './support/engine.js';
import { createDatabase, servers, sql, trackDatabase, uniqueName } from './support/servers.js';

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
       REVOKE EXECUTE ON FUNCTION f() FROM PUBLIC; GRANT EXECUTE ON FUNCTION f() TO ${role};`,
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
        await engine.restore('latest', { targetDatabase: target });
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
    }
  });
});
