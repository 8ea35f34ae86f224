import type { KindSpec } from './read-kinds.js';
import { keyOf, qualifiedName } from './sql.js';

/**
 * CREATE COLLATION with provider, locale (or lc_collate/lc_ctype), ICU rules and
 * deterministic, as pg_dump's dumpCollation. Columns that differ between server versions
 * (colliculocale, colllocale, collicurules) are read through to_jsonb.
 */
export const collations: KindSpec = {
  kind: 'collation',
  catalog: 'pg_collation',
  rank: -0.8,
  query: () => `SELECT co.oid, ${keyOf('pg_collation', 'co.oid')} AS key, x.name AS sort_name,
  pg_catalog.format('CREATE COLLATION %s (provider = %s%s%s%s);', x.name,
    CASE co.collprovider WHEN 'i' THEN 'icu' WHEN 'b' THEN 'builtin' ELSE 'libc' END,
    CASE WHEN NOT co.collisdeterministic THEN ', deterministic = false' ELSE '' END,
    CASE WHEN co.collprovider <> 'c' THEN ', locale = ' || pg_catalog.quote_literal(COALESCE(j.j ->> 'colllocale', j.j ->> 'colliculocale'))
         WHEN co.collcollate = co.collctype THEN ', locale = ' || pg_catalog.quote_literal(co.collcollate)
         ELSE ', lc_collate = ' || pg_catalog.quote_literal(co.collcollate) || ', lc_ctype = ' || pg_catalog.quote_literal(co.collctype) END,
    COALESCE(', rules = ' || pg_catalog.quote_literal(j.j ->> 'collicurules'), '')) AS ddl,
  'COLLATION ' || x.name AS comment_target, 'COLLATION ' || x.name AS owner_target,
  co.collowner AS owner_oid, NULL::text AS grant_target, NULL::pg_catalog.aclitem[] AS acl,
  NULL::text[] AS needs, NULL::text AS shell_ddl, NULL::text[] AS shell_for
FROM pg_catalog.pg_collation co JOIN pg_catalog.pg_namespace n ON n.oid = co.collnamespace,
  LATERAL (SELECT ${qualifiedName('n.nspname', 'co.collname')} AS name) x,
  LATERAL (SELECT pg_catalog.to_jsonb(co) AS j) j`,
};

/** CREATE [DEFAULT] CONVERSION, as pg_dump's dumpConversion. */
export const conversions: KindSpec = {
  kind: 'conversion',
  catalog: 'pg_conversion',
  rank: 1.6,
  query: () => `SELECT c.oid, ${keyOf('pg_conversion', 'c.oid')} AS key, x.name AS sort_name,
  pg_catalog.format('CREATE %sCONVERSION %s FOR %L TO %L FROM %s;', CASE WHEN c.condefault THEN 'DEFAULT ' ELSE '' END,
    x.name, pg_catalog.pg_encoding_to_char(c.conforencoding), pg_catalog.pg_encoding_to_char(c.contoencoding),
    c.conproc::pg_catalog.regproc) AS ddl,
  'CONVERSION ' || x.name AS comment_target, 'CONVERSION ' || x.name AS owner_target,
  c.conowner AS owner_oid, NULL::text AS grant_target, NULL::pg_catalog.aclitem[] AS acl,
  NULL::text[] AS needs, NULL::text AS shell_ddl, NULL::text[] AS shell_for
FROM pg_catalog.pg_conversion c JOIN pg_catalog.pg_namespace n ON n.oid = c.connamespace,
  LATERAL (SELECT ${qualifiedName('n.nspname', 'c.conname')} AS name) x`,
};
