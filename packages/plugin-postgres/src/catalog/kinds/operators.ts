import type { KindSpec } from './read-kinds.js';
import { keyOf } from './sql.js';

/** `OPERATOR(schema.name)` of the operator `oid`, as pg_dump's getFormattedOperatorName. */
const operatorRef = (
  oid: string,
) => `(SELECT 'OPERATOR(' || pg_catalog.quote_ident(rn.nspname) || '.' || r.oprname || ')'
  FROM pg_catalog.pg_operator r JOIN pg_catalog.pg_namespace rn ON rn.oid = r.oprnamespace WHERE r.oid = ${oid})`;

/**
 * CREATE OPERATOR as pg_dump's dumpOpr. A COMMUTATOR or NEGATOR that does not exist yet is made
 * a shell by the server, and filled when its own CREATE OPERATOR comes. A shell the source never
 * filled (no function) is not written: the reference makes it again.
 *
 * Since PostgreSQL 17, filling a shell without naming the link back drops the shell's link
 * (`=` with NEGATOR `<>`, then `<>` alone: `<>` has no negator), while creating an operator that
 * names an existing one as its negator links both ways. An operator whose commutator or negator
 * does not link back is therefore created after the operator that links to it, so the copy ends
 * with the same one-way link (pg_dump's order, by name, may link both ways instead).
 */
export const operators: KindSpec = {
  kind: 'operator',
  catalog: 'pg_operator',
  rank: 1.3,
  query:
    () => `SELECT o.oid, ${keyOf('pg_operator', 'o.oid')} AS key, x.name || x.args AS sort_name,
  'CREATE OPERATOR ' || x.name || E' (\\n    FUNCTION = ' || o.oprcode::pg_catalog.regproc::text
    || CASE WHEN o.oprleft <> 0 THEN E',\\n    LEFTARG = ' || pg_catalog.format_type(o.oprleft, NULL) ELSE '' END
    || CASE WHEN o.oprright <> 0 THEN E',\\n    RIGHTARG = ' || pg_catalog.format_type(o.oprright, NULL) ELSE '' END
    || COALESCE(E',\\n    COMMUTATOR = ' || ${operatorRef('o.oprcom')}, '')
    || COALESCE(E',\\n    NEGATOR = ' || ${operatorRef('o.oprnegate')}, '')
    || CASE WHEN o.oprcanmerge THEN E',\\n    MERGES' ELSE '' END
    || CASE WHEN o.oprcanhash THEN E',\\n    HASHES' ELSE '' END
    || CASE WHEN o.oprrest <> 0 THEN E',\\n    RESTRICT = ' || o.oprrest::pg_catalog.regproc::text ELSE '' END
    || CASE WHEN o.oprjoin <> 0 THEN E',\\n    JOIN = ' || o.oprjoin::pg_catalog.regproc::text ELSE '' END
    || E'\\n);' AS ddl,
  'OPERATOR ' || x.name || x.args AS comment_target, 'OPERATOR ' || x.name || x.args AS owner_target,
  o.oprowner AS owner_oid, NULL::text AS grant_target, NULL::pg_catalog.aclitem[] AS acl,
  ARRAY(SELECT ${keyOf('pg_operator', 'l.oid')} FROM pg_catalog.pg_operator l
    WHERE l.oid <> o.oid AND l.oprcode <> 0
      AND ((l.oprcom = o.oid AND o.oprcom <> l.oid) OR (l.oprnegate = o.oid AND o.oprnegate <> l.oid))) AS needs,
  NULL::text AS shell_ddl, NULL::text[] AS shell_for
FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace,
  LATERAL (SELECT pg_catalog.quote_ident(n.nspname) || '.' || o.oprname AS name,
    '(' || COALESCE(pg_catalog.format_type(o.oprleft, NULL), 'NONE') || ', '
      || COALESCE(pg_catalog.format_type(o.oprright, NULL), 'NONE') || ')' AS args) x
WHERE o.oprcode <> 0`,
};

/** `OPERATOR n op(l,r) [FOR ORDER BY f]` and `FUNCTION n (l, r) f(args)` members of `refclass`. */
const members = (refclass: string, ref: string, family: string) => `ARRAY(
  SELECT 'OPERATOR ' || ao.amopstrategy || ' ' || ao.amopopr::pg_catalog.regoperator::text
    || COALESCE(' FOR ORDER BY ' || (SELECT pg_catalog.format('%I.%I', sn.nspname, sf.opfname)
         FROM pg_catalog.pg_opfamily sf JOIN pg_catalog.pg_namespace sn ON sn.oid = sf.opfnamespace WHERE sf.oid = ao.amopsortfamily), '')
  FROM pg_catalog.pg_amop ao JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_amop'::pg_catalog.regclass AND d.objid = ao.oid
  WHERE d.refclassid = 'pg_catalog.${refclass}'::pg_catalog.regclass AND d.refobjid = ${ref} AND ao.amopfamily = ${family}
  ORDER BY ao.amopstrategy, ao.oid) || ARRAY(
  SELECT 'FUNCTION ' || ap.amprocnum || ' (' || pg_catalog.format_type(ap.amproclefttype, NULL) || ', '
    || pg_catalog.format_type(ap.amprocrighttype, NULL) || ') ' || ap.amproc::pg_catalog.regprocedure::text
  FROM pg_catalog.pg_amproc ap JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_amproc'::pg_catalog.regclass AND d.objid = ap.oid
  WHERE d.refclassid = 'pg_catalog.${refclass}'::pg_catalog.regclass AND d.refobjid = ${ref}
  ORDER BY ap.amprocnum, ap.oid)`;

/** The operators, functions and sort families of those members: created before them. */
const memberKeys = (refclass: string, ref: string) => `ARRAY(
  SELECT k FROM pg_catalog.pg_depend d
    LEFT JOIN pg_catalog.pg_amop ao ON d.classid = 'pg_catalog.pg_amop'::pg_catalog.regclass AND ao.oid = d.objid
    LEFT JOIN pg_catalog.pg_amproc ap ON d.classid = 'pg_catalog.pg_amproc'::pg_catalog.regclass AND ap.oid = d.objid,
    LATERAL (VALUES (${keyOf('pg_operator', 'ao.amopopr')}), (${keyOf('pg_opfamily', 'NULLIF(ao.amopsortfamily, 0)')}),
      ('p:' || ap.amproc::pg_catalog.oid)) m(k)
  WHERE d.refclassid = 'pg_catalog.${refclass}'::pg_catalog.regclass AND d.refobjid = ${ref} AND k IS NOT NULL)`;

/**
 * CREATE OPERATOR FAMILY, then ALTER OPERATOR FAMILY … ADD for its loose members (those not
 * bound to one of its classes), as pg_dump's dumpOpfamily. Every family is written, also the
 * one CREATE OPERATOR CLASS made implicitly: classes name their family (FAMILY).
 */
export const operatorFamilies: KindSpec = {
  kind: 'operator family',
  catalog: 'pg_opfamily',
  rank: 1.4,
  query:
    () => `SELECT f.oid, ${keyOf('pg_opfamily', 'f.oid')} AS key, x.name || x.using AS sort_name,
  'CREATE OPERATOR FAMILY ' || x.name || x.using || ';'
    || COALESCE(E'\\nALTER OPERATOR FAMILY ' || x.name || x.using || E' ADD\\n    '
      || pg_catalog.array_to_string(NULLIF(${members('pg_opfamily', 'f.oid', 'f.oid')}, '{}'), E' ,\\n    ') || ';', '') AS ddl,
  'OPERATOR FAMILY ' || x.name || x.using AS comment_target, 'OPERATOR FAMILY ' || x.name || x.using AS owner_target,
  f.opfowner AS owner_oid, NULL::text AS grant_target, NULL::pg_catalog.aclitem[] AS acl,
  ${memberKeys('pg_opfamily', 'f.oid')} AS needs, NULL::text AS shell_ddl, NULL::text[] AS shell_for
FROM pg_catalog.pg_opfamily f JOIN pg_catalog.pg_namespace n ON n.oid = f.opfnamespace
  JOIN pg_catalog.pg_am am ON am.oid = f.opfmethod,
  LATERAL (SELECT pg_catalog.format('%I.%I', n.nspname, f.opfname) AS name, ' USING ' || pg_catalog.quote_ident(am.amname) AS using) x`,
};

/** CREATE OPERATOR CLASS with its members, as pg_dump's dumpOpclass. */
export const operatorClasses: KindSpec = {
  kind: 'operator class',
  catalog: 'pg_opclass',
  rank: 1.41,
  query:
    () => `SELECT c.oid, ${keyOf('pg_opclass', 'c.oid')} AS key, x.name || x.using AS sort_name,
  'CREATE OPERATOR CLASS ' || x.name || E'\\n    ' || CASE WHEN c.opcdefault THEN 'DEFAULT ' ELSE '' END
    || 'FOR TYPE ' || pg_catalog.format_type(c.opcintype, NULL) || x.using
    || ' FAMILY ' || pg_catalog.format('%I.%I', fn.nspname, f.opfname) || E' AS\\n    '
    || pg_catalog.array_to_string(COALESCE(NULLIF(
         CASE WHEN c.opckeytype <> 0 THEN ARRAY['STORAGE ' || pg_catalog.format_type(c.opckeytype, NULL)] ELSE '{}' END
         || ${members('pg_opclass', 'c.oid', 'c.opcfamily')}, '{}'),
       -- Nothing after AS: a STORAGE of the type itself, which the server takes as nothing.
       ARRAY['STORAGE ' || pg_catalog.format_type(c.opcintype, NULL)]), E' ,\\n    ') || ';' AS ddl,
  'OPERATOR CLASS ' || x.name || x.using AS comment_target, 'OPERATOR CLASS ' || x.name || x.using AS owner_target,
  c.opcowner AS owner_oid, NULL::text AS grant_target, NULL::pg_catalog.aclitem[] AS acl,
  pg_catalog.array_append(${memberKeys('pg_opclass', 'c.oid')}, ${keyOf('pg_opfamily', 'c.opcfamily')}) AS needs,
  NULL::text AS shell_ddl, NULL::text[] AS shell_for
FROM pg_catalog.pg_opclass c JOIN pg_catalog.pg_namespace n ON n.oid = c.opcnamespace
  JOIN pg_catalog.pg_am am ON am.oid = c.opcmethod
  JOIN pg_catalog.pg_opfamily f ON f.oid = c.opcfamily JOIN pg_catalog.pg_namespace fn ON fn.oid = f.opfnamespace,
  LATERAL (SELECT pg_catalog.format('%I.%I', n.nspname, c.opcname) AS name, ' USING ' || pg_catalog.quote_ident(am.amname) AS using) x`,
};
