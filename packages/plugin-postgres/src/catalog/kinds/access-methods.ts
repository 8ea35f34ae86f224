import type { KindSpec } from './read-kinds.js';
import { keyOf } from './sql.js';

/** CREATE ACCESS METHOD (pg_dump's dumpAccessMethod). */
export const accessMethods: KindSpec = {
  kind: 'access method',
  catalog: 'pg_am',
  rank: 1.2,
  query: () => `SELECT a.oid, ${keyOf('pg_am', 'a.oid')} AS key, a.amname AS sort_name,
  'CREATE ACCESS METHOD ' || pg_catalog.quote_ident(a.amname) || ' TYPE '
    || CASE a.amtype WHEN 'i' THEN 'INDEX' ELSE 'TABLE' END || ' HANDLER ' || a.amhandler::pg_catalog.regproc::text || ';' AS ddl,
  'ACCESS METHOD ' || pg_catalog.quote_ident(a.amname) AS comment_target, NULL::text AS owner_target, 0::pg_catalog.oid AS owner_oid,
  NULL::text AS grant_target, NULL::pg_catalog.aclitem[] AS acl,
  NULL::text[] AS needs, NULL::text AS shell_ddl, NULL::text[] AS shell_for
FROM pg_catalog.pg_am a`,
};
