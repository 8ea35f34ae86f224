import type { KindSpec } from './read-kinds.js';
import { keyOf } from './sql.js';

/** CREATE CAST (pg_dump's dumpCast). */
export const casts: KindSpec = {
  kind: 'cast',
  catalog: 'pg_cast',
  rank: 0.5,
  query: () => `SELECT c.oid, ${keyOf('pg_cast', 'c.oid')} AS key, x.target AS sort_name,
  'CREATE CAST ' || x.target || ' '
    || CASE c.castmethod WHEN 'b' THEN 'WITHOUT FUNCTION' WHEN 'i' THEN 'WITH INOUT'
       ELSE 'WITH FUNCTION ' || c.castfunc::pg_catalog.regprocedure::text END
    || CASE c.castcontext WHEN 'a' THEN ' AS ASSIGNMENT' WHEN 'i' THEN ' AS IMPLICIT' ELSE '' END || ';' AS ddl,
  'CAST ' || x.target AS comment_target, NULL::text AS owner_target, 0::pg_catalog.oid AS owner_oid,
  NULL::text AS grant_target, NULL::pg_catalog.aclitem[] AS acl,
  NULL::text[] AS needs, NULL::text AS shell_ddl, NULL::text[] AS shell_for
FROM pg_catalog.pg_cast c,
  LATERAL (SELECT '(' || pg_catalog.format_type(c.castsource, NULL) || ' AS ' || pg_catalog.format_type(c.casttarget, NULL) || ')' AS target) x`,
};
