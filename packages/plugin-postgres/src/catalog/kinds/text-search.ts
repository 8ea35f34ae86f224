import type { KindSpec } from './read-kinds.js';
import { keyOf, qualifiedName } from './sql.js';

const NO_ACL = `NULL::text AS grant_target, NULL::pg_catalog.aclitem[] AS acl,
  NULL::text[] AS needs, NULL::text AS shell_ddl, NULL::text[] AS shell_for`;

/** Text search parsers, templates, dictionaries and configurations (pg_dump's dumpTS*). */
export const tsParsers: KindSpec = {
  kind: 'text search parser',
  catalog: 'pg_ts_parser',
  rank: 1.7,
  query: () => `SELECT p.oid, ${keyOf('pg_ts_parser', 'p.oid')} AS key, x.name AS sort_name,
  pg_catalog.format(E'CREATE TEXT SEARCH PARSER %s (\\n    START = %s,\\n    GETTOKEN = %s,\\n    END = %s,\\n    LEXTYPES = %s%s );',
    x.name, p.prsstart::pg_catalog.regproc, p.prstoken::pg_catalog.regproc, p.prsend::pg_catalog.regproc,
    p.prslextype::pg_catalog.regproc,
    CASE WHEN p.prsheadline <> 0 THEN E',\\n    HEADLINE = ' || p.prsheadline::pg_catalog.regproc::text ELSE '' END) AS ddl,
  'TEXT SEARCH PARSER ' || x.name AS comment_target, NULL::text AS owner_target, 0::pg_catalog.oid AS owner_oid, ${NO_ACL}
FROM pg_catalog.pg_ts_parser p JOIN pg_catalog.pg_namespace n ON n.oid = p.prsnamespace,
  LATERAL (SELECT ${qualifiedName('n.nspname', 'p.prsname')} AS name) x`,
};

export const tsTemplates: KindSpec = {
  kind: 'text search template',
  catalog: 'pg_ts_template',
  rank: 1.71,
  query: () => `SELECT t.oid, ${keyOf('pg_ts_template', 't.oid')} AS key, x.name AS sort_name,
  pg_catalog.format(E'CREATE TEXT SEARCH TEMPLATE %s (\\n    %sLEXIZE = %s );', x.name,
    CASE WHEN t.tmplinit <> 0 THEN 'INIT = ' || t.tmplinit::pg_catalog.regproc::text || E',\\n    ' ELSE '' END,
    t.tmpllexize::pg_catalog.regproc) AS ddl,
  'TEXT SEARCH TEMPLATE ' || x.name AS comment_target, NULL::text AS owner_target, 0::pg_catalog.oid AS owner_oid, ${NO_ACL}
FROM pg_catalog.pg_ts_template t JOIN pg_catalog.pg_namespace n ON n.oid = t.tmplnamespace,
  LATERAL (SELECT ${qualifiedName('n.nspname', 't.tmplname')} AS name) x`,
};

export const tsDictionaries: KindSpec = {
  kind: 'text search dictionary',
  catalog: 'pg_ts_dict',
  rank: 1.72,
  query: () => `SELECT d.oid, ${keyOf('pg_ts_dict', 'd.oid')} AS key, x.name AS sort_name,
  pg_catalog.format(E'CREATE TEXT SEARCH DICTIONARY %s (\\n    TEMPLATE = %s%s );', x.name,
    ${qualifiedName('tn.nspname', 't.tmplname')},
    COALESCE(E',\\n    ' || d.dictinitoption, '')) AS ddl,
  'TEXT SEARCH DICTIONARY ' || x.name AS comment_target, 'TEXT SEARCH DICTIONARY ' || x.name AS owner_target,
  d.dictowner AS owner_oid, ${NO_ACL}
FROM pg_catalog.pg_ts_dict d JOIN pg_catalog.pg_namespace n ON n.oid = d.dictnamespace
  JOIN pg_catalog.pg_ts_template t ON t.oid = d.dicttemplate JOIN pg_catalog.pg_namespace tn ON tn.oid = t.tmplnamespace,
  LATERAL (SELECT ${qualifiedName('n.nspname', 'd.dictname')} AS name) x`,
};

/** A configuration is created empty and given its mappings, token type by token type. */
export const tsConfigurations: KindSpec = {
  kind: 'text search configuration',
  catalog: 'pg_ts_config',
  rank: 1.73,
  query: () => `SELECT c.oid, ${keyOf('pg_ts_config', 'c.oid')} AS key, x.name AS sort_name,
  pg_catalog.format(E'CREATE TEXT SEARCH CONFIGURATION %s (\\n    PARSER = %s );\\n', x.name,
    ${qualifiedName('pn.nspname', 'p.prsname')}) ||
  COALESCE((SELECT pg_catalog.string_agg(pg_catalog.format(E'ALTER TEXT SEARCH CONFIGURATION %s\\n    ADD MAPPING FOR %I WITH %s;\\n',
      x.name, tt.alias, m.dicts), '' ORDER BY m.maptokentype)
    FROM (SELECT cm.maptokentype, pg_catalog.string_agg(cm.mapdict::pg_catalog.regdictionary::text, ', ' ORDER BY cm.mapseqno) AS dicts
          FROM pg_catalog.pg_ts_config_map cm WHERE cm.mapcfg = c.oid GROUP BY cm.maptokentype) m
    JOIN pg_catalog.ts_token_type(c.cfgparser) tt ON tt.tokid = m.maptokentype), '') AS ddl,
  'TEXT SEARCH CONFIGURATION ' || x.name AS comment_target, 'TEXT SEARCH CONFIGURATION ' || x.name AS owner_target,
  c.cfgowner AS owner_oid, ${NO_ACL}
FROM pg_catalog.pg_ts_config c JOIN pg_catalog.pg_namespace n ON n.oid = c.cfgnamespace
  JOIN pg_catalog.pg_ts_parser p ON p.oid = c.cfgparser JOIN pg_catalog.pg_namespace pn ON pn.oid = p.prsnamespace,
  LATERAL (SELECT ${qualifiedName('n.nspname', 'c.cfgname')} AS name) x`,
};
