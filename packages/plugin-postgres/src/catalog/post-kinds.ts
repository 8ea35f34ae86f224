import { qualified, quoteIdent, quoteLiteral } from '../connection.js';
import { guardedStatement, NO_PRIVILEGES, ownerStatement } from './access.js';
import type {
  AclItem,
  DefaultPrivilegeObj,
  EventTriggerObj,
  PublicationObj,
  StatisticsObj,
  SubscriptionObj,
} from './model.js';
import { ENABLE_STATE } from './table-details.js';

/**
 * What post-data writes after every other object, as pg_dump does (dumpStatisticsExt,
 * dumpPublication, dumpPublicationTable, dumpSubscription, dumpEventTrigger, dumpDefaultACL),
 * each with its owner and comment.
 */

const comment = (target: string, text: string | null) =>
  text === null ? '' : `COMMENT ON ${target} IS ${quoteLiteral(text)};\n`;

export function renderStatistics(s: StatisticsObj): string {
  const name = qualified(s.schema, s.name);
  let sql = `${s.def};\n`;
  if (s.target !== null) sql += `ALTER STATISTICS ${name} SET STATISTICS ${s.target};\n`;
  sql += ownerStatement({ key: '', target: `STATISTICS ${name}`, owner: s.owner });
  return sql + comment(`STATISTICS ${name}`, s.comment);
}

/**
 * Publications: the tables of each only ONLY (a partition is listed on its own where it is),
 * with their column lists and row filters.
 */
export function renderPublication(p: PublicationObj, tableName: (oid: number) => string): string {
  const name = quoteIdent(p.name);
  const options = [`publish = ${quoteLiteral(p.publish.join(', '))}`];
  if (p.viaRoot) options.push('publish_via_partition_root = true');
  if (p.generatedColumns === 's') options.push('publish_generated_columns = stored');
  let sql = `CREATE PUBLICATION ${name}${p.allTables ? ' FOR ALL TABLES' : ''} WITH (${options.join(', ')});\n`;
  sql += ownerStatement({ key: '', target: `PUBLICATION ${name}`, owner: p.owner });
  sql += comment(`PUBLICATION ${name}`, p.comment);
  for (const t of p.tables) {
    const columns = t.columns ? ` (${t.columns.map(quoteIdent).join(', ')})` : '';
    const where = t.where ? ` WHERE (${t.where})` : '';
    sql += `ALTER PUBLICATION ${name} ADD TABLE ONLY ${tableName(t.tableOid)}${columns}${where};\n`;
  }
  for (const s of p.schemas)
    sql += `ALTER PUBLICATION ${name} ADD TABLES IN SCHEMA ${quoteIdent(s)};\n`;
  return sql;
}

/**
 * As pg_dump writes a subscription: not connected (no slot is created, nothing is copied) and
 * so disabled; its slot name kept for when it is enabled again.
 */
export function renderSubscription(s: SubscriptionObj): string {
  const name = quoteIdent(s.name);
  const slot = s.slotName === null ? 'NONE' : quoteLiteral(s.slotName);
  const options = ['connect = false', `slot_name = ${slot}`, ...s.options].join(', ');
  const publications = s.publications.map(quoteIdent).join(', ');
  let sql = `CREATE SUBSCRIPTION ${name} CONNECTION ${quoteLiteral(s.conninfo)} PUBLICATION ${publications} WITH (${options});\n`;
  sql += ownerStatement({ key: '', target: `SUBSCRIPTION ${name}`, owner: s.owner });
  return sql + comment(`SUBSCRIPTION ${name}`, s.comment);
}

/** Created last of all, so that none fires while the restore runs. */
export function renderEventTrigger(e: EventTriggerObj): string {
  const name = quoteIdent(e.name);
  const when = e.tags?.length ? ` WHEN TAG IN (${e.tags.map(quoteLiteral).join(', ')})` : '';
  let sql = `CREATE EVENT TRIGGER ${name} ON ${quoteIdent(e.event)}${when} EXECUTE FUNCTION ${e.function}();\n`;
  if (e.enabled !== 'O') sql += `ALTER EVENT TRIGGER ${name} ${ENABLE_STATE[e.enabled]};\n`;
  sql += ownerStatement({ key: '', target: `EVENT TRIGGER ${name}`, owner: e.owner });
  return sql + comment(`EVENT TRIGGER ${name}`, e.comment);
}

const DEFAULT_KINDS: Record<string, string> = {
  r: 'TABLES',
  S: 'SEQUENCES',
  f: 'FUNCTIONS',
  T: 'TYPES',
  n: 'SCHEMAS',
  L: 'LARGE OBJECTS',
};

/**
 * ALTER DEFAULT PRIVILEGES: a role-wide entry as its difference to the built-in defaults
 * (revokes, then grants), a schema's entry as its grants. Each statement skips itself, with a
 * warning, where a role it names does not exist.
 */
export function renderDefaultPrivileges(d: DefaultPrivilegeObj): string {
  const kind = DEFAULT_KINDS[d.type];
  if (!kind) return '';
  const head = `ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(d.role)}${d.schema === null ? '' : ` IN SCHEMA ${quoteIdent(d.schema)}`}`;
  const same = (a: AclItem) => (b: AclItem) =>
    a.grantee === b.grantee && a.privilege === b.privilege;
  const defaults = d.defaults ?? [];
  const revoked = defaults.filter((a) => !d.granted.some(same(a)));
  const granted = d.granted.filter((a) => {
    const before = defaults.find(same(a));
    return !before || (a.grantable && !before.grantable);
  });
  const out: string[] = [];
  const statements = (items: AclItem[], verb: (privileges: string, to: string) => string) => {
    const groups = new Map<string, { grantee: string | null; privileges: string[] }>();
    for (const a of items) {
      const key = `${a.grantee ?? ''}\u0000${a.grantable}`;
      const group = groups.get(key) ?? { grantee: a.grantee, privileges: [] };
      group.privileges.push(a.privilege);
      groups.set(key, group);
    }
    for (const [key, g] of groups) {
      const to = g.grantee === null ? 'PUBLIC' : quoteIdent(g.grantee);
      const statement = `${head} ${verb(g.privileges.join(', '), to)}${key.endsWith('true') ? ' WITH GRANT OPTION' : ''}`;
      const roles = g.grantee === null ? [d.role] : [d.role, g.grantee];
      out.push(guardedStatement(statement, roles, 'DEFAULT_PRIVILEGES_FAILED', NO_PRIVILEGES));
    }
  };
  statements(
    revoked.map((a) => ({ ...a, grantable: false })),
    (p, to) => `REVOKE ${p} ON ${kind} FROM ${to}`,
  );
  statements(granted, (p, to) => `GRANT ${p} ON ${kind} TO ${to}`);
  return out.join('');
}
