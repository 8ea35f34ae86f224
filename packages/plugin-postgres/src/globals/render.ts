import { hostHint } from '@lifeboat/core';
import { SCRIPT_WARNING } from '../catalog/access.js';
import { quoteIdent, quoteLiteral } from '../connection.js';
import { setClause } from '../database-properties.js';
import type { GlobalsModel, MembershipModel, RoleModel } from './read.js';

/** A DO block from its body (a literal, so the body may hold any quoting of its own). */
const doBlock = (body: string) => `DO ${quoteLiteral(body)};\n`;

const warn = (code: string, message: string) =>
  `RAISE WARNING '%', ${quoteLiteral(`${SCRIPT_WARNING}${code}: ${message}`)}`;

const exists = (role: string) =>
  `EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = ${quoteLiteral(role)})`;

/** CREATE ROLE with every attribute, as pg_dumpall's ALTER ROLE … WITH writes them. */
function createRole(r: RoleModel): string {
  const flag = (on: boolean, word: string) => (on ? word : `NO${word}`);
  const words = [
    flag(r.superuser, 'SUPERUSER'),
    flag(r.inherit, 'INHERIT'),
    flag(r.createRole, 'CREATEROLE'),
    flag(r.createDb, 'CREATEDB'),
    flag(r.login, 'LOGIN'),
    flag(r.replication, 'REPLICATION'),
    flag(r.bypassRls, 'BYPASSRLS'),
  ];
  if (r.connectionLimit !== -1) words.push(`CONNECTION LIMIT ${Math.trunc(r.connectionLimit)}`);
  if (r.password !== undefined) words.push(`PASSWORD ${quoteLiteral(r.password)}`);
  if (r.validUntil !== null) words.push(`VALID UNTIL ${quoteLiteral(r.validUntil)}`);
  return `CREATE ROLE ${quoteIdent(r.name)} WITH ${words.join(' ')}`;
}

/**
 * One role, created only when the server lacks it: a role that exists (the restoring one
 * among them) is never altered. Its comment and settings follow, each on its own, so a setting
 * this server does not know costs a warning, not the role. A role this server refuses (a
 * superuser, made by a role that is not one) is a ROLE_NOT_CREATED warning.
 */
function roleBlock(r: RoleModel): string {
  const name = quoteIdent(r.name);
  const extras: string[] = [];
  if (r.comment !== null) extras.push(`COMMENT ON ROLE ${name} IS ${quoteLiteral(r.comment)}`);
  for (const s of r.settings) {
    const set = setClause(s);
    if (set) extras.push(`ALTER ROLE ${name} ${set}`);
  }
  const guardedExtras = extras.map(
    (statement) =>
      `BEGIN EXECUTE ${quoteLiteral(statement)}; EXCEPTION WHEN OTHERS THEN RAISE WARNING '%', ${quoteLiteral(`${SCRIPT_WARNING}SETTING_FAILED: ${statement}: `)} || SQLERRM; END;`,
  );
  const body = [
    'BEGIN',
    `IF ${exists(r.name)} THEN RETURN; END IF;`,
    `BEGIN EXECUTE ${quoteLiteral(createRole(r))}; EXCEPTION WHEN OTHERS THEN RAISE WARNING '%', ${quoteLiteral(`${SCRIPT_WARNING}ROLE_NOT_CREATED: role ${r.name}: `)} || SQLERRM; RETURN; END;`,
    ...guardedExtras,
    'END',
  ].join('\n');
  return doBlock(body);
}

/**
 * One membership, added when missing. From PostgreSQL 16 on, with its INHERIT and SET options
 * as the source had them (an older target takes the plain GRANT), and its grantor as pg_dumpall
 * prints it (`GRANTED BY`) where the source recorded one: a grantor the target lacks, or one it
 * refuses (no ADMIN OPTION there), leaves the restoring role as the grantor, with a
 * MEMBERSHIP_GRANTOR_CHANGED warning. Memberships of the restoring role, either way, are left
 * alone.
 */
function membershipBlock(m: MembershipModel): string {
  const grant = `GRANT ${quoteIdent(m.role)} TO ${quoteIdent(m.member)}`;
  const options = [`ADMIN ${m.admin ? 'TRUE' : 'FALSE'}`];
  if (m.inherit !== undefined) options.push(`INHERIT ${m.inherit ? 'TRUE' : 'FALSE'}`);
  if (m.set !== undefined) options.push(`SET ${m.set ? 'TRUE' : 'FALSE'}`);
  const from16 = `${grant} WITH ${options.join(', ')}`;
  const older = `${grant}${m.admin ? ' WITH ADMIN OPTION' : ''}`;
  const what = `membership of ${m.member} in ${m.role}`;
  const byGrantor = m.grantor ? `${from16} GRANTED BY ${quoteIdent(m.grantor)}` : undefined;
  // With a grantor, the same membership from another grantor is another row (16+).
  const present = m.grantor
    ? `EXISTS (SELECT FROM pg_catalog.pg_auth_members a JOIN pg_catalog.pg_roles r ON r.oid = a.roleid JOIN pg_catalog.pg_roles u ON u.oid = a.member JOIN pg_catalog.pg_roles g ON g.oid = a.grantor WHERE r.rolname = ${quoteLiteral(m.role)} AND u.rolname = ${quoteLiteral(m.member)} AND g.rolname IN (${quoteLiteral(m.grantor)}, current_user))`
    : `EXISTS (SELECT FROM pg_catalog.pg_auth_members a JOIN pg_catalog.pg_roles r ON r.oid = a.roleid JOIN pg_catalog.pg_roles u ON u.oid = a.member WHERE r.rolname = ${quoteLiteral(m.role)} AND u.rolname = ${quoteLiteral(m.member)})`;
  const body = [
    'BEGIN',
    `IF current_user IN (${quoteLiteral(m.role)}, ${quoteLiteral(m.member)}) THEN RETURN; END IF;`,
    `IF NOT ${exists(m.role)} OR NOT ${exists(m.member)} THEN ${warn('ROLE_MISSING', `a role does not exist on this server; skipped: ${what}`)}; RETURN; END IF;`,
    `IF ${present} THEN RETURN; END IF;`,
    ...(byGrantor
      ? [
          `IF pg_catalog.current_setting('server_version_num')::int >= 160000 AND ${exists(m.grantor!)} THEN`,
          `  BEGIN EXECUTE ${quoteLiteral(byGrantor)}; RETURN;`,
          `  EXCEPTION WHEN OTHERS THEN RAISE WARNING '%', ${quoteLiteral(`${SCRIPT_WARNING}MEMBERSHIP_GRANTOR_CHANGED: ${what} granted by ${m.grantor} on the source: `)} || SQLERRM || '; granted by ' || current_user || ' instead';`,
          '  END;',
          'END IF;',
        ]
      : []),
    `IF pg_catalog.current_setting('server_version_num')::int >= 160000 THEN EXECUTE ${quoteLiteral(from16)}; ELSE EXECUTE ${quoteLiteral(older)}; END IF;`,
    `EXCEPTION WHEN OTHERS THEN RAISE WARNING '%', ${quoteLiteral(`${SCRIPT_WARNING}MEMBERSHIP_NOT_GRANTED: ${what}: `)} || SQLERRM;`,
    'END',
  ].join('\n');
  return doBlock(body);
}

/**
 * Memberships in an order where each grantor holds its ADMIN OPTION before it grants (as
 * pg_dumpall orders them); what no order satisfies (a loop) comes last.
 */
function grantorOrder(memberships: MembershipModel[]): MembershipModel[] {
  const pending = [...memberships];
  const out: MembershipModel[] = [];
  const admins = new Set<string>();
  const granted = new Set(memberships.filter((m) => m.admin).map((m) => `${m.role}/${m.member}`));
  for (let progress = true; pending.length > 0 && progress; ) {
    progress = false;
    for (let i = 0; i < pending.length; i++) {
      const m = pending[i]!;
      const key = `${m.role}/${m.grantor}`;
      if (m.grantor && granted.has(key) && !admins.has(key)) continue;
      out.push(m);
      if (m.admin) admins.add(`${m.role}/${m.member}`);
      pending.splice(i--, 1);
      progress = true;
    }
  }
  return [...out, ...pending];
}

/**
 * `globals.sql`: the roles, then their memberships. Runs on any database of the target server
 * (roles belong to the server), by `lifeboat restore --globals` or psql alone, as often as
 * wanted: it only creates what is missing.
 */
export function renderGlobals(model: GlobalsModel, database: string): string {
  const out = [
    `-- Lifeboat: the roles of database ${database.replace(/[\r\n]/g, ' ')} (${hostHint('postgres:globals', 'globals')}=${model.scope}), ${model.roles.length} role(s).`,
    '-- Creates the roles this server lacks, then adds missing memberships; existing roles are never',
    '-- altered, and the role running it is left alone. Safe to run more than once:',
    '--   psql -v ON_ERROR_STOP=1 -d postgres -f database/globals.sql',
    '',
  ];
  for (const r of model.roles) out.push(roleBlock(r));
  for (const m of grantorOrder(model.memberships)) out.push(membershipBlock(m));
  return out.join('\n');
}
