import { randomBytes } from 'node:crypto';
import { createEngine } from '@lifeboat/core';
import { describe, expect, it } from 'vitest';
import { readCodeOwners } from '../src/catalog/code-owners.js';
import { guardStep, ifPresent, indexPresent } from '../src/catalog/step-guard.js';
import { placeStatement } from '../src/restore/statement-place.js';
import { engineFor, extractArchive } from './support/engine.js';
import { plantFunctions } from './support/plant.js';
import {
  adminClient,
  createDatabase,
  psqlAs,
  servers,
  sourceFor,
  sql,
  trackDatabase,
  uniqueName,
} from './support/servers.js';

/**
 * The source's owners cannot always be given back: --no-owner, a role missing on the target, a
 * restoring role that is no superuser. The tables then stay with the restoring role, and the
 * index builds, constraint checks and materialized view refreshes of post-data would run the
 * source roles' functions as that role (a superuser, in a drill). Such steps are skipped, named
 * in the result and in a RESTORE_STEP_SKIPPED warning, and a drill that skipped one fails.
 */
describe.each(servers)(
  'no source function runs as a restorer that could not set owners on $name',
  (server) => {
    it('skips the steps that would run them, names them, and fails the drill', async () => {
      await server.start();
      const evil = `lb_evil_${randomBytes(3).toString('hex')}`;
      const restorer = {
        name: `lb_rest_${randomBytes(3).toString('hex')}`,
        password: `pw-${randomBytes(6).toString('hex')}`,
      };
      const db = await createDatabase(server, 'noowner');
      await sql(server, 'postgres', `CREATE ROLE ${evil} NOLOGIN`);
      await sql(
        server,
        'postgres',
        `CREATE ROLE ${restorer.name} LOGIN CREATEDB PASSWORD '${restorer.password}'`,
      );
      const targets: string[] = [];
      let renamed = false;
      try {
        await sql(
          server,
          db,
          `${plantFunctions(evil)}
         GRANT INSERT ON plant.seen TO PUBLIC;
         CREATE TABLE plant.t (id int CHECK (plant.key(id) > 0), d int DEFAULT plant.key(7));
         INSERT INTO plant.t VALUES (1, 1), (2, 2);
         CREATE INDEX t_key ON plant.t (plant.key(id));
         COMMENT ON INDEX plant.t_key IS 'built by the planted function';
         CREATE MATERIALIZED VIEW plant.mv AS SELECT plant.grab() AS x;
         RESET ROLE;
         TRUNCATE plant.seen;`,
        );
        const { engine, storage } = engineFor(server, db);
        await engine.backup();
        const dir = await extractArchive(storage);

        const isSuper = async () =>
          (
            await sql<{ s: boolean }>(
              server,
              'postgres',
              `SELECT rolsuper AS s FROM pg_roles WHERE rolname IN ('${evil}', '${evil}_gone')`,
            )
          )[0]!.s;
        const seenBy = async (database: string) =>
          (await sql<{ who: string }>(server, database, 'SELECT DISTINCT who FROM plant.seen')).map(
            (r) => r.who,
          );
        const steps = [
          'constraint "t_id_check" on "plant"."t"',
          'index "plant"."t_key" on "plant"."t"',
          'refresh of materialized view "plant"."mv"',
        ];
        const skippedIn = (result: Awaited<ReturnType<typeof engine.restore>>) =>
          [
            ...((result.sections.find((s) => s.section === 'database')?.summary.skippedSteps ??
              []) as string[]),
          ].sort();
        /** Nothing of the plant ran, the index is absent, the check is there but not validated. */
        const untouched = async (database: string) => {
          expect(await isSuper()).toBe(false);
          expect(await seenBy(database)).toEqual([]);
          const [state] = await sql<{
            index: string | null;
            validated: boolean;
            populated: boolean;
          }>(
            server,
            database,
            `SELECT pg_catalog.to_regclass('plant.t_key')::text AS index,
             (SELECT convalidated FROM pg_constraint WHERE conname = 't_id_check') AS validated,
             (SELECT relispopulated FROM pg_class WHERE oid = 'plant.mv'::regclass) AS populated`,
          );
          expect(state).toEqual({ index: null, validated: false, populated: false });
          const rows = await sql<{ n: string }>(
            server,
            database,
            'SELECT count(*) AS n FROM plant.t',
          );
          expect(Number(rows[0]!.n)).toBe(2);
        };

        // 1. --no-owner as a superuser (the roles exist), through the engine: a new database
        //    (parallel load) and an existing empty one (one transaction).
        const warnings: { code: string; message: string }[] = [];
        engine.events.on('warning', (w) => warnings.push(w));
        const created = uniqueName('noowner_new');
        trackDatabase(server, created);
        const existing = await createDatabase(server, 'noowner_old');
        targets.push(created, existing);
        for (const target of [created, existing]) {
          warnings.length = 0;
          const result = await engine.restore('latest', {
            postgres: { targetDatabase: target, noOwner: true },
          });
          await untouched(target);
          expect(skippedIn(result)).toEqual(steps);
          const skipped = warnings.filter((w) => w.code === 'RESTORE_STEP_SKIPPED');
          expect(skipped).toHaveLength(3);
          for (const w of skipped) {
            expect(w.message).toContain(`it calls functions of ${evil}`);
            expect(w.message).toContain('run it as a superuser once those roles exist here');
          }
        }

        // 2. psql alone with -v no_owner=1, as a superuser.
        const byPsql = await createDatabase(server, 'noowner_psql');
        targets.push(byPsql);
        const superUser = { name: server.user, password: server.password ?? '' };
        const said = psqlAs(
          server,
          superUser,
          byPsql,
          ['-v', 'ON_ERROR_STOP=1', '-v', 'no_owner=1', '-f', 'database/restore.psql'],
          dir,
        ).stderr;
        await untouched(byPsql);
        for (const step of steps) expect(said).toContain(`RESTORE_STEP_SKIPPED: ${step} not run`);

        // 3. A restorer that is no superuser (CREATEDB, not a member of the owner): engine into a
        //    new and an existing database of its own, psql alone, and its drill.
        const asRestorer = createEngine({
          sources: [sourceFor(server, db, { user: restorer.name, password: restorer.password })],
          storage,
          pruneAfterBackup: false,
        });
        const fresh = uniqueName('noowner_rnew');
        trackDatabase(server, fresh);
        const own = uniqueName('noowner_rold');
        trackDatabase(server, own);
        await sql(server, 'postgres', `CREATE DATABASE ${own} OWNER ${restorer.name}`);
        const ownPsql = uniqueName('noowner_rpsql');
        trackDatabase(server, ownPsql);
        await sql(server, 'postgres', `CREATE DATABASE ${ownPsql} OWNER ${restorer.name}`);
        targets.push(fresh, own, ownPsql);
        for (const target of [fresh, own]) {
          const result = await asRestorer.restore('latest', {
            postgres: { targetDatabase: target },
          });
          await untouched(target);
          expect(skippedIn(result)).toEqual(steps);
        }
        const saidAsRestorer = psqlAs(
          server,
          restorer,
          ownPsql,
          ['-v', 'ON_ERROR_STOP=1', '-f', 'database/restore.psql'],
          dir,
        ).stderr;
        await untouched(ownPsql);
        for (const step of steps)
          expect(saidAsRestorer).toContain(`RESTORE_STEP_SKIPPED: ${step} not run`);
        const drill = await asRestorer.verify('latest', { deep: true });
        expect(drill.ok).toBe(false);
        const named = drill.problems.filter((p) => p.code === 'RESTORE_STEP_SKIPPED');
        expect(named.map((p) => p.message).join('\n')).toContain('index "plant"."t_key"');
        expect(named).toHaveLength(3);
        expect(await isSuper()).toBe(false);

        // 4. The owner role missing on the target (renamed away), a superuser restoring with owners:
        //    the drill skips the same steps and fails, and nothing ran.
        await sql(server, 'postgres', `ALTER ROLE ${evil} RENAME TO ${evil}_gone`);
        renamed = true;
        const missing = uniqueName('noowner_missing');
        trackDatabase(server, missing);
        targets.push(missing);
        const restored = await engine.restore('latest', { postgres: { targetDatabase: missing } });
        await untouched(missing);
        expect(skippedIn(restored)).toEqual(steps);
        const superDrill = await engine.verify('latest', { deep: true });
        expect(superDrill.ok).toBe(false);
        expect(superDrill.problems.filter((p) => p.code === 'RESTORE_STEP_SKIPPED')).toHaveLength(
          3,
        );
        expect(await isSuper()).toBe(false);
      } finally {
        if (renamed) await sql(server, 'postgres', `ALTER ROLE ${evil}_gone RENAME TO ${evil}`);
        for (const d of [db, ...targets]) {
          await sql(server, d, `DROP OWNED BY ${evil}`).catch(() => {});
          await sql(server, 'postgres', `DROP DATABASE IF EXISTS ${d}`).catch(() => {});
        }
        await sql(server, 'postgres', `DROP ROLE IF EXISTS ${evil}`);
        await sql(server, 'postgres', `DROP ROLE IF EXISTS ${restorer.name}`);
      }
    });
  },
);

describe('guarded steps keep their place for restore-time choices', () => {
  it('a guarded statement is placed as the statement it runs', () => {
    const step = { what: 'index', relation: '"s"."t"', owner: 'o', codeOwners: ["it's"] };
    const index = guardStep('CREATE INDEX i ON s.t USING btree (s.f(x))', step);
    expect(placeStatement(index.trim())).toEqual({ kind: 'object', schema: 's', relation: 't' });
    const check = guardStep(
      'ALTER TABLE "s"."t" ADD CONSTRAINT "c" CHECK (s.f(x) > 0)',
      step,
      'ALTER TABLE "z"."t" ADD CONSTRAINT "c" CHECK (s.f(x) > 0) NOT VALID',
    );
    expect(placeStatement(check.trim())).toMatchObject({ kind: 'object', schema: 's' });
    const comment = ifPresent(`COMMENT ON INDEX "s"."i" IS 'it''s'`, indexPresent('s', 'i'));
    expect(placeStatement(comment.trim())).toMatchObject({ kind: 'comment', schema: 's' });
  });
});

describe.each(servers)('whose code a step calls, on $name', (server) => {
  it('is found through operators, domains, views read and SQL-bodied functions', async () => {
    await server.start();
    const evil = `lb_code_${randomBytes(3).toString('hex')}`;
    const db = await createDatabase(server, 'codeowners');
    await sql(server, 'postgres', `CREATE ROLE ${evil} NOLOGIN`);
    const client = adminClient(server, db);
    try {
      await sql(
        server,
        db,
        `${plantFunctions(evil)}
         CREATE FUNCTION plant.same(a int, b int) RETURNS boolean LANGUAGE sql IMMUTABLE
           RETURN plant.key(a) = b;
         CREATE OPERATOR plant.=== (LEFTARG = int, RIGHTARG = int, FUNCTION = plant.same);
         CREATE DOMAIN plant.pos AS int CHECK (plant.key(VALUE) > 0);
         CREATE VIEW plant.v AS SELECT plant.key(1) AS k;
         CREATE TABLE plant.t (id int, CONSTRAINT op CHECK (id OPERATOR(plant.===) id));
         CREATE INDEX t_plain ON plant.t (id);
         CREATE MATERIALIZED VIEW plant.reads_view AS SELECT k FROM plant.v;
         CREATE MATERIALIZED VIEW plant.casts AS SELECT 1::plant.pos AS p;
         CREATE MATERIALIZED VIEW plant.plain AS SELECT 1 AS one;
         RESET ROLE;`,
      );
      await client.connect();
      const { rows } = await client.query(
        `SELECT c.oid, c.relname FROM pg_class c WHERE c.relnamespace = 'plant'::regnamespace AND c.relkind IN ('r', 'm')`,
      );
      const oids = rows.map((r: { oid: number }) => Number(r.oid));
      const found = await readCodeOwners(client, oids);
      const named = new Map<string, string[]>();
      for (const [key, owners] of found) {
        const [kind, oid] = key.split(':');
        // A domain check: d:<type oid>/<name>.
        if (kind === 'd') {
          named.set(`domain ${oid!.split('/')[1]}`, owners);
          continue;
        }
        const { rows: name } = await client.query(
          kind === 'k'
            ? 'SELECT conname AS n FROM pg_constraint WHERE oid = $1'
            : 'SELECT relname AS n FROM pg_class WHERE oid = $1',
          [oid],
        );
        named.set(name[0].n, owners);
      }
      // The SQL-bodied function (PG 14+) depends on the one it calls; both are evil's.
      expect(Object.fromEntries(named)).toEqual({
        op: [evil],
        reads_view: [evil],
        casts: [evil],
        'domain pos_check': [evil],
      });
    } finally {
      await client.end().catch(() => {});
      await sql(server, db, `DROP OWNED BY ${evil}`).catch(() => {});
      await sql(server, 'postgres', `DROP DATABASE IF EXISTS ${db}`).catch(() => {});
      await sql(server, 'postgres', `DROP ROLE IF EXISTS ${evil}`);
    }
  });
});
