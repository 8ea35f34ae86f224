import type { KindSpec } from './read-kinds.js';
import { qualifiedName } from './sql.js';

/** Owner, privileges and comment of a type, as pg_dump's dumpType gives them. */
const TYPE_ACCESS = `'TYPE ' || x.name AS comment_target, 'TYPE ' || x.name AS owner_target, t.typowner AS owner_oid,
  'TYPE ' || x.name AS grant_target, t.typacl AS acl`;

const typeFrom = (
  joins = '',
) => `FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace${joins},
  LATERAL (SELECT ${qualifiedName('n.nspname', 't.typname')} AS name) x`;

/** `,\n    NAME = function` when the function is set. */
const fn = (label: string, column: string) =>
  `CASE WHEN t.${column} <> 0 THEN E',\\n    ${label} = ' || t.${column}::pg_catalog.regproc::text ELSE '' END`;

/**
 * User-defined base types with every option pg_dump's dumpBaseType writes, and types left
 * undefined (`CREATE TYPE t;`, dumpUndefinedType). A base type and its I/O functions refer to
 * each other: the shell type (`CREATE TYPE t;`) is created first, then the functions, then the
 * type itself. Arrays the server made for a type are its own (an internal dependency).
 */
export const baseTypes: KindSpec = {
  kind: 'type',
  catalog: 'pg_type',
  rank: 0,
  query: (versionNum) => `SELECT t.oid, 't:' || t.oid AS key, x.name AS sort_name,
  CASE WHEN t.typtype = 'p' THEN 'CREATE TYPE ' || x.name || ';'
  ELSE 'CREATE TYPE ' || x.name || E' (\\n    INTERNALLENGTH = '
    || CASE WHEN t.typlen = -1 THEN 'variable' ELSE t.typlen::text END
    || E',\\n    INPUT = ' || t.typinput::pg_catalog.regproc::text
    || E',\\n    OUTPUT = ' || t.typoutput::pg_catalog.regproc::text
    || ${fn('RECEIVE', 'typreceive')} || ${fn('SEND', 'typsend')}
    || ${fn('TYPMOD_IN', 'typmodin')} || ${fn('TYPMOD_OUT', 'typmodout')} || ${fn('ANALYZE', 'typanalyze')}
    || CASE WHEN t.typcollation <> 0 THEN E',\\n    COLLATABLE = true' ELSE '' END
    || COALESCE(E',\\n    DEFAULT = ' || COALESCE(pg_catalog.pg_get_expr(t.typdefaultbin, 0), pg_catalog.quote_literal(t.typdefault)), '')
    || ${versionNum >= 140000 ? fn('SUBSCRIPT', 'typsubscript') : "''"}
    || CASE WHEN t.typelem <> 0 THEN E',\\n    ELEMENT = ' || pg_catalog.format_type(t.typelem, NULL) ELSE '' END
    || CASE WHEN t.typcategory <> 'U' THEN E',\\n    CATEGORY = ' || pg_catalog.quote_literal(t.typcategory::text) ELSE '' END
    || CASE WHEN t.typispreferred THEN E',\\n    PREFERRED = true' ELSE '' END
    || CASE WHEN t.typdelim <> ',' THEN E',\\n    DELIMITER = ' || pg_catalog.quote_literal(t.typdelim::text) ELSE '' END
    || E',\\n    ALIGNMENT = ' || CASE t.typalign WHEN 'c' THEN 'char' WHEN 's' THEN 'int2' WHEN 'i' THEN 'int4' ELSE 'double' END
    || E',\\n    STORAGE = ' || CASE t.typstorage WHEN 'p' THEN 'plain' WHEN 'e' THEN 'external' WHEN 'm' THEN 'main' ELSE 'extended' END
    || CASE WHEN t.typbyval THEN E',\\n    PASSEDBYVALUE' ELSE '' END
    || E'\\n);' END AS ddl,
  ${TYPE_ACCESS},
  CASE WHEN t.typtype = 'b' THEN ARRAY['shell:t:' || t.oid] END AS needs,
  CASE WHEN t.typtype = 'b' THEN 'CREATE TYPE ' || x.name || ';' END AS shell_ddl,
  CASE WHEN t.typtype = 'b' THEN ARRAY(SELECT 'p:' || f FROM pg_catalog.unnest(ARRAY[t.typinput, t.typoutput,
    t.typreceive, t.typsend, t.typmodin, t.typmodout, t.typanalyze${versionNum >= 140000 ? ', t.typsubscript' : ''}]::pg_catalog.oid[]) f
    WHERE f <> 0) END AS shell_for
${typeFrom()}
WHERE t.typtype = 'b' OR (t.typtype = 'p' AND NOT t.typisdefined)`,
};

/**
 * Range types with every option of pg_dump's dumpRangeType. A canonical function takes and
 * returns the range: it is created over the shell type, as base types' I/O functions are.
 */
export const rangeTypes: KindSpec = {
  kind: 'range type',
  catalog: 'pg_type',
  rank: 0,
  query: (versionNum) => `SELECT t.oid, 't:' || t.oid AS key, x.name AS sort_name,
  'CREATE TYPE ' || x.name || E' AS RANGE (\\n    subtype = ' || pg_catalog.format_type(r.rngsubtype, NULL)
    || ${versionNum >= 140000 ? `CASE WHEN r.rngmultitypid <> 0 THEN E',\\n    multirange_type_name = ' || pg_catalog.format_type(r.rngmultitypid, NULL) ELSE '' END` : "''"}
    || CASE WHEN NOT opc.opcdefault THEN E',\\n    subtype_opclass = ' || ${qualifiedName('opcn.nspname', 'opc.opcname')} ELSE '' END
    || COALESCE((SELECT E',\\n    collation = ' || ${qualifiedName('cn.nspname', 'co.collname')}
       FROM pg_catalog.pg_collation co JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
       WHERE co.oid = r.rngcollation AND r.rngcollation <> st.typcollation), '')
    || CASE WHEN r.rngcanonical <> 0 THEN E',\\n    canonical = ' || r.rngcanonical::pg_catalog.regproc::text ELSE '' END
    || CASE WHEN r.rngsubdiff <> 0 THEN E',\\n    subtype_diff = ' || r.rngsubdiff::pg_catalog.regproc::text ELSE '' END
    || E'\\n);' AS ddl,
  ${TYPE_ACCESS},
  CASE WHEN r.rngcanonical <> 0 THEN ARRAY['shell:t:' || t.oid] END AS needs,
  CASE WHEN r.rngcanonical <> 0 THEN 'CREATE TYPE ' || x.name || ';' END AS shell_ddl,
  CASE WHEN r.rngcanonical <> 0 THEN ARRAY['p:' || r.rngcanonical::pg_catalog.oid] END AS shell_for
${typeFrom(`
  JOIN pg_catalog.pg_range r ON r.rngtypid = t.oid JOIN pg_catalog.pg_type st ON st.oid = r.rngsubtype
  JOIN pg_catalog.pg_opclass opc ON opc.oid = r.rngsubopc JOIN pg_catalog.pg_namespace opcn ON opcn.oid = opc.opcnamespace`)}`,
};
