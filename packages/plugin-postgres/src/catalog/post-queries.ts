/**
 * Catalog queries of the objects post-data creates once everything else exists: extended
 * statistics, publications, subscriptions, event triggers and default privileges. Rows of
 * catalogs whose columns differ between server versions are read whole (`to_jsonb`) and
 * picked apart in TypeScript, so one query serves every version.
 */
import { NOT_EXTENSION_MEMBER, USER_NAMESPACE } from './queries.js';

export const STATISTICS_EXT = `SELECT s.oid::int8 AS oid, s.stxrelid::int8 AS table_oid, n.nspname AS schema,
  s.stxname AS name, pg_catalog.pg_get_statisticsobjdef(s.oid) AS def,
  -- -1 (before 17) and NULL (17+) both mean the server's default target.
  NULLIF(s.stxstattarget::int, -1) AS target, pg_catalog.pg_get_userbyid(s.stxowner) AS owner,
  pg_catalog.obj_description(s.oid, 'pg_statistic_ext') AS comment
FROM pg_catalog.pg_statistic_ext s JOIN pg_catalog.pg_namespace n ON n.oid = s.stxnamespace
WHERE s.stxrelid = ANY($1::pg_catalog.oid[]) AND ${NOT_EXTENSION_MEMBER('pg_statistic_ext', 's.oid')}
ORDER BY n.nspname, s.stxname`;

export const EVENT_TRIGGERS = `SELECT et.evtname AS name, et.evtevent AS event,
  pg_catalog.to_json(et.evttags) AS tags, et.evtfoid::pg_catalog.regproc::text AS function,
  et.evtenabled AS enabled, pg_catalog.pg_get_userbyid(et.evtowner) AS owner,
  pg_catalog.obj_description(et.oid, 'pg_event_trigger') AS comment
FROM pg_catalog.pg_event_trigger et
WHERE ${NOT_EXTENSION_MEMBER('pg_event_trigger', 'et.oid')}
ORDER BY et.evtname`;

export const PUBLICATIONS = `SELECT p.oid::int8 AS oid, pg_catalog.to_jsonb(p) AS row,
  pg_catalog.pg_get_userbyid(p.pubowner) AS owner,
  pg_catalog.obj_description(p.oid, 'pg_publication') AS comment
FROM pg_catalog.pg_publication p
WHERE ${NOT_EXTENSION_MEMBER('pg_publication', 'p.oid')}
ORDER BY p.pubname`;

/** Tables of publications, with their column lists and row filters (PG 15+). */
export const publicationTablesQuery = (versionNum: number) =>
  `SELECT r.prpubid::int8 AS publication, r.prrelid::int8 AS table_oid,
  ${versionNum >= 150000 ? 'pg_catalog.pg_get_expr(r.prqual, r.prrelid)' : 'NULL::text'} AS "where",
  ${
    versionNum >= 150000
      ? `(SELECT pg_catalog.to_json(pg_catalog.array_agg(a.attname ORDER BY x.i))
     FROM pg_catalog.unnest(r.prattrs::pg_catalog.int2[]) WITH ORDINALITY AS x(num, i)
     JOIN pg_catalog.pg_attribute a ON a.attrelid = r.prrelid AND a.attnum = x.num)`
      : 'NULL::json'
  } AS columns
FROM pg_catalog.pg_publication_rel r
ORDER BY r.prpubid, r.prrelid`;

/** Schemas of `FOR TABLES IN SCHEMA` publications (PG 15+). */
export const PUBLICATION_SCHEMAS = `SELECT s.pnpubid::int8 AS publication, n.nspname AS schema
FROM pg_catalog.pg_publication_namespace s JOIN pg_catalog.pg_namespace n ON n.oid = s.pnnspid
ORDER BY s.pnpubid, n.nspname`;

/** Whether this server keeps publication schemas (PG 15+). */
export const HAS_PUBLICATION_SCHEMAS = `SELECT pg_catalog.to_regclass('pg_catalog.pg_publication_namespace') IS NOT NULL AS ok`;

/**
 * Subscriptions of this database. Their connection strings are readable by superusers only
 * (pg_dump leaves them out otherwise); `readable` says whether this session may.
 */
export const SUBSCRIPTIONS_READABLE = `SELECT pg_catalog.has_column_privilege('pg_catalog.pg_subscription', 'subconninfo', 'SELECT') AS readable,
  (SELECT pg_catalog.to_json(pg_catalog.array_agg(s.subname ORDER BY s.subname)) FROM pg_catalog.pg_subscription s
    WHERE s.subdbid = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())) AS names`;

export const SUBSCRIPTIONS = `SELECT pg_catalog.to_jsonb(s) AS row, pg_catalog.pg_get_userbyid(s.subowner) AS owner,
  pg_catalog.obj_description(s.oid, 'pg_subscription') AS comment
FROM pg_catalog.pg_subscription s
WHERE s.subdbid = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())
ORDER BY s.subname`;

const explode = (acl: string) => `(SELECT pg_catalog.json_agg(pg_catalog.json_build_object(
    'grantee', CASE WHEN a.grantee = 0 THEN NULL ELSE pg_catalog.pg_get_userbyid(a.grantee) END,
    'privilege', a.privilege_type, 'grantable', a.is_grantable) ORDER BY a.grantee, a.privilege_type)
  FROM pg_catalog.aclexplode(${acl}) a)`;

/**
 * ALTER DEFAULT PRIVILEGES: what each role's new objects get. A role-wide entry replaces the
 * built-in defaults (acldefault), so it is written as its difference to them; an entry for one
 * schema only adds to them.
 */
export const DEFAULT_PRIVILEGES = `SELECT pg_catalog.pg_get_userbyid(d.defaclrole) AS role, n.nspname AS schema,
  d.defaclobjtype AS type, ${explode('d.defaclacl')} AS granted,
  CASE WHEN d.defaclnamespace = 0 THEN ${explode(`pg_catalog.acldefault(CASE WHEN d.defaclobjtype = 'S' THEN 's'::"char" ELSE d.defaclobjtype END, d.defaclrole)`)} END AS defaults
FROM pg_catalog.pg_default_acl d LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace
WHERE d.defaclnamespace = 0 OR (${USER_NAMESPACE('n')})
ORDER BY 1, 2 NULLS FIRST, 3`;

/** Security labels need their provider loaded to exist, and to be restored. */
export const SECURITY_LABELS = `SELECT 'security label' AS kind,
  l.provider || ' on ' || pg_catalog.pg_describe_object(l.classoid, l.objoid, l.objsubid) AS name,
  'security labels are not backed up' AS reason
FROM pg_catalog.pg_seclabel l WHERE l.objoid >= 16384
UNION ALL
SELECT 'security label', l.provider || ' on ' || pg_catalog.pg_describe_object(l.classoid, l.objoid, 0),
  'security labels are not backed up'
FROM pg_catalog.pg_shseclabel l
WHERE l.classoid = 'pg_catalog.pg_database'::pg_catalog.regclass
  AND l.objoid = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())`;
