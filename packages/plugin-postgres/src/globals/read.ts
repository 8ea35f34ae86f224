import type { PgClient } from '../connection.js';

/**
 * Which roles a backup keeps (BACKUP_GLOBALS): `roles`, those the database needs (they own or
 * are granted something in it, have settings in it, or are members of such a role, with the
 * roles they belong to); `all-roles`, every role of the server, as `pg_dumpall --globals-only`.
 */
export type GlobalsScope = 'roles' | 'all-roles';

/** A role as pg_dumpall's dumpRoles writes it. */
export interface RoleModel {
  name: string;
  superuser: boolean;
  inherit: boolean;
  createRole: boolean;
  createDb: boolean;
  login: boolean;
  replication: boolean;
  bypassRls: boolean;
  connectionLimit: number;
  /** `infinity`, or an instant in UTC; null: none. */
  validUntil: string | null;
  /** The stored hash (SCRAM/MD5); only in an encrypted archive, and only if readable. */
  password?: string;
  comment: string | null;
  /** `name=value` of ALTER ROLE … SET (pg_db_role_setting for every database). */
  settings: string[];
}

/** A membership (pg_auth_members); `inherit`/`set` only from PostgreSQL 16 on. */
export interface MembershipModel {
  role: string;
  member: string;
  admin: boolean;
  inherit?: boolean;
  set?: boolean;
  /**
   * Who granted it (pg_dumpall's GRANTED BY), kept from PostgreSQL 16 on, where the server
   * records grantors reliably (one row per grantor); absent before.
   */
  grantor?: string;
}

export interface GlobalsModel {
  scope: GlobalsScope;
  roles: RoleModel[];
  memberships: MembershipModel[];
}

const THIS_DB =
  '(SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())';

/**
 * The roles this database needs: what pg_shdepend ties to it (owners, grantees and grantors of
 * ACLs, policy roles, the database object itself), its owner and the roles with settings in it;
 * then every member of those (they get their rights through them), and the roles those belong
 * to (so the memberships can be made again). Predefined roles (pg_*) exist on every server.
 */
const NEEDED_ROLES = `WITH RECURSIVE base(oid) AS (
  SELECT s.refobjid FROM pg_catalog.pg_shdepend s
  WHERE s.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass
    AND (s.dbid = ${THIS_DB} OR (s.classid = 'pg_catalog.pg_database'::pg_catalog.regclass AND s.objid = ${THIS_DB}))
  UNION SELECT d.datdba FROM pg_catalog.pg_database d WHERE d.oid = ${THIS_DB}
  UNION SELECT s.setrole FROM pg_catalog.pg_db_role_setting s WHERE s.setdatabase = ${THIS_DB} AND s.setrole <> 0
), down(oid) AS (
  SELECT oid FROM base
  UNION SELECT m.member FROM pg_catalog.pg_auth_members m JOIN down ON m.roleid = down.oid
), up(oid) AS (
  SELECT oid FROM down
  UNION SELECT m.roleid FROM pg_catalog.pg_auth_members m JOIN up ON m.member = up.oid
)
SELECT oid FROM up`;

const ROLES = (
  scope: GlobalsScope,
) => `SELECT r.oid::int8 AS oid, r.rolname AS name, r.rolsuper, r.rolinherit, r.rolcreaterole,
  r.rolcreatedb, r.rolcanlogin, r.rolreplication, r.rolbypassrls, r.rolconnlimit,
  CASE WHEN r.rolvaliduntil IS NULL THEN NULL
       WHEN NOT pg_catalog.isfinite(r.rolvaliduntil) THEN r.rolvaliduntil::text
       ELSE pg_catalog.to_char(r.rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00' END AS valid_until,
  pg_catalog.shobj_description(r.oid, 'pg_authid') AS comment,
  COALESCE((SELECT pg_catalog.array_agg(c.setting ORDER BY c.n) FROM pg_catalog.pg_db_role_setting s,
      LATERAL pg_catalog.unnest(s.setconfig) WITH ORDINALITY AS c(setting, n)
    WHERE s.setrole = r.oid AND s.setdatabase = 0), '{}') AS settings
FROM pg_catalog.pg_roles r
WHERE r.rolname !~ '^pg_'${scope === 'roles' ? ` AND r.oid IN (${NEEDED_ROLES})` : ''}
ORDER BY r.rolname`;

/** Memberships among the kept roles, and in predefined roles (pg_read_all_data…). */
const MEMBERSHIPS = (from16: boolean) =>
  from16
    ? `SELECT ur.rolname AS role, um.rolname AS member, m.admin_option AS admin,
  m.inherit_option AS inherit, m.set_option AS set, ug.rolname AS grantor
FROM pg_catalog.pg_auth_members m
JOIN pg_catalog.pg_roles ur ON ur.oid = m.roleid
JOIN pg_catalog.pg_roles um ON um.oid = m.member
LEFT JOIN pg_catalog.pg_roles ug ON ug.oid = m.grantor
WHERE m.member = ANY($1::oid[]) AND (m.roleid = ANY($1::oid[]) OR ur.rolname ~ '^pg_')
ORDER BY 1, 2, 6`
    : `SELECT ur.rolname AS role, um.rolname AS member, pg_catalog.bool_or(m.admin_option) AS admin
FROM pg_catalog.pg_auth_members m
JOIN pg_catalog.pg_roles ur ON ur.oid = m.roleid
JOIN pg_catalog.pg_roles um ON um.oid = m.member
WHERE m.member = ANY($1::oid[]) AND (m.roleid = ANY($1::oid[]) OR ur.rolname ~ '^pg_')
GROUP BY ur.rolname, um.rolname
ORDER BY 1, 2`;

/**
 * Reads the roles (in the backup's snapshot: pg_authid is shared, but read like any catalog).
 * `passwords`: read the hashes from pg_authid (superuser only); returns whether it could.
 */
export async function readGlobals(
  client: PgClient,
  scope: GlobalsScope,
  versionNum: number,
  passwords: boolean,
): Promise<{ model: GlobalsModel; passwordsRead: boolean }> {
  const { rows } = await client.query(ROLES(scope));
  const oids = rows.map((r) => r.oid as string);
  const hashes = new Map<string, string>();
  let passwordsRead = false;
  if (passwords) {
    const readable = await client.query(
      "SELECT pg_catalog.has_table_privilege('pg_catalog.pg_authid', 'SELECT') AS ok",
    );
    if (readable.rows[0]?.ok === true) {
      passwordsRead = true;
      const found = await client.query(
        'SELECT a.rolname, a.rolpassword FROM pg_catalog.pg_authid a WHERE a.oid = ANY($1::oid[]) AND a.rolpassword IS NOT NULL',
        [oids],
      );
      for (const r of found.rows) hashes.set(r.rolname, r.rolpassword);
    }
  }
  const roles: RoleModel[] = rows.map((r) => ({
    name: r.name,
    superuser: r.rolsuper,
    inherit: r.rolinherit,
    createRole: r.rolcreaterole,
    createDb: r.rolcreatedb,
    login: r.rolcanlogin,
    replication: r.rolreplication,
    bypassRls: r.rolbypassrls,
    connectionLimit: Number(r.rolconnlimit),
    validUntil: r.valid_until,
    comment: r.comment,
    settings: r.settings,
    ...(hashes.has(r.name) ? { password: hashes.get(r.name)! } : {}),
  }));
  const members = await client.query(MEMBERSHIPS(versionNum >= 160000), [oids]);
  const memberships: MembershipModel[] = members.rows.map((m) => ({
    role: m.role,
    member: m.member,
    admin: m.admin,
    ...(typeof m.inherit === 'boolean' ? { inherit: m.inherit } : {}),
    ...(typeof m.set === 'boolean' ? { set: m.set } : {}),
    ...(typeof m.grantor === 'string' ? { grantor: m.grantor } : {}),
  }));
  return { model: { scope, roles, memberships }, passwordsRead };
}
