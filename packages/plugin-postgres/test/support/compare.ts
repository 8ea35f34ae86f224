import { adminClient, type TestServer } from './servers.js';

const USER_NS = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg\\_%'`;
const NOT_EXT = (cls: string, oid: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '${cls}'::regclass AND e.objid = ${oid} AND e.deptype = 'e')`;

/**
 * A comparable picture of a database: every table's rows (as text, sorted, hashed) and the
 * catalog as the server prints it. Two databases with equal pictures hold the same data and schema.
 */
export async function describeDatabase(server: TestServer, database: string) {
  const run = async (text: string) => {
    const client = adminClient(server, database);
    await client.connect();
    try {
      await client.query(
        "SET search_path = ''; SET timezone = 'UTC'; SET datestyle = ISO; SET extra_float_digits = 3",
      );
      return (await client.query(text)).rows as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  };
  const tables = await run(`SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE (c.relkind = 'r' OR (c.relkind = 'm' AND c.relispopulated)) AND ${USER_NS} AND ${NOT_EXT('pg_class', 'c.oid')} ORDER BY 1`);
  const data: Record<string, { rows: number; md5: string }> = {};
  for (const t of tables) {
    const name = t.name as string;
    // security: the owner bypasses RLS (FORCE is set on one table); row_security off fails instead.
    const [r] =
      await run(`SELECT count(*)::int AS rows, md5(coalesce(string_agg(x.t, E'\\n' ORDER BY x.t), '')) AS md5
      FROM (SELECT s::text AS t FROM ONLY ${name} s) x`);
    data[name] = r as { rows: number; md5: string };
  }
  const catalog = {
    columns:
      await run(`SELECT format('%I.%I', n.nspname, c.relname) AS rel, a.attname, format_type(a.atttypid, a.atttypmod) AS type,
        a.attnotnull, a.attidentity, a.attgenerated, pg_get_expr(d.adbin, d.adrelid) AS def, a.attnum
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE c.relkind IN ('r', 'p', 'v', 'm', 'c') AND a.attnum > 0 AND NOT a.attisdropped AND ${USER_NS}
        AND ${NOT_EXT('pg_class', 'c.oid')} ORDER BY 1, a.attnum`),
    constraints:
      await run(`SELECT format('%I.%I', n.nspname, c.relname) AS rel, co.conname, co.contype,
        pg_get_constraintdef(co.oid) AS def, co.condeferrable, co.condeferred, co.convalidated
      FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE ${USER_NS} AND co.contype <> 'n' ORDER BY 1, 2`),
    domainConstraints:
      await run(`SELECT co.contypid::regtype::text AS type, co.conname, pg_get_constraintdef(co.oid) AS def
      FROM pg_constraint co WHERE co.contypid <> 0 AND co.contypid >= 16384 ORDER BY 1, 2`),
    indexes:
      await run(`SELECT pg_get_indexdef(i.indexrelid) AS def, i.indisunique, i.indisprimary, i.indisclustered
      FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE ${USER_NS} AND ${NOT_EXT('pg_class', 'c.oid')} ORDER BY 1`),
    views:
      await run(`SELECT format('%I.%I', n.nspname, c.relname) AS rel, c.relkind, pg_get_viewdef(c.oid) AS def,
        c.reloptions, c.relispopulated
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('v', 'm') AND ${USER_NS} ORDER BY 1`),
    tables:
      await run(`SELECT format('%I.%I', n.nspname, c.relname) AS rel, c.relkind, c.relpersistence, c.reloptions,
        c.relrowsecurity, c.relforcerowsecurity, pg_get_partkeydef(c.oid) AS partkey, pg_get_expr(c.relpartbound, c.oid) AS bound,
        (SELECT string_agg(i.inhparent::regclass::text, ',' ORDER BY i.inhseqno) FROM pg_inherits i WHERE i.inhrelid = c.oid) AS parents,
        obj_description(c.oid, 'pg_class') AS comment
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'i', 'I') AND ${USER_NS} AND ${NOT_EXT('pg_class', 'c.oid')} ORDER BY 1`),
    triggers:
      await run(`SELECT t.tgrelid::regclass::text AS rel, t.tgname, pg_get_triggerdef(t.oid) AS def, t.tgenabled,
        obj_description(t.oid, 'pg_trigger') AS comment
      FROM pg_trigger t WHERE NOT t.tgisinternal ORDER BY 1, 2`),
    functions:
      await run(`SELECT p.oid::regprocedure::text AS sig, pg_get_functiondef(p.oid) AS def, obj_description(p.oid, 'pg_proc') AS comment
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE ${USER_NS} AND p.prokind <> 'a' AND ${NOT_EXT('pg_proc', 'p.oid')} ORDER BY 1`),
    types:
      await run(`SELECT t.oid::regtype::text AS type, t.typtype, format_type(t.typbasetype, t.typtypmod) AS base, t.typnotnull,
        t.typdefault, (SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = t.oid) AS labels,
        obj_description(t.oid, 'pg_type') AS comment
      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE ${USER_NS} AND t.typtype IN ('e', 'd', 'r', 'c') AND ${NOT_EXT('pg_type', 't.oid')}
        AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c') ORDER BY 1`),
    sequences:
      await run(`SELECT format('%I.%I', schemaname, sequencename) AS seq, data_type::text, start_value, min_value, max_value,
        increment_by, cycle, cache_size, last_value FROM pg_sequences ORDER BY 1`),
    policies:
      await run(`SELECT schemaname, tablename, policyname, permissive, roles::text, cmd, qual, with_check
      FROM pg_policies ORDER BY 1, 2, 3`),
    rules: await run(`SELECT schemaname, tablename, rulename, definition FROM pg_rules
      WHERE schemaname NOT IN ('pg_catalog') ORDER BY 1, 2, 3`),
    statistics: await run(
      `SELECT pg_get_statisticsobjdef(oid) AS def FROM pg_statistic_ext ORDER BY 1`,
    ),
    comments:
      await run(`SELECT d.classoid::regclass::text AS cls, d.objsubid, d.description FROM pg_description d
      WHERE d.objoid >= 16384 ORDER BY 1, 2, 3`),
    schemas:
      await run(`SELECT n.nspname, obj_description(n.oid, 'pg_namespace') AS comment FROM pg_namespace n
      WHERE ${USER_NS} ORDER BY 1`),
    extensions: await run(
      'SELECT extname, extnamespace::regnamespace::text AS ns FROM pg_extension ORDER BY 1',
    ),
    // ACL items in a fixed order: their order carries no meaning.
    privileges:
      await run(`SELECT 'schema' AS kind, n.nspname AS name, NULL AS col, (SELECT array_agg(x::text ORDER BY x::text) FROM unnest(n.nspacl) x)::text AS acl
      FROM pg_namespace n WHERE ${USER_NS}
      UNION ALL SELECT 'relation', format('%I.%I', n.nspname, c.relname), NULL, (SELECT array_agg(x::text ORDER BY x::text) FROM unnest(c.relacl) x)::text
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE ${USER_NS} AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
      UNION ALL SELECT 'column', format('%I.%I', n.nspname, c.relname), a.attname, (SELECT array_agg(x::text ORDER BY x::text) FROM unnest(a.attacl) x)::text
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE ${USER_NS} AND a.attnum > 0 AND a.attacl IS NOT NULL
      UNION ALL SELECT 'function', p.oid::regprocedure::text, NULL, (SELECT array_agg(x::text ORDER BY x::text) FROM unnest(p.proacl) x)::text
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${USER_NS}
      UNION ALL SELECT 'type', t.oid::regtype::text, NULL, (SELECT array_agg(x::text ORDER BY x::text) FROM unnest(t.typacl) x)::text
      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE ${USER_NS} AND t.typtype IN ('e', 'd', 'c', 'r')
      ORDER BY 1, 2, 3`),
    owners:
      await run(`SELECT 'schema' AS kind, n.nspname AS name, pg_get_userbyid(n.nspowner) AS owner
      FROM pg_namespace n WHERE ${USER_NS}
      UNION ALL SELECT 'relation', format('%I.%I', n.nspname, c.relname), pg_get_userbyid(c.relowner)
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE ${USER_NS} AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
      UNION ALL SELECT 'function', p.oid::regprocedure::text, pg_get_userbyid(p.proowner)
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${USER_NS}
      UNION ALL SELECT 'type', t.oid::regtype::text, pg_get_userbyid(t.typowner)
      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE ${USER_NS} AND t.typtype IN ('e', 'd', 'c', 'r')
        AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
      ORDER BY 1, 2`),
  };
  return { data, catalog };
}
