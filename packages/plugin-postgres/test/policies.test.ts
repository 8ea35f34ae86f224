import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { engineFor, extractArchive } from './support/engine.js';
import {
  createDatabase,
  psql,
  servers,
  sql,
  trackDatabase,
  uniqueName,
} from './support/servers.js';

/**
 * Roles are not part of a database. A policy for a role the target server lacks is handled as
 * a grant to it: that role is left out with a ROLE_MISSING warning (the policy is skipped when
 * it names no other role), and the restore goes on, by the engine and by psql alone.
 */
describe.each(servers)('policies for missing roles on $name', (server) => {
  it('leaves out roles the target lacks with ROLE_MISSING, by the engine and by psql', async () => {
    await server.start();
    const kept = `lb_pol_kept_${randomBytes(3).toString('hex')}`;
    const gone = `lb_pol_gone_${randomBytes(3).toString('hex')}`;
    await sql(server, 'postgres', `CREATE ROLE ${kept} NOLOGIN; CREATE ROLE "${gone}" NOLOGIN`);
    const db = await createDatabase(server, 'pol');
    const target = uniqueName('pol_new');
    trackDatabase(server, target);
    const plain = await createDatabase(server, 'pol_psql');
    try {
      await sql(
        server,
        db,
        `CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2);
         ALTER TABLE t ENABLE ROW LEVEL SECURITY;
         CREATE POLICY only_gone ON t TO "${gone}" USING (true);
         CREATE POLICY mixed ON t AS RESTRICTIVE FOR SELECT TO ${kept}, "${gone}" USING (id > 1);
         CREATE POLICY everyone ON t USING (id > 0) WITH CHECK (id < 100);`,
      );
      const { engine, storage } = engineFor(server, db);
      await engine.backup();
      await sql(server, db, `DROP POLICY only_gone ON t; DROP POLICY mixed ON t`);
      await sql(server, 'postgres', `DROP ROLE "${gone}"`);
      const policies = async (database: string) =>
        sql(
          server,
          database,
          `SELECT polname, polpermissive, polcmd, polroles::regrole[]::text AS roles,
                  pg_get_expr(polqual, polrelid) AS qual, pg_get_expr(polwithcheck, polrelid) AS check
           FROM pg_policy ORDER BY polname`,
        );
      const expected = [
        {
          polname: 'everyone',
          polpermissive: true,
          polcmd: '*',
          roles: '{-}',
          qual: '(id > 0)',
          check: '(id < 100)',
        },
        {
          polname: 'mixed',
          polpermissive: false,
          polcmd: 'r',
          roles: `{${kept}}`,
          qual: '(id > 1)',
          check: null,
        },
      ];

      const warnings: { code: string; message: string }[] = [];
      engine.events.on('warning', (w) => warnings.push(w));
      await engine.restore('latest', { postgres: { targetDatabase: target } });
      const missing = warnings.filter((w) => w.code === 'ROLE_MISSING').map((w) => w.message);
      expect(missing.sort()).toEqual([
        `role ${gone} does not exist on this server; POLICY "mixed" ON "public"."t" is created for the other roles only`,
        `role ${gone} does not exist on this server; skipped: POLICY "only_gone" ON "public"."t"`,
      ]);
      expect(await policies(target)).toEqual(expected);

      const dir = await extractArchive(storage);
      psql(server, plain, ['-v', 'ON_ERROR_STOP=1', '-f', 'database/restore.psql'], dir);
      expect(await policies(plain)).toEqual(expected);
    } finally {
      // Policies in every database name the role: those go first.
      for (const d of [db, target, plain])
        await sql(server, 'postgres', `DROP DATABASE IF EXISTS ${d} WITH (FORCE)`);
      await sql(server, 'postgres', `DROP ROLE IF EXISTS ${kept}; DROP ROLE IF EXISTS "${gone}"`);
    }
  });
});
