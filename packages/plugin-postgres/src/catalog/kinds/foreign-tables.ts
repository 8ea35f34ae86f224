import type { KindSpec } from './read-kinds.js';
import { optionsClause } from './sql.js';

/** One column of a foreign table: type, options, collation, default or generation, NOT NULL. */
const COLUMN = `E'    ' || pg_catalog.quote_ident(a.attname) || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod)
  || ${optionsClause('a.attfdwoptions')}
  || COALESCE((SELECT ' COLLATE ' || pg_catalog.format('%I.%I', cn.nspname, co.collname)
      FROM pg_catalog.pg_collation co JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
      WHERE co.oid = a.attcollation AND a.attcollation <> ty.typcollation), '')
  || CASE WHEN a.attgenerated = 's' THEN ' GENERATED ALWAYS AS (' || pg_catalog.pg_get_expr(d.adbin, d.adrelid) || ') STORED'
          WHEN a.attgenerated = 'v' THEN ' GENERATED ALWAYS AS (' || pg_catalog.pg_get_expr(d.adbin, d.adrelid) || ') VIRTUAL'
          ELSE COALESCE(' DEFAULT ' || pg_catalog.pg_get_expr(d.adbin, d.adrelid), '') END
  || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END`;

/** A foreign table's own triggers (not a partition's copy of its table's). */
const TRIGGERS_OF = `FROM pg_catalog.pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal AND t.tgparentid = 0`;

/** Each trigger, its state when not the default, its comment. */
const TRIGGERS = `COALESCE((SELECT pg_catalog.string_agg(E'\\n' || pg_catalog.pg_get_triggerdef(t.oid) || ';'
    || CASE t.tgenabled WHEN 'D' THEN E'\\nALTER FOREIGN TABLE ' || x.name || ' DISABLE TRIGGER ' || pg_catalog.quote_ident(t.tgname) || ';'
         WHEN 'R' THEN E'\\nALTER FOREIGN TABLE ' || x.name || ' ENABLE REPLICA TRIGGER ' || pg_catalog.quote_ident(t.tgname) || ';'
         WHEN 'A' THEN E'\\nALTER FOREIGN TABLE ' || x.name || ' ENABLE ALWAYS TRIGGER ' || pg_catalog.quote_ident(t.tgname) || ';'
         ELSE '' END
    || COALESCE(E'\\nCOMMENT ON TRIGGER ' || pg_catalog.quote_ident(t.tgname) || ' ON ' || x.name || ' IS '
         || pg_catalog.quote_literal(pg_catalog.obj_description(t.oid, 'pg_trigger')) || ';', ''), '' ORDER BY t.tgname)
  ${TRIGGERS_OF}), '')`;

const COLUMNS_OF = `FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
  LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped`;

/**
 * CREATE FOREIGN TABLE as pg_dump's dumpTableSchema writes one: its own columns (with their
 * OPTIONS), CHECK constraints, INHERITS, or PARTITION OF its partitioned table, SERVER and
 * OPTIONS; the comments and privileges of its columns; its triggers. As pg_dump by default, its rows are not copied: they
 * live on the foreign server.
 */
export const foreignTables: KindSpec = {
  kind: 'foreign table',
  catalog: 'pg_class',
  rank: 3,
  query: () => `SELECT c.oid, 'c:' || c.oid AS key, x.name AS sort_name,
  'CREATE FOREIGN TABLE ' || x.name
    || CASE WHEN c.relispartition THEN
      ' PARTITION OF ' || (SELECT i.inhparent::pg_catalog.regclass::text FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid)
      || ' ' || pg_catalog.pg_get_expr(c.relpartbound, c.oid)
    ELSE E' (\\n' || pg_catalog.concat_ws(E',\\n',
        (SELECT pg_catalog.string_agg(${COLUMN}, E',\\n' ORDER BY a.attnum) ${COLUMNS_OF} AND a.attislocal),
        (SELECT pg_catalog.string_agg(E'    CONSTRAINT ' || pg_catalog.quote_ident(k.conname) || ' ' || pg_catalog.pg_get_constraintdef(k.oid),
           E',\\n' ORDER BY k.conname) FROM pg_catalog.pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'c' AND k.conislocal))
      || E'\\n)' || COALESCE((SELECT ' INHERITS (' || pg_catalog.string_agg(i.inhparent::pg_catalog.regclass::text, ', ' ORDER BY i.inhseqno) || ')'
        FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid), '') END
    || E'\\nSERVER ' || pg_catalog.quote_ident(s.srvname) || ${optionsClause('ft.ftoptions')} || ';'
    -- A partition's columns come from its table: their options are given after.
    || CASE WHEN c.relispartition THEN COALESCE((SELECT pg_catalog.string_agg(E'\\nALTER FOREIGN TABLE ' || x.name
        || ' ALTER COLUMN ' || pg_catalog.quote_ident(a.attname) || ${optionsClause('a.attfdwoptions')} || ';', '' ORDER BY a.attnum)
        ${COLUMNS_OF} AND a.attfdwoptions IS NOT NULL), '') ELSE '' END
    || COALESCE((SELECT pg_catalog.string_agg(E'\\nCOMMENT ON COLUMN ' || x.name || '.' || pg_catalog.quote_ident(a.attname)
        || ' IS ' || pg_catalog.quote_literal(pg_catalog.col_description(c.oid, a.attnum)) || ';', '' ORDER BY a.attnum)
        ${COLUMNS_OF} AND pg_catalog.col_description(c.oid, a.attnum) IS NOT NULL), '')
    -- Its triggers come with it: no rows are loaded into it, nothing fires before post-data.
    || ${TRIGGERS} AS ddl,
  'FOREIGN TABLE ' || x.name AS comment_target, 'FOREIGN TABLE ' || x.name AS owner_target, c.relowner AS owner_oid,
  'TABLE ' || x.name AS grant_target, c.relacl AS acl,
  ARRAY(SELECT 'c:' || i.inhparent FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid
    UNION ALL SELECT 'p:' || t.tgfoid ${TRIGGERS_OF}) AS needs,
  NULL::text AS shell_ddl, NULL::text[] AS shell_for,
  (SELECT pg_catalog.json_agg(pg_catalog.json_build_object('column', a.attname, 'privilege', e.privilege_type,
     'grantable', e.is_grantable, 'grantee', CASE WHEN e.grantee = 0 THEN NULL ELSE pg_catalog.pg_get_userbyid(e.grantee) END,
     'toOwner', e.grantee = c.relowner) ORDER BY a.attnum, e.n)
   -- In the ACL's order: pg_dump prints a column's grants as its ACL lists them.
   FROM pg_catalog.pg_attribute a, pg_catalog.aclexplode(a.attacl) WITH ORDINALITY e(grantor, grantee, privilege_type, is_grantable, n)
   WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attacl IS NOT NULL) AS column_privileges
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_foreign_table ft ON ft.ftrelid = c.oid JOIN pg_catalog.pg_foreign_server s ON s.oid = ft.ftserver,
  LATERAL (SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) AS name) x
WHERE c.relkind = 'f'`,
};
