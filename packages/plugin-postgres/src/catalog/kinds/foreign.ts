import type { KindSpec } from './read-kinds.js';
import { keyOf, optionsClause } from './sql.js';

const NOTHING_MORE = 'NULL::text[] AS needs, NULL::text AS shell_ddl, NULL::text[] AS shell_for';

/** Foreign data wrappers, servers and user mappings (pg_dump's dumpForeignDataWrapper…). */
export const foreignDataWrappers: KindSpec = {
  kind: 'foreign data wrapper',
  catalog: 'pg_foreign_data_wrapper',
  rank: 1.8,
  query:
    () => `SELECT w.oid, ${keyOf('pg_foreign_data_wrapper', 'w.oid')} AS key, w.fdwname AS sort_name,
  'CREATE FOREIGN DATA WRAPPER ' || pg_catalog.quote_ident(w.fdwname)
    || CASE WHEN w.fdwhandler <> 0 THEN ' HANDLER ' || w.fdwhandler::pg_catalog.regproc::text ELSE '' END
    || CASE WHEN w.fdwvalidator <> 0 THEN ' VALIDATOR ' || w.fdwvalidator::pg_catalog.regproc::text ELSE '' END
    || ${optionsClause('w.fdwoptions')} || ';' AS ddl,
  'FOREIGN DATA WRAPPER ' || pg_catalog.quote_ident(w.fdwname) AS comment_target,
  'FOREIGN DATA WRAPPER ' || pg_catalog.quote_ident(w.fdwname) AS owner_target, w.fdwowner AS owner_oid,
  'FOREIGN DATA WRAPPER ' || pg_catalog.quote_ident(w.fdwname) AS grant_target, w.fdwacl AS acl, ${NOTHING_MORE}
FROM pg_catalog.pg_foreign_data_wrapper w`,
};

export const foreignServers: KindSpec = {
  kind: 'foreign server',
  catalog: 'pg_foreign_server',
  rank: 1.85,
  query: () => `SELECT s.oid, ${keyOf('pg_foreign_server', 's.oid')} AS key, s.srvname AS sort_name,
  'CREATE SERVER ' || pg_catalog.quote_ident(s.srvname)
    || COALESCE(' TYPE ' || pg_catalog.quote_literal(s.srvtype), '')
    || COALESCE(' VERSION ' || pg_catalog.quote_literal(s.srvversion), '')
    || ' FOREIGN DATA WRAPPER ' || pg_catalog.quote_ident(w.fdwname)
    || ${optionsClause('s.srvoptions')} || ';' AS ddl,
  'SERVER ' || pg_catalog.quote_ident(s.srvname) AS comment_target,
  'SERVER ' || pg_catalog.quote_ident(s.srvname) AS owner_target, s.srvowner AS owner_oid,
  'FOREIGN SERVER ' || pg_catalog.quote_ident(s.srvname) AS grant_target, s.srvacl AS acl, ${NOTHING_MORE}
FROM pg_catalog.pg_foreign_server s JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid = s.srvfdw`,
};

/**
 * A user mapping for a role the target server lacks is skipped with a warning, as grants are.
 * Read through pg_user_mappings, as pg_dump does: its options only for whoever may see them.
 */
export const userMappings: KindSpec = {
  kind: 'user mapping',
  catalog: 'pg_user_mapping',
  rank: 1.9,
  query: () => `SELECT m.umid AS oid, ${keyOf('pg_user_mapping', 'm.umid')} AS key,
  m.srvname || ' ' || CASE WHEN m.umuser = 0 THEN 'PUBLIC' ELSE m.usename END AS sort_name,
  CASE WHEN m.umuser = 0 THEN x.statement || ';'
  ELSE pg_catalog.format(E'DO %L;', pg_catalog.format(
    'BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = %L) THEN RAISE WARNING ''%%'', %L; ELSE %s; END IF; END',
    m.usename, 'lifeboat: ROLE_MISSING: role ' || m.usename || ' does not exist on this server; skipped: a user mapping on server ' || m.srvname,
    x.statement)) END AS ddl,
  NULL::text AS comment_target, NULL::text AS owner_target, 0::pg_catalog.oid AS owner_oid,
  NULL::text AS grant_target, NULL::pg_catalog.aclitem[] AS acl,
  ARRAY[${keyOf('pg_foreign_server', 'm.srvid')}] AS needs, NULL::text AS shell_ddl, NULL::text[] AS shell_for
FROM pg_catalog.pg_user_mappings m,
  LATERAL (SELECT 'CREATE USER MAPPING FOR ' || CASE WHEN m.umuser = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(m.usename) END
    || ' SERVER ' || pg_catalog.quote_ident(m.srvname) || ${optionsClause('m.umoptions')} AS statement) x`,
};
