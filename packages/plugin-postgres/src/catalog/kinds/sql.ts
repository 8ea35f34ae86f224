/**
 * SQL pieces the kind queries share. Each kind query returns one row per object, its DDL built
 * by the server (format, quote_ident, regproc/regtype output under search_path = '', so every
 * name is qualified), with these columns:
 *   oid, key (dependency key), sort_name, ddl, comment_target (null: no comment),
 *   owner_target (null: no owner of its own), owner_oid, grant_target, acl (aclitem[] or null),
 *   needs (keys it must follow beyond pg_depend), shell_ddl and shell_for (see GenericObj);
 * and, where it has columns with privileges of their own, column_privileges (json: column,
 * privilege, grantable, grantee, toOwner).
 */

/** `OPTIONS (k 'v', …)` of an options array (FDW, server, user mapping, column), or ''. */
export const optionsClause = (
  expr: string,
  prefix = ' ',
) => `COALESCE((SELECT '${prefix}OPTIONS (' || pg_catalog.string_agg(pg_catalog.quote_ident(o.option_name) || ' ' || pg_catalog.quote_literal(o.option_value), ', ') || ')'
  FROM pg_catalog.pg_options_to_table(${expr}) o), '')`;

/** The dependency key of an object of a catalog other than pg_class, pg_type and pg_proc. */
export const keyOf = (catalog: string, oid: string) => `'${catalog}:' || ${oid}`;

/** `schema.name` of an object, quoted. */
export const qualifiedName = (schema: string, name: string) =>
  `pg_catalog.format('%I.%I', ${schema}, ${name})`;

/**
 * Runs one kind query: keeps objects of the user (OID past the bootstrap ones) that are not an
 * extension's member nor made by the server along with another object, with comment, owner
 * name and privileges.
 */
export const kindRows = (catalog: string, query: string) => `WITH k AS (${query})
SELECT k.oid::int8 AS oid, k.key, k.sort_name, k.ddl, k.comment_target,
  (pg_catalog.pg_identify_object('pg_catalog.${catalog}'::pg_catalog.regclass, k.oid, 0)).schema AS schema,
  pg_catalog.obj_description(k.oid, '${catalog}') AS comment,
  k.owner_target, CASE WHEN k.owner_oid <> 0 THEN pg_catalog.pg_get_userbyid(k.owner_oid) END AS owner,
  k.grant_target, k.acl IS NOT NULL AS has_acl,
  (SELECT pg_catalog.json_agg(pg_catalog.json_build_object('privilege', e.privilege_type,
     'grantable', e.is_grantable,
     'grantee', CASE WHEN e.grantee = 0 THEN NULL ELSE pg_catalog.pg_get_userbyid(e.grantee) END,
     'toOwner', e.grantee = k.owner_oid)
     ORDER BY e.grantee <> 0, pg_catalog.pg_get_userbyid(e.grantee), e.privilege_type)
   FROM pg_catalog.aclexplode(k.acl) e) AS privileges,
  pg_catalog.to_json(k.needs) AS needs, k.shell_ddl, pg_catalog.to_json(k.shell_for) AS shell_for,
  pg_catalog.to_jsonb(k) -> 'column_privileges' AS column_privileges
FROM k
WHERE k.oid >= 16384 AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
  WHERE d.classid = 'pg_catalog.${catalog}'::pg_catalog.regclass AND d.objid = k.oid AND d.deptype IN ('e', 'i'))
ORDER BY k.sort_name, k.oid`;
