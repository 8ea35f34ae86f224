import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { engineFor, extractArchive } from './support/engine.js';
import { isSuperuser, plantFunctions, seenIn } from './support/plant.js';
import {
  createDatabase,
  psql,
  servers,
  sql,
  trackDatabase,
  uniqueName,
} from './support/servers.js';

/**
 * A role that may only create objects in one schema plants a function that tries to make it a
 * superuser, used by an index expression and a materialized view. A restore (and so a drill,
 * `verify --deep`) by a superuser builds that index and refreshes that view: the server runs
 * them as the owner of the table/view, in its security-restricted mode, only if the owner was
 * given back before (pg_restore's order). Given last, they ran as the superuser.
 */
describe.each(servers)('no source code runs as the restoring superuser on $name', (server) => {
  it('index expressions and materialized views run as their owner, never as the restorer', async () => {
    await server.start();
    const evil = `lb_evil_${randomBytes(3).toString('hex')}`;
    const db = await createDatabase(server, 'escalate');
    await sql(server, 'postgres', `CREATE ROLE ${evil} NOLOGIN`);
    const targets: string[] = [];
    try {
      await sql(
        server,
        db,
        `${plantFunctions(evil)}
         CREATE TABLE plant.t (id int);
         INSERT INTO plant.t VALUES (1), (2);
         CREATE INDEX t_key ON plant.t (plant.key(id));
         CREATE MATERIALIZED VIEW plant.mv AS SELECT plant.grab() AS x;
         RESET ROLE;
         TRUNCATE plant.seen;`,
      );
      const { engine, storage } = engineFor(server, db);
      await engine.backup();

      // Into a new database (parallel load) and into an existing empty one (one transaction).
      const created = uniqueName('escalate_new');
      trackDatabase(server, created);
      const existing = await createDatabase(server, 'escalate_old');
      targets.push(created, existing);
      for (const target of [created, existing]) {
        await engine.restore('latest', { postgres: { targetDatabase: target } });
        expect(await isSuperuser(server, evil)).toBe(false);
        expect(await seenIn(server, target)).toEqual([evil]);
        const [owner] = await sql<{ o: string }>(
          server,
          target,
          `SELECT pg_get_userbyid(relowner) AS o FROM pg_class WHERE oid = 'plant.t'::regclass`,
        );
        expect(owner!.o).toBe(evil);
      }

      // psql alone, from the extracted archive.
      const dir = await extractArchive(storage);
      const byPsql = await createDatabase(server, 'escalate_psql');
      targets.push(byPsql);
      psql(server, byPsql, ['-q', '-v', 'ON_ERROR_STOP=1', '-f', 'database/restore.psql'], dir);
      expect(await isSuperuser(server, evil)).toBe(false);
      expect(await seenIn(server, byPsql)).toEqual([evil]);

      // The drill (it reports the rows the planted function added to plant.seen as it ran).
      await engine.verify('latest', { deep: true });
      expect(await isSuperuser(server, evil)).toBe(false);
    } finally {
      for (const d of [db, ...targets])
        await sql(server, d, `DROP OWNED BY ${evil}`).catch(() => {});
      await sql(server, 'postgres', `DROP ROLE IF EXISTS ${evil}`);
    }
  });
});
