import { randomBytes } from 'node:crypto';
import { createEngine, isLifeboatError, memoryStorage } from '@lifeboat/core';
import { rejectionOf } from '@lifeboat/core/testing';
import { describe, expect, it } from 'vitest';
import { archiveKeys } from './support/engine.js';
import { createDatabase, servers, sourceFor, sql } from './support/servers.js';

/**
 * Row-level security must never filter a backup: a role its policies apply to would copy only
 * the rows it may see (1 of 100 here) and store them as the whole table. The backup stops
 * instead, naming the table and what the role needs; a role that bypasses the policies copies
 * every row.
 */
describe.each(servers)('row-level security on $name', (server) => {
  it('refuses to back up tables whose policies hide rows from the backup role', async () => {
    await server.start();
    const role = `lb_rls_${randomBytes(3).toString('hex')}`;
    const password = `pw-${randomBytes(6).toString('hex')}`;
    const db = await createDatabase(server, 'rls');
    await sql(server, 'postgres', `CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    try {
      await sql(
        server,
        db,
        `CREATE TABLE shared (id int PRIMARY KEY);
         INSERT INTO shared SELECT generate_series(1, 100);
         ALTER TABLE shared ENABLE ROW LEVEL SECURITY;
         CREATE POLICY only_one ON shared USING (id = 1);
         GRANT SELECT ON shared TO ${role};
         CREATE TABLE own (id int PRIMARY KEY);
         INSERT INTO own SELECT generate_series(1, 100);
         ALTER TABLE own OWNER TO ${role};
         ALTER TABLE own ENABLE ROW LEVEL SECURITY;
         CREATE POLICY only_one ON own USING (id = 1);`,
      );
      const backupAs = (tables: string[]) => {
        const storage = memoryStorage();
        const engine = createEngine({
          sources: [sourceFor(server, db, { user: role, password, tables })],
          storage,
          pruneAfterBackup: false,
        });
        return { engine, storage };
      };

      // Not the owner, no BYPASSRLS: the policy would let it see 1 row of 100.
      const notOwner = backupAs(['shared']);
      const error = await rejectionOf(notOwner.engine.backup());
      expect(isLifeboatError(error, 'PERMISSION_DENIED')).toBe(true);
      expect((error as Error).message).toMatch(/public\.shared/);
      expect((error as { hint?: string }).hint).toMatch(/BYPASSRLS/);
      expect(await archiveKeys(notOwner.storage)).toEqual([]);

      // The owner: policies do not apply to it, every row is copied.
      const owner = backupAs(['own']);
      const result = await owner.engine.backup();
      expect(result.tables.find((t) => t.name === 'public.own')?.rows).toBe(100);

      // The owner of a FORCE ROW LEVEL SECURITY table: the policies apply to it as well.
      await sql(server, db, 'ALTER TABLE own FORCE ROW LEVEL SECURITY');
      const forced = backupAs(['own']);
      const forcedError = await rejectionOf(forced.engine.backup());
      expect(isLifeboatError(forcedError, 'PERMISSION_DENIED')).toBe(true);
      expect((forcedError as Error).message).toMatch(/public\.own/);
      expect((forcedError as { hint?: string }).hint).toMatch(/FORCE ROW LEVEL SECURITY/);
      expect(await archiveKeys(forced.storage)).toEqual([]);

      // BYPASSRLS: the whole table, both of them.
      await sql(server, 'postgres', `ALTER ROLE ${role} BYPASSRLS`);
      const bypass = backupAs(['shared', 'own']);
      const all = await bypass.engine.backup();
      expect(all.tables.map((t) => [t.name, t.rows]).sort()).toEqual([
        ['public.own', 100],
        ['public.shared', 100],
      ]);
    } finally {
      await sql(server, db, `DROP OWNED BY ${role}`).catch(() => {});
      await sql(server, 'postgres', `DROP ROLE IF EXISTS ${role}`);
    }
  });
});
