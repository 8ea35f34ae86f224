import './errors.js';
import { buffer } from 'node:stream/consumers';
import { type ArchiveEntry, type BackupContext, LifeboatError, type Warn } from '@lifeboat/core';
import { guardedStatement, ownerStatement, renderPrivileges } from './catalog/access.js';
import type { PrivilegeObj } from './catalog/model.js';
import {
  type ConnectSettings,
  type PgClient,
  quoteIdent,
  quoteLiteral,
  withClient,
} from './connection.js';
import type { ConnectionTarget } from './options.js';
import type { RestoreChoices } from './restore/choices.js';
import { runScript, withScriptWarnings } from './restore/load.js';

/**
 * What pg_dump --create keeps of the database itself (dumpDatabase, dumpDatabaseConfig): owner,
 * comment, privileges, connection limit, its settings (ALTER DATABASE … SET) and its roles'
 * settings in it (ALTER ROLE … IN DATABASE … SET). Stored as data (settings may hold values
 * nobody should read in a manifest) and turned into SQL for the database a restore creates,
 * whatever its name, once everything else is in: a setting such as
 * default_transaction_read_only or a connection limit must not hinder the restore itself.
 */
export const DATABASE_PROPERTIES = 'database.json';

type Grant = Omit<PrivilegeObj, 'kind' | 'target' | 'column'>;

export interface DatabaseProperties {
  owner: string;
  connectionLimit: number;
  comment: string | null;
  /** `name=value` as pg_db_role_setting holds it; role null for the database's own setting. */
  settings: { role: string | null; setting: string }[];
  /** Null: the default privileges (never changed). */
  privileges: Grant[] | null;
}

const PROPERTIES = `SELECT pg_catalog.pg_get_userbyid(d.datdba) AS owner, d.datconnlimit AS connection_limit,
  pg_catalog.shobj_description(d.oid, 'pg_database') AS comment,
  COALESCE((SELECT pg_catalog.json_agg(pg_catalog.json_build_object('role', r.rolname, 'setting', c.setting)
       ORDER BY s.setrole <> 0, r.rolname, c.n)
     FROM pg_catalog.pg_db_role_setting s LEFT JOIN pg_catalog.pg_roles r ON r.oid = s.setrole,
       LATERAL pg_catalog.unnest(s.setconfig) WITH ORDINALITY AS c(setting, n)
     WHERE s.setdatabase = d.oid AND (s.setrole = 0 OR r.oid IS NOT NULL)), '[]') AS settings,
  CASE WHEN d.datacl IS NOT NULL THEN COALESCE((SELECT pg_catalog.json_agg(pg_catalog.json_build_object(
       'privilege', e.privilege_type, 'grantable', e.is_grantable,
       'grantee', CASE WHEN e.grantee = 0 THEN NULL ELSE pg_catalog.pg_get_userbyid(e.grantee) END,
       'toOwner', e.grantee = d.datdba)
       ORDER BY e.n)
     FROM pg_catalog.aclexplode(d.datacl) WITH ORDINALITY AS e(grantor, grantee, privilege_type, is_grantable, n)), '[]') END AS privileges
FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()`;

/**
 * Reads them in the backup's snapshot and writes `database.json`. Grants keep the ACL's order:
 * granted again in it, they make the same ACL (pg_dump prints them in that order).
 */
export async function backupDatabaseProperties(
  ctx: BackupContext,
  client: PgClient,
): Promise<void> {
  const { rows } = await client.query(PROPERTIES);
  const r = rows[0];
  const properties: DatabaseProperties = {
    owner: r.owner,
    connectionLimit: Number(r.connection_limit),
    comment: r.comment,
    settings: r.settings,
    privileges: r.privileges,
  };
  await ctx.emit({
    path: DATABASE_PROPERTIES,
    type: 'file',
    body: Buffer.from(`${JSON.stringify(properties, null, 2)}\n`),
  });
}

/** Settings whose value is a list of quoted names (GUC_LIST_QUOTE), as pg_dump knows them. */
const LIST_QUOTED = new Set([
  'local_preload_libraries',
  'search_path',
  'session_preload_libraries',
  'shared_preload_libraries',
  'temp_tablespaces',
  'unix_socket_directories',
]);

/** Splits a GUC_LIST_QUOTE value (`"$user", public`) into its names, as SplitGUCList does. */
export function splitGucList(value: string): string[] {
  const out: string[] = [];
  let i = 0;
  const skipSpace = () => {
    while (i < value.length && /\s/.test(value[i]!)) i++;
  };
  skipSpace();
  if (i >= value.length) return out;
  for (;;) {
    let name = '';
    if (value[i] === '"') {
      i++;
      while (i < value.length) {
        if (value[i] === '"') {
          if (value[i + 1] !== '"') break;
          i++;
        }
        name += value[i];
        i++;
      }
      i++;
    } else {
      while (i < value.length && value[i] !== ',' && !/\s/.test(value[i]!)) name += value[i++];
    }
    out.push(name);
    skipSpace();
    if (value[i] !== ',') return out;
    i++;
    skipSpace();
  }
}

/** `SET name TO 'value'` of one `name=value` (makeAlterConfigCommand). */
export function setClause(setting: string): string | undefined {
  const at = setting.indexOf('=');
  if (at < 0) return undefined;
  const name = setting.slice(0, at);
  const value = setting.slice(at + 1);
  const values = LIST_QUOTED.has(name.toLowerCase())
    ? splitGucList(value).map(quoteLiteral).join(', ')
    : quoteLiteral(value);
  return `SET ${quoteIdent(name)} TO ${values}`;
}

/** The statements that give the database `name` the properties (its owner aside), after the choices. */
export function renderDatabaseProperties(
  p: DatabaseProperties,
  name: string,
  choices: RestoreChoices | undefined,
): string {
  const db = quoteIdent(name);
  const out: string[] = [];
  if (p.comment !== null && !choices?.noComments)
    out.push(`COMMENT ON DATABASE ${db} IS ${quoteLiteral(p.comment)};\n`);
  if (p.connectionLimit !== -1)
    out.push(`ALTER DATABASE ${db} CONNECTION LIMIT = ${Math.trunc(p.connectionLimit)};\n`);
  for (const s of p.settings) {
    const set = setClause(s.setting);
    if (!set) continue;
    const statement =
      s.role === null
        ? `ALTER DATABASE ${db} ${set}`
        : `ALTER ROLE ${quoteIdent(s.role)} IN DATABASE ${db} ${set}`;
    out.push(guardedStatement(statement, s.role === null ? [] : [s.role], 'SETTING_FAILED'));
  }
  if (p.privileges && !choices?.noPrivileges) {
    const base = { kind: 'object' as const, target: `DATABASE ${db}`, column: null };
    const privileges: PrivilegeObj[] =
      p.privileges.length > 0
        ? p.privileges.map((g) => ({ ...base, ...g }))
        : [{ ...base, privilege: null, grantable: false, grantee: null, toOwner: false }];
    out.push(...renderPrivileges(privileges));
  }
  return out.join('');
}

/**
 * Collects `database.json` as the entries go by, and applies it to a database the restore
 * created (pg_restore applies them only with --create).
 */
export function databaseProperties() {
  let properties: DatabaseProperties | undefined;
  return {
    /** The entries without `database.json`, which is kept here. */
    async *intercept(entries: AsyncIterable<ArchiveEntry>): AsyncGenerator<ArchiveEntry> {
      for await (const entry of entries) {
        if (entry.relativePath !== DATABASE_PROPERTIES) {
          yield entry;
          continue;
        }
        try {
          properties = JSON.parse((await buffer(entry.stream)).toString()) as DatabaseProperties;
        } catch (error) {
          throw new LifeboatError(
            'ARCHIVE_CORRUPT',
            `database/${DATABASE_PROPERTIES} is not JSON`,
            { cause: error },
          );
        }
      }
    },
    /**
     * The database's owner, given like every other object's (pre-data's owner helper on the
     * connection that ran it; what it may not give is reported with the rest), or undefined.
     */
    ownerSql(name: string, choices: RestoreChoices | undefined): string | undefined {
      if (!properties || choices?.noOwner) return undefined;
      return ownerStatement({
        key: 'database',
        target: `DATABASE ${quoteIdent(name)}`,
        owner: properties.owner,
      });
    },
    async apply(
      target: ConnectionTarget,
      connect: ConnectSettings,
      choices: RestoreChoices | undefined,
      warn: Warn,
      signal: AbortSignal,
    ): Promise<void> {
      if (!properties) return;
      const sql = renderDatabaseProperties(properties, target.database, choices);
      if (sql === '') return;
      await withClient(
        target,
        connect,
        (client) =>
          withScriptWarnings(client, warn, () => runScript(client, sql, DATABASE_PROPERTIES)),
        signal,
      );
    },
  };
}
