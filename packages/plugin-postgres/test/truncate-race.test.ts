import { isLifeboatError, type LifeboatError } from '@lifeboat/core';
import { rejectionOf } from '@lifeboat/core/testing';
import { describe, expect, it } from 'vitest';
import { archiveKeys, engineFor } from './support/engine.js';
import { adminClient, createDatabase, servers, sql } from './support/servers.js';

/**
 * TRUNCATE and rewriting ALTER TABLE are not MVCC-safe: one that commits after the backup's
 * snapshot was taken and before its table locks are granted leaves the snapshot looking at the
 * new, empty file. The window is made deterministic by a session that holds the table's lock
 * while the backup starts, then rewrites the table and commits.
 */
describe.each(servers)('a table rewritten as the backup starts on $name', (server) => {
  it.each([
    ['TRUNCATE', 'TRUNCATE victim'],
    ['ALTER TABLE … TYPE', 'ALTER TABLE victim ALTER COLUMN id TYPE bigint'],
  ])(
    '%s: fails (retryable, naming the table) instead of storing it empty',
    async (_, rewrite) => {
      await server.start();
      const db = await createDatabase(server, 'race');
      await sql(
        server,
        db,
        `CREATE TABLE victim (id int PRIMARY KEY, body text);
       INSERT INTO victim SELECT g, 'row ' || g FROM generate_series(1, 100) g;
       CREATE TABLE other (id int); INSERT INTO other VALUES (1);`,
      );
      const { engine, storage } = engineFor(server, db);
      const holder = adminClient(server, db);
      await holder.connect();
      try {
        await holder.query('BEGIN');
        await holder.query('LOCK TABLE victim IN ACCESS EXCLUSIVE MODE');
        const backup = rejectionOf(engine.backup());
        // The backup has taken its snapshot and waits for the table.
        for (let waited = 0; ; waited += 50) {
          const [waiting] = await sql<{ n: number }>(
            server,
            db,
            `SELECT count(*)::int AS n FROM pg_locks
           WHERE relation = 'public.victim'::regclass AND NOT granted`,
          );
          if (waiting!.n > 0) break;
          if (waited > 30_000) throw new Error('the backup never waited for the table');
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        await holder.query(rewrite);
        await holder.query('COMMIT');
        const error = (await backup) as LifeboatError;
        expect(isLifeboatError(error, 'DATABASE_FAILED')).toBe(true);
        expect(error.retryable).toBe(true);
        expect(error.message).toMatch(/public\.victim/);
        expect(await archiveKeys(storage)).toEqual([]);
      } finally {
        await holder.end();
      }
      // Run again, it backs up what is there now.
      const result = await engine.backup();
      const rows = rewrite.startsWith('TRUNCATE') ? 0 : 100;
      expect(result.tables.find((t) => t.name === 'public.victim')?.rows).toBe(rows);
    },
    60_000,
  );
});
