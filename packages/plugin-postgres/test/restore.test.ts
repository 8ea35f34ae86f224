import { isLifeboatError } from '@lifeboat/core';
import { rejectionOf } from '@lifeboat/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { engineFor } from './support/engine.js';
import { createDatabase, servers, sql, trackDatabase, uniqueName } from './support/servers.js';

const SHOP = `
CREATE SCHEMA shop;
CREATE TABLE shop.customers (id bigserial PRIMARY KEY, name text NOT NULL);
CREATE TABLE shop.orders (
  id bigserial PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES shop.customers(id) ON DELETE CASCADE,
  total numeric(10, 2) NOT NULL
);
CREATE TABLE public.audit (id serial PRIMARY KEY, what text);
CREATE FUNCTION public.log_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.audit (what) VALUES ('order ' || NEW.id); RETURN NEW; END $$;
CREATE TRIGGER orders_log AFTER INSERT ON shop.orders FOR EACH ROW EXECUTE FUNCTION public.log_order();
CREATE TABLE public.orders (id integer PRIMARY KEY, note text);
CREATE VIEW public.order_totals AS SELECT customer_id, sum(total) AS total FROM shop.orders GROUP BY customer_id;
INSERT INTO shop.customers (name) SELECT 'c' || g FROM generate_series(1, 100) g;
INSERT INTO shop.orders (customer_id, total) SELECT 1 + g % 100, g FROM generate_series(1, 1000) g;
INSERT INTO public.orders SELECT g, 'public ' || g FROM generate_series(1, 10) g;
`;

const count = async (server: (typeof servers)[number], db: string, table: string) =>
  Number((await sql<{ n: string }>(server, db, `SELECT count(*) AS n FROM ${table}`))[0]!.n);

describe.each(servers)('restore modes on $name', (server) => {
  let db: string;
  let backup: ReturnType<typeof engineFor>;

  beforeAll(async () => {
    await server.start();
    db = await createDatabase(server, 'shop');
    await sql(server, db, SHOP);
    backup = engineFor(server, db, { partBytes: 4096 });
    await backup.engine.backup();
  });

  it('replaces the rows of chosen live tables, one transaction per table, without cascading', async () => {
    await sql(
      server,
      db,
      "DELETE FROM shop.orders WHERE id > 500; UPDATE shop.customers SET name = 'changed'",
    );
    const auditBefore = await count(server, db, 'public.audit');
    const tables: string[] = [];
    backup.engine.events.on('source:item', (e) => {
      if (e.phase === 'restore' && e.kind === 'table') tables.push(e.name);
    });
    const result = await backup.engine.restore('latest', {
      postgres: { inPlace: true, tables: ['shop.orders', 'customers'] },
    });
    expect(result.sections[0]!.summary.mode).toBe('tables');
    expect(await count(server, db, 'shop.orders')).toBe(1000);
    expect(await count(server, db, "shop.customers WHERE name = 'changed'")).toBe(0);
    // Triggers did not fire and the cascade did not empty orders while customers were replaced.
    expect(await count(server, db, 'public.audit')).toBe(auditBefore);
    expect(tables.sort()).toEqual(['shop.customers', 'shop.orders']);
    // The sequence does not go back below the restored ids.
    const [next] = await sql<{ id: string }>(
      server,
      db,
      "SELECT nextval('shop.orders_id_seq') AS id",
    );
    expect(Number(next!.id)).toBeGreaterThan(1000);
    // "orders" alone means public.orders.
    await sql(server, db, 'DELETE FROM public.orders');
    await backup.engine.restore('latest', { postgres: { inPlace: true, tables: ['orders'] } });
    expect(await count(server, db, 'public.orders')).toBe(10);
  });

  it('loads side by side with --as-suffix and leaves the originals alone', async () => {
    await sql(server, db, 'DELETE FROM shop.orders WHERE id <= 10');
    await backup.engine.restore('latest', {
      postgres: { inPlace: true, tables: ['shop.orders'], asSuffix: '_restored' },
    });
    expect(await count(server, db, 'shop.orders_restored')).toBe(1000);
    expect(await count(server, db, 'shop.orders')).toBe(990);
    const missing = await sql(
      server,
      db,
      'SELECT o.id FROM shop.orders_restored o LEFT JOIN shop.orders l USING (id) WHERE l.id IS NULL ORDER BY 1',
    );
    expect(missing).toHaveLength(10);
    // A second time the side table is in the way, unless --clean.
    const error = await rejectionOf(
      backup.engine.restore('latest', {
        postgres: { inPlace: true, tables: ['shop.orders'], asSuffix: '_restored' },
      }),
    );
    expect(isLifeboatError(error, 'TARGET_NOT_EMPTY')).toBe(true);
    await backup.engine.restore('latest', {
      confirm: true,
      postgres: { inPlace: true, tables: ['shop.orders'], asSuffix: '_restored', clean: true },
    });
    expect(await count(server, db, 'shop.orders_restored')).toBe(1000);
  });

  it('names a table that is not in the archive', async () => {
    const error = await rejectionOf(
      backup.engine.restore('latest', { postgres: { inPlace: true, tables: ['shop.nope'] } }),
    );
    expect(isLifeboatError(error, 'TABLE_NOT_FOUND')).toBe(true);
    expect((error as Error).message).toContain('shop.nope');
  });

  it('leaves a table as it was when its load fails', async () => {
    await sql(
      server,
      db,
      'ALTER TABLE shop.customers ADD CONSTRAINT short_name CHECK (length(name) < 3) NOT VALID',
    );
    try {
      const before = await count(server, db, 'shop.customers');
      const error = await rejectionOf(
        backup.engine.restore('latest', {
          postgres: { inPlace: true, tables: ['shop.customers'] },
        }),
      );
      expect(isLifeboatError(error, 'RESTORE_FAILED')).toBe(true);
      expect(await count(server, db, 'shop.customers')).toBe(before);
    } finally {
      await sql(server, db, 'ALTER TABLE shop.customers DROP CONSTRAINT short_name');
    }
  });

  it('refuses a non-empty target, and replaces it with --clean', async () => {
    const target = await createDatabase(server, 'shop_target');
    await sql(
      server,
      target,
      'CREATE TABLE public.leftover (x int); INSERT INTO public.leftover VALUES (1)',
    );
    const error = await rejectionOf(
      backup.engine.restore('latest', { postgres: { targetDatabase: target } }),
    );
    expect(isLifeboatError(error, 'TARGET_NOT_EMPTY')).toBe(true);
    expect((error as Error).message).toContain('public.leftover');
    await backup.engine.restore('latest', {
      confirm: true,
      postgres: { targetDatabase: target, clean: true },
    });
    expect(await count(server, target, 'shop.orders')).toBe(1000);
    const leftover = await sql(server, target, "SELECT to_regclass('public.leftover') AS t");
    expect(leftover[0]!.t).toBeNull();
    // A failed restore into an existing database leaves it as it was (one transaction): here a
    // check constraint calls a function (declared immutable) changed after the rows went in,
    // so the restored rows fail it.
    await sql(
      server,
      db,
      `CREATE FUNCTION public.lb_positive(x int) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT x > 0';
       CREATE TABLE public.guarded (x int CONSTRAINT guarded_positive CHECK (public.lb_positive(x)));
       INSERT INTO public.guarded VALUES (1);
       CREATE OR REPLACE FUNCTION public.lb_positive(x int) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT x > 100';`,
    );
    const withRole = engineFor(server, db);
    await withRole.engine.backup();
    await sql(server, db, 'DROP TABLE public.guarded; DROP FUNCTION public.lb_positive(int)');
    await sql(server, target, 'CREATE TABLE public.keep_me (x int)');
    const failed = await rejectionOf(
      withRole.engine.restore('latest', {
        confirm: true,
        postgres: { targetDatabase: target, clean: true },
      }),
    );
    expect(isLifeboatError(failed, 'RESTORE_FAILED')).toBe(true);
    expect((failed as Error).message).toContain('guarded_positive');
    expect(
      (await sql(server, target, "SELECT to_regclass('public.keep_me') AS t"))[0]!.t,
    ).not.toBeNull();
    expect(await count(server, target, 'shop.orders')).toBe(1000);
  });

  it('creates a missing target database and restores a table selection backup', async () => {
    const selected = engineFor(server, db, { tables: ['shop.orders', 'shop.customers'] });
    const result = await selected.engine.backup();
    expect(result.tables.map((t) => t.name).sort()).toEqual(['shop.customers', 'shop.orders']);
    // Without customers, the foreign key from orders cannot be restored: reported, not dropped silently.
    const excluded = engineFor(server, db, {
      excludeTables: ['shop.customers', 'shop.orders_restored'],
    });
    const resultEx = await excluded.engine.backup();
    expect(resultEx.tables.map((t) => t.name)).not.toContain('shop.customers');
    expect(resultEx.tables.map((t) => t.name)).toContain('public.audit');
    expect(resultEx.warnings.map((w) => w.message).join('\n')).toMatch(
      /foreign key orders_customer_id_fkey/,
    );
    const target = uniqueName('shop_new');
    trackDatabase(server, target);
    await selected.engine.restore('latest', { postgres: { targetDatabase: target } });
    // The as-suffix test above removed 10 orders from the live table.
    expect(await count(server, target, 'shop.orders')).toBe(990);
    expect(await count(server, target, 'public.order_totals')).toBe(100);
    expect((await sql(server, target, "SELECT to_regclass('public.audit') AS t"))[0]!.t).toBeNull();
  });

  it('fails the backup naming a selected table that does not exist', async () => {
    const missing = engineFor(server, db, { tables: ['shop.orders', 'shop.ghost'] });
    const error = await rejectionOf(missing.engine.backup());
    expect(isLifeboatError(error, 'TABLE_NOT_FOUND')).toBe(true);
    expect((error as Error).message).toContain('shop.ghost');
    expect(await missing.storage.list('critical_backup')).toEqual([]);
  });
});
