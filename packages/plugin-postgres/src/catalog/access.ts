import { quoteIdent, quoteLiteral } from '../connection.js';
import type { OwnerObj, PrivilegeObj } from './model.js';

/** Starts a warning the script raises on purpose, then `CODE: `; a restore reports it. */
export const SCRIPT_WARNING = 'lifeboat: ';

/**
 * Session settings that leave owners or grants out when psql runs the scripts alone
 * (restore.psql sets them from `psql -v no_owner=1` / `-v no_privileges=1`).
 */
export const NO_OWNER = 'lifeboat.no_owner';
export const NO_PRIVILEGES = 'lifeboat.no_privileges';

/** Session setting that collects, one per line, the owners a restore could not give. */
const SKIPPED = 'lifeboat.owners_skipped';

/**
 * A session-local helper pre-data defines first: gives one object to its owner, where the
 * restoring user may (a superuser, or a member of the owning role). Called right after each
 * CREATE, as pg_restore does, so that everything the server later runs on the owner's behalf
 * (index expressions, materialized view queries, ANALYZE) runs as that owner in its
 * security-restricted mode, never as the restoring superuser. What cannot be given is noted in
 * the session and reported once per role at the end of post-data (`OWNER_REPORT`).
 */
export const OWNER_HELPER = `CREATE OR REPLACE FUNCTION pg_temp.lifeboat_owner(target text, owner text, runs_as_owner boolean DEFAULT false) RETURNS void
LANGUAGE plpgsql AS $lifeboat$
DECLARE note text;
BEGIN
  IF owner = current_user OR pg_catalog.current_setting('${NO_OWNER}', true) = 'on' THEN RETURN; END IF;
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = owner) THEN
    note := 'ROLE_MISSING: owner role ' || owner || ' does not exist on this server; its objects stay owned by ' || current_user;
  ELSE
    BEGIN
      EXECUTE 'ALTER ' || target || ' OWNER TO ' || pg_catalog.quote_ident(owner);
      RETURN;
    EXCEPTION WHEN insufficient_privilege THEN
      note := 'OWNER_NOT_SET: ' || current_user || ' may not give objects to ' || owner || ' (' || SQLERRM || '; restore as a superuser, or as a member of that role it may act as); they stay owned by ' || current_user;
    WHEN OTHERS THEN
      note := 'OWNER_NOT_SET: ' || target || ' stays owned by ' || current_user || ': ' || SQLERRM;
    END;
  END IF;
  -- A SECURITY DEFINER function or a view left with the restoring user runs with its rights.
  IF runs_as_owner THEN
    note := note || E'\\nRUNS_AS_RESTORER: ' || target || ' runs with the rights of ' || current_user || ' instead of ' || owner || ' (its owner could not be set)';
  END IF;
  PERFORM pg_catalog.set_config('${SKIPPED}',
    COALESCE(pg_catalog.current_setting('${SKIPPED}', true), '') || note || E'\\n', false);
END
$lifeboat$;
`;

/**
 * The statement that gives one object to its owner (see OWNER_HELPER). `runsAsOwner`: a
 * SECURITY DEFINER function or a view (it runs with its owner's rights), reported by name when
 * its owner cannot be set.
 */
export const ownerStatement = (o: OwnerObj, runsAsOwner = false) =>
  `SELECT pg_temp.lifeboat_owner(${quoteLiteral(o.target)}, ${quoteLiteral(o.owner)}${runsAsOwner ? ', true' : ''});\n`;

/** Reports the owners pre-data could not give, counted per message, then forgets them. */
export const OWNER_REPORT = `DO ${quoteLiteral(`DECLARE m record;
BEGIN
FOR m IN SELECT s AS msg, pg_catalog.count(*) AS n
  FROM pg_catalog.unnest(pg_catalog.string_to_array(pg_catalog.current_setting('${SKIPPED}', true), E'\\n')) AS s
  WHERE s <> '' GROUP BY s ORDER BY s LOOP
  RAISE WARNING '%', ${quoteLiteral(SCRIPT_WARNING)} || m.msg || ' (' || m.n || CASE WHEN m.n = 1 THEN ' object)' ELSE ' objects)' END;
END LOOP;
PERFORM pg_catalog.set_config('${SKIPPED}', '', false);
END`)};\n`;

/**
 * GRANTs as the source had them, given by the restoring user. An object whose privileges had
 * been changed first loses PUBLIC's defaults (a function's EXECUTE, a type's USAGE), then gets
 * each grant back; column grants come last, as revoking on a table revokes on its columns too.
 * Each statement is its own block: a grant to a role the target server lacks, or one it refuses
 * (a privilege an older server does not know), is skipped with a warning rather than failing
 * the restore — also when psql runs the script.
 */
export function renderPrivileges(privileges: PrivilegeObj[]): string[] {
  const out: string[] = [];
  const revoked = new Set<string>();
  const guarded = (statement: string, role: string | null) =>
    guardedStatement(statement, role === null ? [] : [role], 'GRANT_FAILED', NO_PRIVILEGES);
  for (const p of privileges) {
    if (p.kind !== 'column' && !revoked.has(p.target)) {
      revoked.add(p.target);
      out.push(guarded(`REVOKE ALL ON ${p.target} FROM PUBLIC`, null));
    }
    if (p.toOwner || p.privilege === null) continue;
    const what = p.column === null ? p.privilege : `${p.privilege} (${quoteIdent(p.column)})`;
    const to = p.grantee === null ? 'PUBLIC' : quoteIdent(p.grantee);
    const grant = `GRANT ${what} ON ${p.target} TO ${to}${p.grantable ? ' WITH GRANT OPTION' : ''}`;
    out.push(guarded(grant, p.grantee));
  }
  return out;
}

/**
 * One statement as its own block: skipped with a ROLE_MISSING warning when one of `roles` does
 * not exist on the target server, and with a `failCode` warning when the server refuses it.
 */
export function guardedStatement(
  statement: string,
  roles: string[],
  failCode: string,
  /** A session setting that, when on, skips the statement (psql -v no_privileges=1). */
  skipWhen?: string,
): string {
  const checks = [...new Set(roles)].map((role) => {
    const missing = `${SCRIPT_WARNING}ROLE_MISSING: role ${role} does not exist on this server; skipped: ${statement}`;
    return `IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = ${quoteLiteral(role)}) THEN RAISE WARNING '%', ${quoteLiteral(missing)}; RETURN; END IF; `;
  });
  const skip = skipWhen
    ? `IF pg_catalog.current_setting('${skipWhen}', true) = 'on' THEN RETURN; END IF; `
    : '';
  const body = `BEGIN ${skip}${checks.join('')}${statement}; EXCEPTION WHEN OTHERS THEN RAISE WARNING '%', ${quoteLiteral(`${SCRIPT_WARNING}${failCode}: ${statement}: `)} || SQLERRM; END`;
  return `DO ${quoteLiteral(body)};\n`;
}
