import type { KindSpec } from './read-kinds.js';
import { keyOf } from './sql.js';

/** Procedural languages outside extensions (pg_dump's dumpProcLang). */
export const languages: KindSpec = {
  kind: 'procedural language',
  catalog: 'pg_language',
  rank: -0.9,
  query: () => `SELECT l.oid, ${keyOf('pg_language', 'l.oid')} AS key, l.lanname AS sort_name,
  'CREATE ' || CASE WHEN l.lanpltrusted THEN 'TRUSTED ' ELSE '' END || 'PROCEDURAL LANGUAGE ' || pg_catalog.quote_ident(l.lanname)
    || CASE WHEN l.lanplcallfoid <> 0 THEN ' HANDLER ' || l.lanplcallfoid::pg_catalog.regproc::text ELSE '' END
    || CASE WHEN l.laninline <> 0 THEN ' INLINE ' || l.laninline::pg_catalog.regproc::text ELSE '' END
    || CASE WHEN l.lanvalidator <> 0 THEN ' VALIDATOR ' || l.lanvalidator::pg_catalog.regproc::text ELSE '' END || ';' AS ddl,
  'LANGUAGE ' || pg_catalog.quote_ident(l.lanname) AS comment_target,
  'LANGUAGE ' || pg_catalog.quote_ident(l.lanname) AS owner_target, l.lanowner AS owner_oid,
  'LANGUAGE ' || pg_catalog.quote_ident(l.lanname) AS grant_target, l.lanacl AS acl,
  NULL::text[] AS needs, NULL::text AS shell_ddl, NULL::text[] AS shell_for
FROM pg_catalog.pg_language l WHERE l.lanispl`,
};

/** CREATE TRANSFORM (pg_dump's dumpTransform). */
export const transforms: KindSpec = {
  kind: 'transform',
  catalog: 'pg_transform',
  rank: -0.7,
  query: () => `SELECT t.oid, ${keyOf('pg_transform', 't.oid')} AS key, x.target AS sort_name,
  'CREATE TRANSFORM ' || x.target || ' ('
    || pg_catalog.concat_ws(', ',
      CASE WHEN t.trffromsql <> 0 THEN 'FROM SQL WITH FUNCTION ' || t.trffromsql::pg_catalog.regprocedure::text END,
      CASE WHEN t.trftosql <> 0 THEN 'TO SQL WITH FUNCTION ' || t.trftosql::pg_catalog.regprocedure::text END) || ');' AS ddl,
  'TRANSFORM ' || x.target AS comment_target, NULL::text AS owner_target, 0::pg_catalog.oid AS owner_oid,
  NULL::text AS grant_target, NULL::pg_catalog.aclitem[] AS acl,
  NULL::text[] AS needs, NULL::text AS shell_ddl, NULL::text[] AS shell_for
FROM pg_catalog.pg_transform t JOIN pg_catalog.pg_language l ON l.oid = t.trflang,
  LATERAL (SELECT 'FOR ' || pg_catalog.format_type(t.trftype, NULL) || ' LANGUAGE ' || pg_catalog.quote_ident(l.lanname) AS target) x`,
};
