/**
 * Catalog queries. They run inside the backup's snapshot with search_path = '' so that every
 * name the server prints is schema-qualified. System schemas and objects that belong to an
 * extension (pg_depend deptype 'e') are left out: CREATE EXTENSION recreates those.
 */

export const USER_NAMESPACE = (
  alias: string,
) => `${alias}.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND ${alias}.nspname NOT LIKE 'pg\\_temp\\_%' AND ${alias}.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'`;

export const NOT_EXTENSION_MEMBER = (catalog: string, oid: string) => `NOT EXISTS (
  SELECT 1 FROM pg_catalog.pg_depend e
  WHERE e.classid = 'pg_catalog.${catalog}'::pg_catalog.regclass AND e.objid = ${oid} AND e.deptype = 'e')`;

/** Objects the server makes by itself along with another (a multirange's functions and casts). */
export const NOT_INTERNAL = (catalog: string, oid: string) => `NOT EXISTS (
  SELECT 1 FROM pg_catalog.pg_depend i
  WHERE i.classid = 'pg_catalog.${catalog}'::pg_catalog.regclass AND i.objid = ${oid} AND i.deptype = 'i')`;

const collationOf = (
  collOid: string,
  typeCollOid: string,
) => `CASE WHEN ${collOid} <> 0 AND ${collOid} <> ${typeCollOid}
  THEN (SELECT pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(co.collname)
        FROM pg_catalog.pg_collation co JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
        WHERE co.oid = ${collOid}) END`;

export const SERVER_INFO = `SELECT pg_catalog.current_setting('server_version') AS version,
  pg_catalog.current_setting('server_version_num')::int AS version_num,
  pg_catalog.current_database() AS database,
  pg_catalog.pg_encoding_to_char(d.encoding) AS encoding
FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()`;

export const EXTENSIONS = `SELECT e.extname AS name, n.nspname AS schema, e.extversion AS version,
  e.extconfig IS NOT NULL AS has_config
FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname <> 'plpgsql' ORDER BY e.extname`;

export const SCHEMAS = `SELECT n.oid::int8 AS oid, n.nspname AS name,
  pg_catalog.obj_description(n.oid, 'pg_namespace') AS comment
FROM pg_catalog.pg_namespace n
WHERE ${USER_NAMESPACE('n')} AND ${NOT_EXTENSION_MEMBER('pg_namespace', 'n.oid')}
ORDER BY n.nspname`;

/**
 * Enums, domains and standalone composites (arrays and table row types are implicit; base and
 * range types are kinds of their own, see kinds/types.ts).
 */
export const TYPES = `SELECT t.oid::int8 AS oid, n.nspname AS schema, t.typname AS name, t.typtype AS kind,
  CASE WHEN t.typtype = 'd' THEN pg_catalog.format_type(t.typbasetype, t.typtypmod) END AS base_type,
  t.typnotnull AS not_null,
  -- The expression, not typdefault's text: a default that casts to another user type (DEFAULT 'ok'::mood)
  -- must name that type's schema, as pg_dump writes it.
  CASE WHEN t.typdefaultbin IS NOT NULL THEN pg_catalog.pg_get_expr(t.typdefaultbin, 0) ELSE t.typdefault END AS "default",
  CASE WHEN t.typtype = 'd' THEN ${collationOf('t.typcollation', '(SELECT bt.typcollation FROM pg_catalog.pg_type bt WHERE bt.oid = t.typbasetype)')} END AS collation,
  (SELECT pg_catalog.to_json(pg_catalog.array_agg(l.enumlabel ORDER BY l.enumsortorder))
     FROM pg_catalog.pg_enum l WHERE l.enumtypid = t.oid) AS labels,
  (SELECT pg_catalog.json_agg(pg_catalog.json_build_object('name', a.attname,
       'type', pg_catalog.format_type(a.atttypid, a.atttypmod),
       'collation', ${collationOf('a.attcollation', '(SELECT at.typcollation FROM pg_catalog.pg_type at WHERE at.oid = a.atttypid)')},
       'comment', pg_catalog.col_description(t.typrelid, a.attnum)) ORDER BY a.attnum)
     FROM pg_catalog.pg_attribute a
     WHERE t.typtype = 'c' AND a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) AS attributes,
  (SELECT pg_catalog.json_agg(pg_catalog.json_build_object('name', c.conname,
       'def', pg_catalog.pg_get_constraintdef(c.oid),
       'comment', pg_catalog.obj_description(c.oid, 'pg_constraint')) ORDER BY c.conname)
     FROM pg_catalog.pg_constraint c WHERE c.contypid = t.oid AND c.contype = 'c') AS constraints,
  pg_catalog.obj_description(t.oid, 'pg_type') AS comment
FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE ${USER_NAMESPACE('n')} AND ${NOT_EXTENSION_MEMBER('pg_type', 't.oid')}
  AND (t.typtype IN ('e', 'd')
    OR (t.typtype = 'c' AND (SELECT rc.relkind FROM pg_catalog.pg_class rc WHERE rc.oid = t.typrelid) = 'c'))
ORDER BY n.nspname, t.typname`;

export const FUNCTIONS = `SELECT p.oid::int8 AS oid, n.nspname AS schema, p.proname AS name, p.prokind AS kind,
  pg_catalog.pg_get_function_identity_arguments(p.oid) AS identity_args,
  CASE WHEN p.prokind <> 'a' THEN pg_catalog.pg_get_functiondef(p.oid) END AS def,
  pg_catalog.obj_description(p.oid, 'pg_proc') AS comment
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE ${USER_NAMESPACE('n')} AND ${NOT_EXTENSION_MEMBER('pg_proc', 'p.oid')} AND ${NOT_INTERNAL('pg_proc', 'p.oid')}
ORDER BY n.nspname, p.proname, p.oid`;

export const SEQUENCES = `SELECT c.oid::int8 AS oid, n.nspname AS schema, c.relname AS name,
  pg_catalog.format_type(s.seqtypid, NULL) AS data_type, s.seqstart::text AS start,
  s.seqincrement::text AS increment, s.seqmin::text AS min, s.seqmax::text AS max,
  s.seqcache::text AS cache, s.seqcycle AS cycle, c.relpersistence = 'u' AS unlogged,
  (SELECT pg_catalog.json_build_object('tableOid', d.refobjid::int8, 'column', a.attname, 'type', d.deptype)
     FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
     WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid
       AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjsubid > 0
       AND d.deptype IN ('a', 'i') LIMIT 1) AS owner,
  pg_catalog.obj_description(c.oid, 'pg_class') AS comment
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid
WHERE c.relkind = 'S' AND ${USER_NAMESPACE('n')} AND ${NOT_EXTENSION_MEMBER('pg_class', 'c.oid')}
ORDER BY n.nspname, c.relname`;

/** Tables, partitioned tables, views, materialized views and foreign tables. */
export const RELATIONS = `SELECT c.oid::int8 AS oid, n.nspname AS schema, c.relname AS name, c.relkind AS kind,
  c.relpersistence = 'u' AS unlogged,
  CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END AS partition_key,
  CASE WHEN c.relispartition THEN pg_catalog.pg_get_expr(c.relpartbound, c.oid) END AS partition_bound,
  (SELECT pg_catalog.to_json(pg_catalog.array_agg(i.inhparent::int8 ORDER BY i.inhseqno))
     FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid) AS parents,
  pg_catalog.to_json(c.reloptions) AS reloptions, c.relrowsecurity AS row_security,
  c.relforcerowsecurity AS force_row_security, c.relispopulated AS populated,
  -- The planner's page counts where VACUUM/ANALYZE has set them (measuring thousands of tables
  -- opens and stats every one of their files); measured only where never counted.
  CASE WHEN c.relkind NOT IN ('r', 'p', 'm') THEN 0
       WHEN c.relpages > 0 THEN (c.relpages::int8 + COALESCE((SELECT tc.relpages::int8
         FROM pg_catalog.pg_class tc WHERE tc.oid = c.reltoastrelid), 0))
         * pg_catalog.current_setting('block_size')::int8
       ELSE pg_catalog.pg_table_size(c.oid) END AS size_bytes,
  CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid) END AS view_def,
  -- A view that reads itself: its rule depends on its own columns (before PG 16 every view's
  -- rule depends on the whole view, for its OLD and NEW entries).
  c.relkind = 'v' AND EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
    JOIN pg_catalog.pg_rewrite rw ON rw.oid = d.objid AND rw.ev_class = c.oid
    WHERE d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.deptype = 'n'
      AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid = c.oid
      AND (d.refobjsubid > 0 OR pg_catalog.current_setting('server_version_num')::int >= 160000)) AS self_referencing,
  (SELECT am.amname FROM pg_catalog.pg_am am WHERE am.oid = c.relam) AS access_method,
  CASE WHEN c.reloftype <> 0 THEN pg_catalog.format_type(c.reloftype, NULL) END AS of_type,
  (SELECT pg_catalog.to_json(tc.reloptions) FROM pg_catalog.pg_class tc WHERE tc.oid = c.reltoastrelid) AS toast_options,
  c.relreplident AS replica_identity,
  (SELECT ts.spcname FROM pg_catalog.pg_tablespace ts WHERE ts.oid = c.reltablespace) AS tablespace,
  c.relacl IS NOT NULL AS has_acl,
  pg_catalog.obj_description(c.oid, 'pg_class') AS comment
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND ${USER_NAMESPACE('n')}
  AND ${NOT_EXTENSION_MEMBER('pg_class', 'c.oid')}
ORDER BY n.nspname, c.relname`;

export const columnsQuery = (
  versionNum: number,
) => `SELECT a.attrelid::int8 AS rel, a.attnum AS num, a.attname AS name,
  pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
  ${
    versionNum >= 180000
      ? `(SELECT nn.conname FROM pg_catalog.pg_constraint nn WHERE nn.conrelid = a.attrelid AND nn.contype = 'n'
          AND nn.conkey[1] = a.attnum LIMIT 1)`
      : 'NULL::name'
  } AS not_null_name,
  a.attidentity AS identity, a.attgenerated AS generated, a.attislocal AS is_local,
  a.attinhcount > 0 AS inherited, a.attstorage AS storage, t.typstorage AS type_storage,
  ${versionNum >= 140000 ? 'a.attcompression' : '\'\'::"char"'} AS compression,
  NULLIF(a.attstattarget, -1)::int AS statistics,
  -- Options the server sets by itself (pg_-prefixed, such as pg_attver) are its own, as pg_dump
  -- leaves them out.
  (SELECT pg_catalog.to_json(pg_catalog.array_agg(o ORDER BY i)) FROM pg_catalog.unnest(a.attoptions)
     WITH ORDINALITY AS x(o, i) WHERE o NOT LIKE 'pg\\_%') AS options,
  pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS "default",
  ${collationOf('a.attcollation', 't.typcollation')} AS collation,
  pg_catalog.col_description(a.attrelid, a.attnum) AS comment
FROM pg_catalog.pg_attribute a
  JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = ANY($1::pg_catalog.oid[]) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum`;

/** Table constraints except NOT NULL (PG 18 stores those too; they are part of the columns). */
export const CONSTRAINTS = `SELECT c.oid::int8 AS oid, c.conname AS name, c.contype AS type,
  c.conrelid::int8 AS table_oid, c.confrelid::int8 AS ref_table_oid,
  pg_catalog.pg_get_constraintdef(c.oid) AS def, c.conislocal AS is_local, c.conparentid::int8 AS parent_oid,
  pg_catalog.obj_description(c.oid, 'pg_constraint') AS comment
FROM pg_catalog.pg_constraint c
WHERE c.conrelid = ANY($1::pg_catalog.oid[]) AND c.contype IN ('p', 'u', 'x', 'c', 'f')
ORDER BY c.conrelid, c.conname`;

export const INDEXES = `SELECT i.indexrelid::int8 AS oid, i.indrelid::int8 AS table_oid, ic.relname AS name,
  pg_catalog.quote_ident(ic.relname) AS quoted_name,
  pg_catalog.pg_get_indexdef(i.indexrelid) AS def, ic.relispartition AS is_partition,
  EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c WHERE c.conindid = i.indexrelid
          AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x')) AS backs_constraint,
  i.indisclustered AS clustered, i.indisreplident AS replica_identity,
  (SELECT ts.spcname FROM pg_catalog.pg_tablespace ts WHERE ts.oid = ic.reltablespace) AS tablespace,
  (SELECT pg_catalog.json_agg(pg_catalog.json_build_array(a.attnum, a.attstattarget) ORDER BY a.attnum)
     FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = i.indexrelid AND a.attstattarget >= 0) AS statistics,
  pg_catalog.obj_description(i.indexrelid, 'pg_class') AS comment,
  (SELECT inh.inhparent::int8 FROM pg_catalog.pg_inherits inh WHERE inh.inhrelid = i.indexrelid LIMIT 1) AS parent_oid
FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
WHERE i.indrelid = ANY($1::pg_catalog.oid[])
ORDER BY i.indrelid, ic.relname`;

export const TRIGGERS = `SELECT t.oid::int8 AS oid, t.tgrelid::int8 AS table_oid, t.tgname AS name,
  pg_catalog.pg_get_triggerdef(t.oid) AS def, t.tgenabled AS enabled, t.tgparentid::int8 AS parent_oid,
  pg_catalog.obj_description(t.oid, 'pg_trigger') AS comment
FROM pg_catalog.pg_trigger t
WHERE t.tgrelid = ANY($1::pg_catalog.oid[]) AND NOT t.tgisinternal
ORDER BY t.tgrelid, t.tgname`;

export const POLICIES = `SELECT p.polrelid::int8 AS table_oid, p.polname AS name, p.polpermissive AS permissive,
  p.polcmd AS command,
  CASE WHEN p.polroles = '{0}' THEN NULL ELSE
    (SELECT pg_catalog.to_json(pg_catalog.array_agg(r.rolname ORDER BY r.rolname))
     FROM pg_catalog.pg_roles r WHERE r.oid = ANY(p.polroles)) END AS roles,
  pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS using_expr,
  pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) AS check_expr,
  pg_catalog.obj_description(p.oid, 'pg_policy') AS comment
FROM pg_catalog.pg_policy p WHERE p.polrelid = ANY($1::pg_catalog.oid[])
ORDER BY p.polrelid, p.polname`;

export const RULES = `SELECT r.ev_class::int8 AS table_oid, r.rulename AS name, pg_catalog.pg_get_ruledef(r.oid) AS def,
  r.ev_enabled AS enabled,
  pg_catalog.obj_description(r.oid, 'pg_rewrite') AS comment
FROM pg_catalog.pg_rewrite r
WHERE r.ev_class = ANY($1::pg_catalog.oid[]) AND r.rulename <> '_RETURN'
ORDER BY r.ev_class, r.rulename`;

/**
 * Every selected schema ($1), relation ($2: tables, views, sequences), function ($3) and type
 * ($4), with its ACL and owner, and every column that has its own ACL. `target` is how GRANT
 * names the object, `alter_target` how ALTER … OWNER TO does (null for a column, and for an
 * identity sequence: it follows its table). A serial's sequence (OWNED BY, deptype 'a') gets its
 * owner itself, as pg_dump writes it: OWNED BY needs both owners equal by then.
 */
const ACCESS_OBJECTS = `SELECT 'schema' AS kind, pg_catalog.format('SCHEMA %I', n.nspname) AS target,
  pg_catalog.format('SCHEMA %I', n.nspname) AS alter_target, NULL::text AS col, n.nspacl AS acl, n.nspowner AS owner,
  'n:' || n.oid AS key
FROM pg_catalog.pg_namespace n WHERE n.oid = ANY($1::oid[])
UNION ALL
SELECT 'relation', pg_catalog.format('%s %I.%I', CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, n.nspname, c.relname),
  CASE WHEN c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::regclass
    AND d.objid = c.oid AND d.refobjsubid > 0 AND d.deptype = 'i') THEN NULL
  ELSE pg_catalog.format('%s %I.%I', CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
    WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, n.nspname, c.relname) END,
  NULL, c.relacl, c.relowner, 'c:' || c.oid
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = ANY($2::oid[])
UNION ALL
SELECT 'column', pg_catalog.format('TABLE %I.%I', n.nspname, c.relname), NULL, a.attname, a.attacl, c.relowner, NULL
FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = ANY($2::oid[]) AND a.attnum <> 0 AND NOT a.attisdropped AND a.attacl IS NOT NULL
UNION ALL
SELECT 'function', f.sig, f.sig, NULL, p.proacl, p.proowner, 'p:' || p.oid
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace,
  LATERAL (SELECT pg_catalog.format('%s %I.%I(%s)', CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
    n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid)) AS sig) f
WHERE p.oid = ANY($3::oid[])
UNION ALL
SELECT 'type', y.name, y.name, NULL, t.typacl, t.typowner, 't:' || t.oid
FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace,
  LATERAL (SELECT pg_catalog.format('%s %I.%I', CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END,
    n.nspname, t.typname) AS name) y
WHERE t.oid = ANY($4::oid[])`;

/**
 * Every privilege granted on the objects of ACCESS_OBJECTS, one row per grantee and privilege;
 * objects with default privileges (acl NULL) have none, and one whose privileges were all taken
 * has a row without a privilege.
 */
export const PRIVILEGES = `WITH objs AS (${ACCESS_OBJECTS})
SELECT o.kind, o.key, o.target, o.col, e.privilege_type AS privilege, e.is_grantable AS grantable,
  CASE WHEN e.grantee = 0 THEN NULL ELSE pg_catalog.pg_get_userbyid(e.grantee) END AS grantee,
  e.grantee = o.owner AS to_owner
FROM objs o LEFT JOIN LATERAL pg_catalog.aclexplode(o.acl) e ON true
WHERE o.acl IS NOT NULL
ORDER BY CASE o.kind WHEN 'schema' THEN 0 WHEN 'type' THEN 1 WHEN 'function' THEN 2
  WHEN 'relation' THEN 3 ELSE 4 END, 3, 4, 7 NULLS FIRST, 5`;

/** The owner of every object of ACCESS_OBJECTS that has one of its own. */
export const OWNERS = `WITH objs AS (${ACCESS_OBJECTS})
SELECT o.key, o.alter_target AS target, pg_catalog.pg_get_userbyid(o.owner) AS owner
FROM objs o WHERE o.alter_target IS NOT NULL ORDER BY 2`;

/** Catalogs whose objects are keyed `<catalog>:<oid>` (see kinds/sql.ts keyOf). */
const GENERIC_CATALOGS = `ARRAY['pg_operator', 'pg_opclass', 'pg_opfamily', 'pg_cast', 'pg_collation',
  'pg_conversion', 'pg_ts_parser', 'pg_ts_template', 'pg_ts_dict', 'pg_ts_config', 'pg_foreign_data_wrapper',
  'pg_foreign_server', 'pg_user_mapping', 'pg_am', 'pg_language', 'pg_transform']::pg_catalog.name[]`;

/**
 * Normal dependencies between user objects, each side mapped to the object that is created as
 * one statement: a column default or a view's rule to its relation, an array type to its
 * element, a table's row type to the table.
 */
/** Each object's key as ordering uses it: a table's row type is the table (see DEPENDENCIES). */
export const KEY_CTES = `type_key AS (
  SELECT t.oid,
    CASE WHEN t.typtype = 'c' AND rc.relkind <> 'c' THEN 'c:' || t.typrelid
         WHEN t.typtype = 'c' THEN 't:' || t.oid
         WHEN et.oid IS NOT NULL THEN
           CASE WHEN et.typtype = 'c' AND erc.relkind <> 'c' THEN 'c:' || et.typrelid ELSE 't:' || et.oid END
         -- A multirange type is made along with its range.
         WHEN mr.rngtypid IS NOT NULL THEN 't:' || mr.rngtypid
         ELSE 't:' || t.oid END AS key
  FROM pg_catalog.pg_type t
    LEFT JOIN pg_catalog.pg_class rc ON rc.oid = t.typrelid
    LEFT JOIN pg_catalog.pg_type et ON et.oid = t.typelem AND et.typarray = t.oid
    LEFT JOIN pg_catalog.pg_class erc ON erc.oid = et.typrelid
    LEFT JOIN pg_catalog.pg_range mr ON mr.rngmultitypid = t.oid
  WHERE t.oid >= 16384
), rel_key AS (
  -- A standalone composite type's pg_class row stands for the type.
  SELECT c.oid, CASE WHEN c.relkind = 'c' THEN 't:' || c.reltype ELSE 'c:' || c.oid END AS key
  FROM pg_catalog.pg_class c WHERE c.oid >= 16384
)`;

/** The key of a dependency's referenced object (needs KEY_CTES and the joins of DEPENDENCIES). */
export const REF_KEY = `    CASE d.refclassid
      WHEN 'pg_catalog.pg_class'::pg_catalog.regclass THEN rrk.key
      WHEN 'pg_catalog.pg_type'::pg_catalog.regclass THEN rtk.key
      WHEN 'pg_catalog.pg_proc'::pg_catalog.regclass THEN 'p:' || d.refobjid
      ELSE CASE WHEN rcl.relname = ANY (${GENERIC_CATALOGS}) THEN rcl.relname || ':' || d.refobjid END
    END`;

/** The joins that give a pg_depend row `d` its keys (as src, cl.relname, and REF_KEY). */
export const DEPEND_JOINS = `  FROM pg_catalog.pg_depend d
    JOIN pg_catalog.pg_class cl ON cl.oid = d.classid
    JOIN pg_catalog.pg_class rcl ON rcl.oid = d.refclassid
    LEFT JOIN rel_key rk ON d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND rk.oid = d.objid
    LEFT JOIN type_key tk ON d.classid = 'pg_catalog.pg_type'::pg_catalog.regclass AND tk.oid = d.objid
    LEFT JOIN pg_catalog.pg_attrdef ad ON d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass AND ad.oid = d.objid
    LEFT JOIN pg_catalog.pg_constraint co ON d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass AND co.oid = d.objid
    LEFT JOIN pg_catalog.pg_rewrite rw ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND rw.oid = d.objid
    LEFT JOIN rel_key rrk ON d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND rrk.oid = d.refobjid
    LEFT JOIN type_key rtk ON d.refclassid = 'pg_catalog.pg_type'::pg_catalog.regclass AND rtk.oid = d.refobjid
`;

export const DEPENDENCIES = `WITH ${KEY_CTES}, deps AS (
  -- Joins, not a subquery per row: thousands of tables made that quadratic.
  SELECT
    CASE d.classid
      WHEN 'pg_catalog.pg_class'::pg_catalog.regclass THEN rk.key
      WHEN 'pg_catalog.pg_type'::pg_catalog.regclass THEN tk.key
      WHEN 'pg_catalog.pg_proc'::pg_catalog.regclass THEN 'p:' || d.objid
      WHEN 'pg_catalog.pg_attrdef'::pg_catalog.regclass THEN 'c:' || ad.adrelid
      WHEN 'pg_catalog.pg_constraint'::pg_catalog.regclass THEN CASE WHEN co.contypid <> 0 THEN 't:' || co.contypid END
      WHEN 'pg_catalog.pg_rewrite'::pg_catalog.regclass THEN 'c:' || rw.ev_class
      ELSE CASE WHEN cl.relname = ANY (${GENERIC_CATALOGS}) THEN cl.relname || ':' || d.objid END
    END AS src,
    ${REF_KEY} AS ref
${DEPEND_JOINS}  WHERE d.deptype = 'n' AND d.objid >= 16384 AND d.refobjid >= 16384
)
SELECT DISTINCT src, ref FROM deps WHERE src IS NOT NULL AND ref IS NOT NULL AND src <> ref`;
