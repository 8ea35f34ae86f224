import { type PgClient, quoteLiteral } from '../connection.js';
import { NO_PRIVILEGES, SCRIPT_WARNING } from './access.js';
import type { SystemAclObj } from './model.js';
import { NOT_EXTENSION_MEMBER } from './queries.js';

/** aclexplode refuses an empty ACL (zero dimensions): an ACL with nothing left is NULL here. */
const nonEmpty = (acl: string) => `CASE WHEN pg_catalog.cardinality(${acl}) > 0 THEN ${acl} END`;

const SYSTEM = (catalog: string, oid: string) =>
  `(${oid} < 16384 OR NOT ${NOT_EXTENSION_MEMBER(catalog, oid)})`;

/**
 * Every system or extension object whose privileges differ from what the server gave it at
 * creation (pg_init_privs, else the built-in default), with the ACL it has now. Compared as sets
 * of (grantee, privilege, grant option): the grantor follows the owner on the target.
 * Each object's names (a function's signature takes catalog lookups) are formatted only once it
 * differs: formatting all ~3,000 functions of a bare server cost half of the query's 50 ms.
 */
const SYSTEM_ACLS = `WITH objs AS (
  SELECT 'pg_class' AS cat, c.oid, 0 AS sub, c.relkind::text AS kind, n.nspname AS nsp, c.relname AS name,
    NULL::name AS col, c.relacl AS acl,
    pg_catalog.acldefault((CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END)::"char", c.relowner) AS dflt
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND ${SYSTEM('pg_class', 'c.oid')}
  UNION ALL
  SELECT 'pg_class', c.oid, a.attnum, c.relkind::text, n.nspname, c.relname, a.attname, a.attacl, NULL::pg_catalog.aclitem[]
  FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE a.attnum <> 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND ${SYSTEM('pg_class', 'c.oid')}
    AND (a.attacl IS NOT NULL OR EXISTS (SELECT FROM pg_catalog.pg_init_privs i
      WHERE i.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND i.objoid = c.oid AND i.objsubid = a.attnum))
  UNION ALL
  SELECT 'pg_proc', p.oid, 0, p.prokind::text, n.nspname, NULL, NULL, p.proacl, pg_catalog.acldefault('f', p.proowner)
  FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
  WHERE p.prokind <> 'a' AND ${SYSTEM('pg_proc', 'p.oid')}
  UNION ALL
  SELECT 'pg_namespace', n.oid, 0, NULL, NULL, n.nspname, NULL, n.nspacl, pg_catalog.acldefault('n', n.nspowner)
  FROM pg_catalog.pg_namespace n
  WHERE ${SYSTEM('pg_namespace', 'n.oid')} AND n.nspname <> 'pg_toast'
  UNION ALL
  SELECT 'pg_language', l.oid, 0, NULL, NULL, l.lanname, NULL, l.lanacl, pg_catalog.acldefault('l', l.lanowner)
  FROM pg_catalog.pg_language l WHERE ${SYSTEM('pg_language', 'l.oid')}
  UNION ALL
  SELECT 'pg_type', t.oid, 0, t.typtype::text, n.nspname, t.typname, NULL, t.typacl, pg_catalog.acldefault('T', t.typowner)
  FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
  WHERE ${SYSTEM('pg_type', 't.oid')} AND NOT (t.typelem <> 0 AND t.typlen = -1) AND t.typrelid = 0
), changed AS (
  SELECT o.*, CASE WHEN o.cat = 'pg_proc' THEN o.oid::pg_catalog.regprocedure::text END AS proc
  FROM objs o LEFT JOIN pg_catalog.pg_init_privs i
    ON i.classoid = ('pg_catalog.' || o.cat)::pg_catalog.regclass AND i.objoid = o.oid AND i.objsubid = o.sub
  -- Equal ACLs (both absent: the default on each side) are equal sets: no need to explode them.
  WHERE o.acl IS DISTINCT FROM i.initprivs AND (EXISTS (
      SELECT a.grantee, a.privilege_type, a.is_grantable FROM pg_catalog.aclexplode(${nonEmpty('COALESCE(o.acl, o.dflt)')}) a
      EXCEPT SELECT b.grantee, b.privilege_type, b.is_grantable FROM pg_catalog.aclexplode(${nonEmpty('COALESCE(i.initprivs, o.dflt)')}) b)
    OR EXISTS (
      SELECT b.grantee, b.privilege_type, b.is_grantable FROM pg_catalog.aclexplode(${nonEmpty('COALESCE(i.initprivs, o.dflt)')}) b
      EXCEPT SELECT a.grantee, a.privilege_type, a.is_grantable FROM pg_catalog.aclexplode(${nonEmpty('COALESCE(o.acl, o.dflt)')}) a))
  -- Not inlined: the names below are formatted for the rows kept only.
  OFFSET 0
)
SELECT CASE o.cat
    WHEN 'pg_class' THEN CASE WHEN o.col IS NOT NULL THEN pg_catalog.format('TABLE %I.%I', o.nsp, o.name)
      ELSE pg_catalog.format('%s %I.%I', CASE o.kind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, o.nsp, o.name) END
    WHEN 'pg_proc' THEN (CASE o.kind WHEN 'p' THEN 'PROCEDURE ' ELSE 'FUNCTION ' END) || o.proc
    WHEN 'pg_namespace' THEN pg_catalog.format('SCHEMA %I', o.name)
    WHEN 'pg_language' THEN pg_catalog.format('LANGUAGE %I', o.name)
    ELSE pg_catalog.format('%s %I.%I', CASE o.kind WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, o.nsp, o.name)
  END AS target,
  o.col::text AS column, o.nsp::text AS schema, COALESCE(o.acl, o.dflt)::text AS acl,
  CASE o.cat
    WHEN 'pg_class' THEN CASE WHEN o.col IS NOT NULL
      THEN pg_catalog.format('(SELECT a.attacl FROM pg_catalog.pg_attribute a WHERE a.attrelid = %L::pg_catalog.regclass AND a.attname = %L)',
        pg_catalog.format('%I.%I', o.nsp, o.name), o.col)
      ELSE pg_catalog.format('(SELECT COALESCE(c.relacl, pg_catalog.acldefault(%L, c.relowner)) FROM pg_catalog.pg_class c WHERE c.oid = %L::pg_catalog.regclass)',
        CASE o.kind WHEN 'S' THEN 's' ELSE 'r' END, pg_catalog.format('%I.%I', o.nsp, o.name)) END
    WHEN 'pg_proc' THEN pg_catalog.format('(SELECT COALESCE(p.proacl, pg_catalog.acldefault(''f'', p.proowner)) FROM pg_catalog.pg_proc p WHERE p.oid = %L::pg_catalog.regprocedure)', o.proc)
    WHEN 'pg_namespace' THEN pg_catalog.format('(SELECT COALESCE(n.nspacl, pg_catalog.acldefault(''n'', n.nspowner)) FROM pg_catalog.pg_namespace n WHERE n.nspname = %L)', o.name)
    WHEN 'pg_language' THEN pg_catalog.format('(SELECT COALESCE(l.lanacl, pg_catalog.acldefault(''l'', l.lanowner)) FROM pg_catalog.pg_language l WHERE l.lanname = %L)', o.name)
    ELSE pg_catalog.format('(SELECT COALESCE(t.typacl, pg_catalog.acldefault(''T'', t.typowner)) FROM pg_catalog.pg_type t WHERE t.oid = %L::pg_catalog.regtype)',
      pg_catalog.format('%I.%I', o.nsp, o.name))
  END AS current
FROM changed o
ORDER BY 1, 2 NULLS FIRST`;

export async function readSystemAcls(client: PgClient): Promise<SystemAclObj[]> {
  return (await client.query(SYSTEM_ACLS)).rows.map((r) => ({
    target: r.target,
    column: r.column,
    schema: r.schema,
    acl: r.acl,
    current: r.current,
  }));
}

/** Starts the warning of a block that could not bring an object's privileges to the source's. */
export const SYSTEM_ACL_FAILED = 'SYSTEM_ACL_FAILED: ';

/**
 * One block per object: revokes what the target has and the source had not, grants what the
 * source had and the target has not. The target's ACL is read when the block runs, so the block
 * is right whatever the server's defaults (another major version, an owner given just before).
 * A role the target lacks, or an object it does not have, is a warning, never a failed restore.
 */
export function renderSystemAcls(acls: SystemAclObj[]): string[] {
  return acls.map((a) => {
    const on = a.column
      ? `' (' || pg_catalog.quote_ident(${quoteLiteral(a.column)}) || ') ON ' || ${quoteLiteral(a.target)}`
      : `' ON ' || ${quoteLiteral(a.target)}`;
    const who = `CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(r.grantee)) END`;
    const pairs = (acl: string, grantable = false) =>
      `SELECT e.grantee, e.privilege_type FROM pg_catalog.aclexplode(${acl}) e${grantable ? ' WHERE e.is_grantable' : ''}`;
    const body = `DECLARE want pg_catalog.aclitem[]; have pg_catalog.aclitem[]; r record;
BEGIN
IF pg_catalog.current_setting('${NO_PRIVILEGES}', true) = 'on' THEN RETURN; END IF;
want := ${quoteLiteral(a.acl)}::pg_catalog.aclitem[];
want := ${nonEmpty('want')};
have := ${a.current};
have := ${nonEmpty('have')};
FOR r IN ${pairs('have')} EXCEPT ${pairs('want')} LOOP
  EXECUTE 'REVOKE ' || r.privilege_type || ${on} || ' FROM ' || ${who} || ' CASCADE';
END LOOP;
FOR r IN (${pairs('have', true)} EXCEPT ${pairs('want', true)}) INTERSECT ${pairs('want')} LOOP
  EXECUTE 'REVOKE GRANT OPTION FOR ' || r.privilege_type || ${on} || ' FROM ' || ${who} || ' CASCADE';
END LOOP;
FOR r IN ${pairs('want')} EXCEPT ${pairs('have')} LOOP
  EXECUTE 'GRANT ' || r.privilege_type || ${on} || ' TO ' || ${who};
END LOOP;
FOR r IN ${pairs('want', true)} EXCEPT ${pairs('have', true)} LOOP
  EXECUTE 'GRANT ' || r.privilege_type || ${on} || ' TO ' || ${who} || ' WITH GRANT OPTION';
END LOOP;
EXCEPTION WHEN OTHERS THEN RAISE WARNING '%', ${quoteLiteral(`${SCRIPT_WARNING}${SYSTEM_ACL_FAILED}privileges ON ${a.target}${a.column ? ` (${a.column})` : ''}: `)} || SQLERRM;
END`;
    return `DO ${quoteLiteral(body)};\n`;
  });
}
