import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { engineFor, extractArchive } from './support/engine.js';
import { pgDumpPicture } from './support/pgdump.js';
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
 * PostgreSQL validates a CHECK constraint added to a table (and a domain's check, for every row
 * COPY loads) as the current user, not in the owner's security-restricted mode: a superuser
 * restoring or drilling ran a planted CHECK function with its rights. Such constraints are now
 * added after the rows, through a temporary SECURITY DEFINER function owned by the table's
 * (domain's) owner, and a session the planted code changed stops the restore (RESTORE_REFUSED).
 */
describe.each(servers)(
  'CHECK and domain code never runs as the restoring superuser on $name',
  (server) => {
    const withEvil = async (run: (evil: string, dbs: string[]) => Promise<void>) => {
      await server.start();
      const evil = `lb_evil_${randomBytes(3).toString('hex')}`;
      await sql(server, 'postgres', `CREATE ROLE ${evil} NOLOGIN`);
      const dbs: string[] = [];
      try {
        await run(evil, dbs);
      } finally {
        for (const d of dbs) await sql(server, d, `DROP OWNED BY ${evil}`).catch(() => {});
        await sql(server, 'postgres', `DROP ROLE IF EXISTS ${evil}`);
      }
    };
    const fresh = (dbs: string[], prefix: string) => {
      const name = uniqueName(prefix);
      trackDatabase(server, name);
      dbs.push(name);
      return name;
    };

    it('a table CHECK and a domain CHECK run as their owner, never as the restorer', async () => {
      await withEvil(async (evil, dbs) => {
        const db = await createDatabase(server, 'esc_check');
        dbs.push(db);
        await sql(
          server,
          db,
          `${plantFunctions(evil)}
         CREATE TABLE plant.t (id int CHECK (plant.key(id) > 0));
         CREATE DOMAIN plant.d AS int CHECK (plant.key(VALUE) > 0);
         CREATE TABLE plant.u (v plant.d);
         INSERT INTO plant.t VALUES (1), (2);
         INSERT INTO plant.u VALUES (1);
         RESET ROLE;
         TRUNCATE plant.seen;`,
        );
        const { engine, storage } = engineFor(server, db);
        await engine.backup();

        // Into a new database (parallel load) and into an existing empty one (one transaction).
        const created = fresh(dbs, 'esc_check_new');
        const existing = await createDatabase(server, 'esc_check_old');
        dbs.push(existing);
        for (const target of [created, existing]) {
          await engine.restore('latest', { postgres: { targetDatabase: target } });
          expect(await isSuperuser(server, evil)).toBe(false);
          // The checks ran (as the owner) on the restored rows.
          expect(await seenIn(server, target)).toEqual([evil]);
          const [checks] = await sql<{ n: number }>(
            server,
            target,
            `SELECT count(*)::int AS n FROM pg_constraint
           WHERE (conrelid = 'plant.t'::regclass OR contypid = 'plant.d'::regtype) AND convalidated`,
          );
          expect(checks!.n).toBe(2);
        }
        // The domain check added after the rows prints as before (inside CREATE DOMAIN).
        const source = await pgDumpPicture(server, db);
        if (source) expect((await pgDumpPicture(server, created))!.schema).toEqual(source.schema);

        // psql alone, from the extracted archive.
        const dir = await extractArchive(storage);
        const byPsql = await createDatabase(server, 'esc_check_psql');
        dbs.push(byPsql);
        psql(server, byPsql, ['-v', 'ON_ERROR_STOP=1', '-f', 'database/restore.psql'], dir);
        expect(await isSuperuser(server, evil)).toBe(false);
        expect(await seenIn(server, byPsql)).toEqual([evil]);

        await engine.verify('latest', { deep: true });
        expect(await isSuperuser(server, evil)).toBe(false);
      });
    });

    it('planted code that changes a setting or adds a temporary object stops the restore', async () => {
      await withEvil(async (evil, dbs) => {
        // A CHECK whose code turns standard_conforming_strings off for the rest of the session.
        const settingDb = await createDatabase(server, 'esc_setting');
        dbs.push(settingDb);
        await sql(
          server,
          settingDb,
          `${plantFunctions(evil)}
         CREATE FUNCTION plant.sneak(i int) RETURNS int LANGUAGE plpgsql AS $$
         BEGIN PERFORM pg_catalog.set_config('standard_conforming_strings', 'off', false); RETURN i; END $$;
         CREATE TABLE plant.s (id int CHECK (plant.sneak(id) > 0));
         INSERT INTO plant.s VALUES (1);
         RESET ROLE;`,
        );
        const setting = engineFor(server, settingDb);
        await setting.engine.backup();
        await expect(
          setting.engine.restore('latest', {
            postgres: { targetDatabase: fresh(dbs, 'esc_setting_new') },
          }),
        ).rejects.toThrow(
          /RESTORE_REFUSED: constraint "s_id_check" on "plant"."s".*standard_conforming_strings/s,
        );
        const dir = await extractArchive(setting.storage);
        const byPsql = await createDatabase(server, 'esc_setting_psql');
        dbs.push(byPsql);
        expect(() =>
          psql(server, byPsql, ['-v', 'ON_ERROR_STOP=1', '-f', 'database/restore.psql'], dir),
        ).toThrow(/RESTORE_REFUSED: .*standard_conforming_strings/s);

        // A domain check whose code plants a pg_temp function shadowing Lifeboat's owner helper.
        const tempDb = await createDatabase(server, 'esc_temp');
        dbs.push(tempDb);
        await sql(
          server,
          tempDb,
          `${plantFunctions(evil)}
         CREATE FUNCTION plant.shadow(i int) RETURNS int LANGUAGE plpgsql AS $$
         BEGIN
           EXECUTE 'CREATE FUNCTION pg_temp.lifeboat_owner(text, text, boolean, int) RETURNS void LANGUAGE sql AS ''SELECT''';
           RETURN i;
         END $$;
         CREATE DOMAIN plant.e AS int CONSTRAINT e_shadow CHECK (plant.shadow(VALUE) > 0);
         CREATE TABLE plant.w (v plant.e);
         INSERT INTO plant.w VALUES (1);
         RESET ROLE;`,
        );
        const temp = engineFor(server, tempDb);
        await temp.engine.backup();
        const existing = await createDatabase(server, 'esc_temp_old');
        dbs.push(existing);
        await expect(
          temp.engine.restore('latest', { postgres: { targetDatabase: existing } }),
        ).rejects.toThrow(
          /RESTORE_REFUSED: constraint "e_shadow" on domain "plant"."e".*lifeboat_owner/s,
        );
        expect(await isSuperuser(server, evil)).toBe(false);
      });
    });
  },
);
