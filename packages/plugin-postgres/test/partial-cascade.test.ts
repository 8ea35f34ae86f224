import { randomBytes } from 'node:crypto';
import { createEngine, isLifeboatError, type LifeboatError } from '@lifeboat/core';
import { rejectionOf } from '@lifeboat/core/testing';
import { describe, expect, it } from 'vitest';
import { engineFor } from './support/engine.js';
import { createDatabase, servers, sourceFor, sql } from './support/servers.js';

const SCHEMA = `CREATE TABLE users (id int PRIMARY KEY, name text);
  INSERT INTO users VALUES (1, 'ada'), (2, 'bob');
  CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users ON DELETE CASCADE);
  INSERT INTO orders VALUES (10, 1), (11, 2);
  CREATE TABLE notes (id int PRIMARY KEY, user_id int CONSTRAINT notes_user REFERENCES users ON DELETE SET NULL);
  INSERT INTO notes VALUES (20, 1);
  CREATE TABLE audit (what text);
  CREATE TABLE items (id int PRIMARY KEY);
  INSERT INTO items VALUES (1), (2);
  CREATE FUNCTION log_delete() RETURNS trigger LANGUAGE plpgsql AS
    $$BEGIN INSERT INTO public.audit VALUES ('deleted ' || OLD.id); RETURN OLD; END$$;
  CREATE TRIGGER items_deleted AFTER DELETE ON items FOR EACH ROW EXECUTE FUNCTION log_delete();
  CREATE RULE items_kept AS ON DELETE TO items DO ALSO INSERT INTO audit VALUES ('rule');`;

const count = async (server: (typeof servers)[number], db: string, what: string) =>
  (await sql<{ n: number }>(server, db, `SELECT count(*)::int AS n FROM ${what}`))[0]!.n;

/**
 * `restore --tables users` replaces the rows of users: it deletes them first. A role that may
 * not hold triggers (session_replication_role is a superuser's) would let that delete cascade
 * into orders, null notes and run ON DELETE triggers and rules, none of which the restore puts
 * back. It is refused before anything changes; a superuser's restore holds them, and reports
 * rows of other tables left pointing at nothing.
 */
describe.each(servers)('partial restore reaching other tables on $name', (server) => {
  it('refuses, changing nothing, when the delete would cascade and triggers cannot be held', async () => {
    await server.start();
    const role = `lb_casc_${randomBytes(3).toString('hex')}`;
    const password = `pw-${randomBytes(6).toString('hex')}`;
    const db = await createDatabase(server, 'casc');
    await sql(server, 'postgres', `CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    try {
      await sql(server, db, SCHEMA);
      await sql(
        server,
        db,
        `ALTER TABLE users OWNER TO ${role}; ALTER TABLE orders OWNER TO ${role};
         ALTER TABLE notes OWNER TO ${role}; ALTER TABLE items OWNER TO ${role};
         ALTER TABLE audit OWNER TO ${role};`,
      );
      const { engine, storage } = engineFor(server, db);
      await engine.backup();
      const asRole = createEngine({
        sources: [sourceFor(server, db, { user: role, password })],
        storage,
      });
      const error = (await rejectionOf(
        asRole.restore('latest', { postgres: { inPlace: true, tables: ['users'] } }),
      )) as LifeboatError;
      expect(isLifeboatError(error, 'RESTORE_FAILED')).toBe(true);
      expect(error.message).toMatch(/orders_user_id_fkey of public\.orders \(ON DELETE CASCADE\)/);
      expect(error.message).toMatch(/notes_user of public\.notes \(ON DELETE SET NULL\)/);
      expect(error.hint).toMatch(/--as-suffix/);
      expect(error.hint).toMatch(/superuser/);
      expect(await count(server, db, 'orders')).toBe(2);
      expect(await count(server, db, 'notes WHERE user_id IS NOT NULL')).toBe(1);

      const items = (await rejectionOf(
        asRole.restore('latest', { postgres: { inPlace: true, tables: ['items'] } }),
      )) as LifeboatError;
      expect(isLifeboatError(items, 'RESTORE_FAILED')).toBe(true);
      expect(items.message).toMatch(/trigger items_deleted \(ON DELETE\)/);
      expect(items.message).toMatch(/rule items_kept \(ON DELETE\)/);
      expect(await count(server, db, 'audit')).toBe(0);
      expect(await count(server, db, 'items')).toBe(2);

      // A table whose delete reaches nothing else is replaced as before.
      await sql(server, db, `INSERT INTO audit VALUES ('since the backup')`);
      const warnings: string[] = [];
      asRole.events.on('warning', (w) => warnings.push(w.code));
      await asRole.restore('latest', { postgres: { inPlace: true, tables: ['audit'] } });
      expect(await count(server, db, 'audit')).toBe(0);
      expect(warnings).toContain('REPLICA_ROLE_DENIED');
    } finally {
      await sql(server, db, `DROP OWNED BY ${role}`).catch(() => {});
      await sql(server, 'postgres', `DROP ROLE IF EXISTS ${role}`);
    }
  });

  it('holds triggers as a superuser and reports child rows left pointing at nothing', async () => {
    await server.start();
    const db = await createDatabase(server, 'orphan');
    await sql(server, db, SCHEMA);
    const { engine } = engineFor(server, db);
    await engine.backup();
    // Added since the backup: a user and an order of theirs.
    await sql(server, db, `INSERT INTO users VALUES (3, 'cy'); INSERT INTO orders VALUES (12, 3)`);
    const warnings: { code: string; message: string }[] = [];
    engine.events.on('warning', (w) => warnings.push(w));
    await engine.restore('latest', { postgres: { inPlace: true, tables: ['users'] } });
    expect(await count(server, db, 'users')).toBe(2);
    expect(await count(server, db, 'orders')).toBe(3);
    expect(await count(server, db, 'notes WHERE user_id IS NOT NULL')).toBe(1);
    const orphans = warnings.filter((w) => w.code === 'ORPHANED_ROWS').map((w) => w.message);
    expect(orphans).toHaveLength(1);
    expect(orphans[0]).toMatch(/^1 row of public\.orders \(foreign key orders_user_id_fkey\)/);
  });
});
