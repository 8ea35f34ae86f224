import { randomBytes } from 'node:crypto';
import { createEngine } from '@lifeboat/core';
import { describe, expect, it } from 'vitest';
import { engineFor } from './support/engine.js';
import { createDatabase, servers, sourceFor, sql, uniqueName } from './support/servers.js';

/**
 * A SECURITY DEFINER function or a view runs with its owner's rights. Restored by a role that
 * may not give them to their owner, they run with the restoring role's rights instead: the
 * restore result names each (RUNS_AS_RESTORER), not only a count of objects per owner.
 */
describe.each(servers)('objects left running as the restoring role on $name', (server) => {
  it('lists SECURITY DEFINER functions and views whose owner could not be set', async () => {
    await server.start();
    const restorer = `lb_runs_${randomBytes(3).toString('hex')}`;
    const password = `pw-${randomBytes(6).toString('hex')}`;
    const db = await createDatabase(server, 'runsas');
    await sql(
      server,
      db,
      `CREATE TABLE secrets (id int PRIMARY KEY); INSERT INTO secrets VALUES (1);
       CREATE FUNCTION definer() RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT 1';
       CREATE FUNCTION invoker() RETURNS int LANGUAGE sql AS 'SELECT 2';
       CREATE VIEW peek AS SELECT id FROM secrets;
       CREATE VIEW own_rights WITH (security_invoker = true) AS SELECT id FROM secrets;`,
    );
    const { engine, storage } = engineFor(server, db);
    await engine.backup();
    await sql(server, 'postgres', `CREATE ROLE ${restorer} LOGIN CREATEDB PASSWORD '${password}'`);
    const target = uniqueName('runsas_r');
    try {
      const asRestorer = createEngine({
        sources: [sourceFor(server, db, { user: restorer, password })],
        storage,
      });
      const warnings: { code: string; message: string }[] = [];
      asRestorer.events.on('warning', (w) => warnings.push(w));
      const result = await asRestorer.restore('latest', { postgres: { targetDatabase: target } });
      const listed = result.sections.find((s) => s.section === 'database')?.summary
        .runsAsRestorer as string[];
      expect(listed.sort()).toEqual(['FUNCTION public.definer()', 'VIEW public.peek']);
      const runs = warnings.filter((w) => w.code === 'RUNS_AS_RESTORER').map((w) => w.message);
      expect(runs.sort()).toEqual([
        `FUNCTION public.definer() runs with the rights of ${restorer} instead of ${server.user} (its owner could not be set) (1 object)`,
        `VIEW public.peek runs with the rights of ${restorer} instead of ${server.user} (its owner could not be set) (1 object)`,
      ]);
    } finally {
      await sql(server, 'postgres', `DROP DATABASE IF EXISTS ${target}`);
      await sql(server, 'postgres', `DROP ROLE IF EXISTS ${restorer}`);
    }
  });
});
