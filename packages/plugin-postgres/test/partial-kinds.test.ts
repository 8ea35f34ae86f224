import { beforeAll, describe, expect, it } from 'vitest';
import { engineFor } from './support/engine.js';
import { createDatabase, servers, sql } from './support/servers.js';

/**
 * Partial restore (issue 20 item 5) of a table whose columns use the kinds a backup now keeps:
 * a collation, a user-defined base type (made of internal functions, as pg_dump's own tests make
 * it), a range type and an index with a custom operator class. Both ways: rows put back into the
 * live table, and the table restored beside it with a suffix, with the same column types.
 */
const FIXTURE = `CREATE SCHEMA kinds;
CREATE COLLATION kinds.c_coll (provider = libc, locale = 'C');
CREATE TYPE kinds.int42;
CREATE FUNCTION kinds.int42_in(cstring) RETURNS kinds.int42 AS 'int4in' LANGUAGE internal STRICT IMMUTABLE;
CREATE FUNCTION kinds.int42_out(kinds.int42) RETURNS cstring AS 'int4out' LANGUAGE internal STRICT IMMUTABLE;
CREATE TYPE kinds.int42 (internallength = 4, input = kinds.int42_in, output = kinds.int42_out,
  alignment = int4, default = 42, passedbyvalue);
CREATE TYPE kinds.floatrange AS RANGE (subtype = float8, subtype_diff = float8mi);
CREATE FUNCTION kinds.rev_cmp(int, int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT btint4cmp($2, $1)';
CREATE OPERATOR CLASS kinds.rev_ops FOR TYPE int USING btree AS
  OPERATOR 1 >, OPERATOR 2 >=, OPERATOR 3 =, OPERATOR 4 <=, OPERATOR 5 <, FUNCTION 1 kinds.rev_cmp(int, int);
CREATE TABLE public.things (
  id int PRIMARY KEY,
  label text COLLATE kinds.c_coll,
  code kinds.int42,
  span kinds.floatrange
);
CREATE INDEX things_rev ON public.things (id kinds.rev_ops);
INSERT INTO public.things SELECT g, 'thing ' || g, (g * 2)::text::kinds.int42,
  kinds.floatrange(g, g + 0.5) FROM generate_series(1, 25) g;`;

const rowsOf = (server: (typeof servers)[number], db: string, table: string) =>
  sql<{ row: string }>(
    server,
    db,
    `SELECT (id, label, code::text, span::text)::text AS row FROM ${table} ORDER BY id`,
  );

const columnsOf = (server: (typeof servers)[number], db: string, table: string) =>
  sql<{ name: string; type: string; coll: string | null }>(
    server,
    db,
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN a.attcollation::regcollation::text END AS coll
     FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
     WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [table],
  );

describe.each(servers)('partial restore of a table using the new kinds on $name', (server) => {
  let db: string;
  let original: { row: string }[];
  beforeAll(async () => {
    await server.start();
    db = await createDatabase(server, 'partialkinds');
    await sql(server, db, FIXTURE);
    original = await rowsOf(server, db, 'public.things');
  });

  it('puts the rows back into the live table', async () => {
    const { engine } = engineFor(server, db);
    await engine.backup();
    await sql(
      server,
      db,
      `DELETE FROM public.things WHERE id > 10; UPDATE public.things SET label = 'x'`,
    );
    await engine.restore('latest', { postgres: { inPlace: true, tables: ['things'] } });
    expect(await rowsOf(server, db, 'public.things')).toEqual(original);
    // The index with the custom operator class is there and still used for its order.
    const [index] = await sql<{ def: string }>(
      server,
      db,
      "SELECT pg_get_indexdef('public.things_rev'::regclass) AS def",
    );
    expect(index!.def).toContain('kinds.rev_ops');
  });

  it('restores the table beside the live one with the same column types', async () => {
    const { engine } = engineFor(server, db);
    await engine.backup();
    await engine.restore('latest', {
      postgres: { inPlace: true, tables: ['things'], asSuffix: '_r' },
    });
    expect(await rowsOf(server, db, 'public.things_r')).toEqual(original);
    expect(await columnsOf(server, db, 'public.things_r')).toEqual(
      await columnsOf(server, db, 'public.things'),
    );
  });
});
