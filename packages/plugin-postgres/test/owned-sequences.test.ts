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
 * A serial's sequence belongs to its table's column (OWNED BY), and the server requires both to
 * have the same owner when the link is made. Owners are given right after each CREATE, so the
 * sequence must get its owner itself (as pg_dump writes it); left to follow its table, it stayed
 * with the restoring role and every restore of a table owned by someone else failed in
 * post-data ("sequence must have same owner as table it is linked to").
 */
describe.each(servers)('sequences of serial and identity columns on $name', (server) => {
  it('restore with the owner of their table when another role restores', async () => {
    await server.start();
    const owner = `lb_seqowner_${randomBytes(3).toString('hex')}`;
    const db = await createDatabase(server, 'seqown');
    await sql(server, 'postgres', `CREATE ROLE ${owner} NOLOGIN`);
    const targets: string[] = [];
    try {
      await sql(
        server,
        db,
        `CREATE TABLE users (id serial PRIMARY KEY, n bigint GENERATED ALWAYS AS IDENTITY, email text);
         INSERT INTO users (email) VALUES ('a'), ('b');
         ALTER TABLE users OWNER TO ${owner};`,
      );
      const ownersOf = async (database: string) =>
        sql<{ name: string; o: string }>(
          server,
          database,
          `SELECT relname AS name, pg_get_userbyid(relowner) AS o FROM pg_class
           WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'S') ORDER BY 1`,
        );
      const before = await ownersOf(db);
      expect(before.map((r) => r.o)).toEqual([owner, owner, owner]);

      const { engine, storage } = engineFor(server, db);
      await engine.backup();
      const created = uniqueName('seqown_new');
      trackDatabase(server, created);
      const existing = await createDatabase(server, 'seqown_old');
      targets.push(created, existing);
      for (const target of [created, existing]) {
        await engine.restore('latest', { postgres: { targetDatabase: target } });
        expect(await ownersOf(target)).toEqual(before);
        const [next] = await sql<{ id: number }>(
          server,
          target,
          `INSERT INTO users (email) VALUES ('c') RETURNING id`,
        );
        expect(next!.id).toBe(3);
      }
      const dir = await extractArchive(storage);
      const byPsql = await createDatabase(server, 'seqown_psql');
      targets.push(byPsql);
      psql(server, byPsql, ['-q', '-v', 'ON_ERROR_STOP=1', '-f', 'database/restore.psql'], dir);
      expect(await ownersOf(byPsql)).toEqual(before);
      const report = await engine.verify('latest', { deep: true });
      expect(report.ok).toBe(true);
    } finally {
      for (const d of [db, ...targets])
        await sql(server, d, `DROP OWNED BY ${owner}`).catch(() => {});
      await sql(server, 'postgres', `DROP ROLE IF EXISTS ${owner}`);
    }
  });
});
