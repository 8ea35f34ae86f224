import type { LeftOutObject } from '@lifeboat/core';
import type { PgClient } from '../connection.js';
import type { Catalog, ObjectKey, UnsupportedObj } from './model.js';
import { DEPEND_JOINS, KEY_CTES, REF_KEY } from './queries.js';

/**
 * Every dependency between user objects, keyed as the catalog model keys them: creatable objects
 * as ordering does (`c:`, `t:`, `p:`, `<catalog>:<oid>`), and what post-data writes on its own
 * (constraints, triggers, policies, rules, statistics, event triggers) by a key of its own.
 * Automatic dependencies count too: an index goes with its table.
 */
const ALL_DEPENDENCIES = `WITH ${KEY_CTES}
SELECT DISTINCT
  CASE d.classid
    WHEN 'pg_catalog.pg_class'::pg_catalog.regclass THEN rk.key
    WHEN 'pg_catalog.pg_type'::pg_catalog.regclass THEN tk.key
    WHEN 'pg_catalog.pg_proc'::pg_catalog.regclass THEN 'p:' || d.objid
    WHEN 'pg_catalog.pg_attrdef'::pg_catalog.regclass THEN 'c:' || ad.adrelid
    WHEN 'pg_catalog.pg_constraint'::pg_catalog.regclass THEN
      CASE WHEN co.contypid <> 0 THEN 't:' || co.contypid ELSE 'pg_constraint:' || d.objid END
    WHEN 'pg_catalog.pg_rewrite'::pg_catalog.regclass THEN
      CASE WHEN rw.rulename = '_RETURN' THEN 'c:' || rw.ev_class
           ELSE 'pg_rewrite:' || rw.ev_class || ':' || rw.rulename END
    WHEN 'pg_catalog.pg_policy'::pg_catalog.regclass THEN 'pg_policy:' || po.polrelid || ':' || po.polname
    WHEN 'pg_catalog.pg_event_trigger'::pg_catalog.regclass THEN 'pg_event_trigger:' || et.evtname
    ELSE cl.relname || ':' || d.objid
  END AS src,
  COALESCE(${REF_KEY}, rcl.relname || ':' || d.refobjid) AS ref
${DEPEND_JOINS}
    LEFT JOIN pg_catalog.pg_policy po ON d.classid = 'pg_catalog.pg_policy'::pg_catalog.regclass AND po.oid = d.objid
    LEFT JOIN pg_catalog.pg_event_trigger et ON d.classid = 'pg_catalog.pg_event_trigger'::pg_catalog.regclass AND et.oid = d.objid
  WHERE d.deptype IN ('n', 'a') AND d.objid >= 16384 AND d.refobjid >= 16384`;

export interface LeftOutResult {
  catalog: Catalog;
  /** What the walk removed because it depends on something the archive cannot hold. */
  dependents: LeftOutObject[];
}

/**
 * Takes out of the catalog everything that (transitively, through pg_depend) needs an object the
 * archive cannot hold, so an incomplete archive never holds DDL that fails on what is missing.
 * A table taken out takes its rows, indexes, constraints, triggers, policies and grants along.
 */
export async function leaveOutDependents(
  client: PgClient,
  catalog: Catalog,
  unsupported: UnsupportedObj[],
): Promise<LeftOutResult> {
  const label = new Map<ObjectKey, string>();
  for (const u of unsupported) if (u.key) label.set(u.key, `${u.kind} ${u.name}`);
  if (label.size === 0) return { catalog, dependents: [] };
  const edges = (await client.query(ALL_DEPENDENCIES)).rows as { src: string; ref: string }[];
  // Why each object is out: the first missing object it was found to need.
  const because = new Map<ObjectKey, ObjectKey>();
  const gone = new Set<ObjectKey>(label.keys());
  for (let changed = true; changed; ) {
    changed = false;
    for (const { src, ref } of edges) {
      if (src && gone.has(ref) && !gone.has(src)) {
        gone.add(src);
        because.set(src, because.get(ref) ?? ref);
        changed = true;
      }
    }
  }
  const dependents: LeftOutObject[] = [];
  const reason = (key: ObjectKey, tableKey?: ObjectKey) => {
    const root = because.get(key) ?? (tableKey ? because.get(tableKey) : undefined);
    return `depends on ${root ? (label.get(root) ?? root) : 'an object left out'}`;
  };
  const keep = <T>(
    list: T[],
    kind: string | ((o: T) => string),
    keyOf: (o: T) => ObjectKey,
    nameOf: (o: T) => string,
    tableKeyOf?: (o: T) => ObjectKey,
  ): T[] =>
    list.filter((o) => {
      const key = keyOf(o);
      const tableKey = tableKeyOf?.(o);
      const out = gone.has(key) || (tableKey !== undefined && gone.has(tableKey));
      // Whatever sits on a table taken out goes silently with it: the table is named.
      if (out && !(tableKey !== undefined && gone.has(tableKey)))
        dependents.push({
          kind: typeof kind === 'string' ? kind : kind(o),
          name: nameOf(o),
          reason: reason(key, tableKey),
        });
      return !out;
    });
  const tableName = new Map(catalog.tables.map((t) => [t.oid, `${t.schema}.${t.name}`]));
  const onTable = (oid: number) => `c:${oid}`;
  // As people read names (warnings name objects so): schema.name, unquoted.
  const named = (o: { schema: string; name: string }) => `${o.schema}.${o.name}`;
  const next: Catalog = {
    ...catalog,
    types: keep(catalog.types, 'type', (t) => t.key, named),
    functions: keep(catalog.functions, 'function', (f) => f.key, named),
    sequences: keep(catalog.sequences, 'sequence', (s) => s.key, named),
    tables: keep(catalog.tables, 'table (with its rows)', (t) => t.key, named),
    views: keep(catalog.views, 'view', (v) => v.key, named),
    objects: keep(
      catalog.objects,
      (o) => o.kind,
      (o) => o.key,
      (o) => o.sortName,
    ),
    constraints: keep(
      catalog.constraints,
      'constraint',
      (c) => `pg_constraint:${c.oid}`,
      (c) => `${c.name} on ${tableName.get(c.tableOid) ?? c.tableOid}`,
      (c) => onTable(c.tableOid),
    ),
    indexes: keep(
      catalog.indexes,
      'index',
      (i) => `c:${i.oid}`,
      (i) => i.name,
      (i) => onTable(i.tableOid),
    ),
    triggers: keep(
      catalog.triggers,
      'trigger',
      (t) => `pg_trigger:${t.oid}`,
      (t) => `${t.name} on ${tableName.get(t.tableOid) ?? t.tableOid}`,
      (t) => onTable(t.tableOid),
    ),
    policies: keep(
      catalog.policies,
      'policy',
      (p) => `pg_policy:${p.tableOid}:${p.name}`,
      (p) => `${p.name} on ${tableName.get(p.tableOid) ?? p.tableOid}`,
      (p) => onTable(p.tableOid),
    ),
    rules: keep(
      catalog.rules,
      'rule',
      (r) => `pg_rewrite:${r.tableOid}:${r.name}`,
      (r) => `${r.name} on ${tableName.get(r.tableOid) ?? r.tableOid}`,
      (r) => onTable(r.tableOid),
    ),
    statistics: keep(
      catalog.statistics,
      'statistics',
      (s) => `pg_statistic_ext:${s.oid}`,
      named,
      (s) => onTable(s.tableOid),
    ),
    eventTriggers: keep(
      catalog.eventTriggers,
      'event trigger',
      (e) => `pg_event_trigger:${e.name}`,
      (e) => e.name,
    ),
    publications: catalog.publications.map((p) => ({
      ...p,
      tables: p.tables.filter((t) => !gone.has(onTable(t.tableOid))),
    })),
    privileges: catalog.privileges.filter((p) => !p.key || !gone.has(p.key)),
    owners: catalog.owners.filter((o) => !gone.has(o.key)),
    dependencies: catalog.dependencies.filter(([a, b]) => !gone.has(a) && !gone.has(b)),
  };
  return { catalog: next, dependents };
}
