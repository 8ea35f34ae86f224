import { qualified, quoteIdent, quoteLiteral } from '../connection.js';
import { OWNER_HELPER, ownerStatement, renderPrivileges } from './access.js';
import { domainChecksOf, withoutLateChecks } from './domain-checks.js';
import { markersOf, newMarkers } from './markers.js';
import type {
  Catalog,
  ColumnObj,
  FunctionObj,
  GenericObj,
  ObjectKey,
  SequenceObj,
  TableObj,
  TypeObj,
  ViewObj,
} from './model.js';
import { type Sortable, sortByDependencies } from './order.js';
import { renderSystemAcls } from './system-acls.js';
import { tableAlters, usingClause, viewAlters, withClause } from './table-details.js';
import {
  partitionTablespaceStatement,
  TABLESPACE_HELPER,
  tablespaceSelector,
} from './tablespaces.js';
import { placeholderView, planViewLoops } from './view-loops.js';

/** Plain SQL both `psql -f` and the plugin's own restore run: no psql meta-commands. */
export const SCRIPT_HEADER = `SET statement_timeout = 0;
SET lock_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET client_min_messages = warning;
SET datestyle = ISO;
SET intervalstyle = postgres;
SET default_table_access_method = heap;
`;

type PreObject =
  | (Sortable & { kind: 'type'; obj: TypeObj })
  | (Sortable & { kind: 'function'; obj: FunctionObj })
  | (Sortable & { kind: 'sequence'; obj: SequenceObj })
  | (Sortable & { kind: 'table'; obj: TableObj })
  | (Sortable & { kind: 'view'; obj: ViewObj })
  | (Sortable & { kind: 'object'; obj: GenericObj })
  | (Sortable & { kind: 'shell'; obj: GenericObj });

export function sequenceOptions(s: SequenceObj): string {
  return `AS ${s.dataType} START WITH ${s.start} INCREMENT BY ${s.increment} MINVALUE ${s.min} MAXVALUE ${s.max} CACHE ${s.cache}${s.cycle ? ' CYCLE' : ' NO CYCLE'}`;
}

function renderType(t: TypeObj): string {
  const name = qualified(t.schema, t.name);
  switch (t.kind) {
    case 'e':
      return `CREATE TYPE ${name} AS ENUM (${t.labels.map(quoteLiteral).join(', ')});\n`;
    case 'c': {
      const attrs = t.attributes.map(
        (a) => `    ${quoteIdent(a.name)} ${a.type}${a.collation ? ` COLLATE ${a.collation}` : ''}`,
      );
      return `CREATE TYPE ${name} AS (\n${attrs.join(',\n')}\n);\n`;
    }
    case 'd': {
      let sql = `CREATE DOMAIN ${name} AS ${t.baseType}`;
      if (t.collation) sql += ` COLLATE ${t.collation}`;
      if (t.default !== null) sql += ` DEFAULT ${t.default}`;
      if (t.notNull) sql += ' NOT NULL';
      sql += ';\n';
      for (const c of t.constraints)
        sql += `ALTER DOMAIN ${name} ADD CONSTRAINT ${quoteIdent(c.name)} ${c.def};\n`;
      return sql;
    }
  }
}

function renderColumn(
  c: ColumnObj,
  table: TableObj,
  sequences: SequenceObj[],
  parent: ColumnObj | undefined,
): string {
  // A typed table's columns come from its type: only their options are written.
  let sql = table.ofType
    ? `    ${quoteIdent(c.name)} WITH OPTIONS`
    : `    ${quoteIdent(c.name)} ${c.type}`;
  if (c.collation && !table.ofType) sql += ` COLLATE ${c.collation}`;
  if (parent && parent.generated === c.generated && parent.default === c.default) {
    // An inherited generated column takes its parent's expression (the server refuses a
    // child's own copy of it).
  } else if (c.generated === 's' || c.generated === 'v') {
    sql += ` GENERATED ALWAYS AS (${c.default}) ${c.generated === 's' ? 'STORED' : 'VIRTUAL'}`;
  } else if (c.identity === 'a' || c.identity === 'd') {
    const seq = sequences.find(
      (s) => s.identityOf?.tableOid === table.oid && s.identityOf.column === c.name,
    );
    const options = seq
      ? ` (SEQUENCE NAME ${qualified(seq.schema, seq.name)} ${sequenceOptions(seq).replace(/^AS \S+ /, '')})`
      : '';
    sql += ` GENERATED ${c.identity === 'a' ? 'ALWAYS' : 'BY DEFAULT'} AS IDENTITY${options}`;
  } else if (c.default !== null) {
    sql += ` DEFAULT ${c.default}`;
  }
  if (c.notNull)
    sql += c.notNullName ? ` CONSTRAINT ${quoteIdent(c.notNullName)} NOT NULL` : ' NOT NULL';
  return sql;
}

/** How a table is created: as a partition of an included parent, or with its own columns. */
export function renderTable(
  t: TableObj,
  included: Map<number, TableObj>,
  sequences: SequenceObj[],
): string {
  const name = qualified(t.schema, t.name);
  const unlogged = t.unlogged ? 'UNLOGGED ' : '';
  const parents = t.parents
    .map((p) => included.get(p))
    .filter((p): p is TableObj => p !== undefined);
  const partitionBy = t.partitionKey ? ` PARTITION BY ${t.partitionKey}` : '';
  const tail = `${partitionBy}${usingClause(t)}${withClause(t.reloptions, t.toastOptions)}`;
  const parentColumn = (c: ColumnObj) => {
    for (const p of parents) {
      const found = p.columns.find((pc) => pc.name === c.name);
      if (found) return found;
    }
    return undefined;
  };
  if (t.partitionBound && parents[0]) {
    return `CREATE ${unlogged}TABLE ${name} PARTITION OF ${qualified(parents[0].schema, parents[0].name)} ${t.partitionBound}${tail};\n${tableAlters(t, parentColumn, true)}`;
  }
  const alters = tableAlters(t, parentColumn, false);
  if (t.ofType) {
    const options = t.columns.filter((c) => c.default !== null || c.notNull);
    const body = options.map((c) => renderColumn(c, t, sequences, undefined)).join(',\n');
    return `CREATE ${unlogged}TABLE ${name} OF ${t.ofType}${body ? ` (\n${body}\n)` : ''}${tail};\n${alters}`;
  }
  // With an included parent, inherited columns come from it; otherwise the table stands alone.
  const columns = t.columns.filter((c) => parents.length === 0 || c.isLocal);
  const inherits =
    parents.length > 0
      ? ` INHERITS (${parents.map((p) => qualified(p.schema, p.name)).join(', ')})`
      : '';
  const body = columns
    .map((c) => renderColumn(c, t, sequences, c.inherited ? parentColumn(c) : undefined))
    .join(',\n');
  return `CREATE ${unlogged}TABLE ${name} (\n${body}\n)${inherits}${tail};\n${alters}`;
}

function renderView(v: ViewObj, replace: boolean): string {
  const name = qualified(v.schema, v.name);
  if (v.kind === 'v')
    return `CREATE ${replace ? 'OR REPLACE ' : ''}VIEW ${name}${withClause(v.reloptions)} AS\n${v.def};\n${viewAlters(v)}`;
  // Filled by REFRESH at the end of post-data, once its tables hold their rows.
  return `CREATE MATERIALIZED VIEW ${name}${usingClause(v)}${withClause(v.reloptions)} AS\n${v.def}\nWITH NO DATA;\n`;
}

const shellKey = (key: ObjectKey) => `shell:${key}`;

/**
 * Types, functions, sequences, tables, views and materialized views in dependency order, so a
 * default or check that calls a function, or a function over a table's row type, just works.
 */
export function orderedPreData(catalog: Catalog): PreObject[] {
  const objects: PreObject[] = [
    ...catalog.types.map((obj) => ({
      kind: 'type' as const,
      obj,
      key: obj.key,
      rank: 0,
      sortName: `${obj.schema}.${obj.name}`,
    })),
    ...catalog.functions.map((obj) => ({
      kind: 'function' as const,
      obj,
      key: obj.key,
      rank: 1,
      sortName: `${obj.schema}.${obj.name}(${obj.identityArgs})`,
    })),
    ...catalog.sequences
      .filter((s) => !s.identityOf)
      .map((obj) => ({
        kind: 'sequence' as const,
        obj,
        key: obj.key,
        rank: 2,
        sortName: `${obj.schema}.${obj.name}`,
      })),
    ...catalog.tables.map((obj) => ({
      kind: 'table' as const,
      obj,
      key: obj.key,
      rank: 3,
      sortName: `${obj.schema}.${obj.name}`,
    })),
    ...catalog.views.map((obj) => ({
      kind: 'view' as const,
      obj,
      key: obj.key,
      rank: 4,
      oid: obj.oid,
      sortName: `${obj.schema}.${obj.name}`,
    })),
    ...catalog.objects.map((obj) => ({
      kind: 'object' as const,
      obj,
      key: obj.key,
      rank: obj.rank,
      oid: obj.oid,
      sortName: obj.sortName,
    })),
    ...catalog.objects
      .filter((obj) => obj.shell)
      .map((obj) => ({
        kind: 'shell' as const,
        obj,
        key: shellKey(obj.key),
        rank: obj.rank,
        oid: obj.oid,
        sortName: obj.sortName,
      })),
  ];
  // Inheritance and partitions are not "normal" dependencies in pg_depend.
  const extra: [ObjectKey, ObjectKey][] = [
    ...catalog.tables.flatMap((t) =>
      t.parents.map((p) => [t.key, `c:${p}`] as [ObjectKey, ObjectKey]),
    ),
    ...catalog.objects.flatMap((o) => o.needs.map((n) => [o.key, n] as [ObjectKey, ObjectKey])),
  ];
  // A type and its functions refer to each other: the functions need only its shell.
  const shellOf = new Map<ObjectKey, ObjectKey>();
  for (const o of catalog.objects)
    for (const f of o.shell?.for ?? []) shellOf.set(`${f} ${o.key}`, shellKey(o.key));
  const dependencies = [...catalog.dependencies, ...extra].map(
    ([src, ref]): [ObjectKey, ObjectKey] => [src, shellOf.get(`${src} ${ref}`) ?? ref],
  );
  return sortByDependencies(objects, dependencies);
}

const BATCH_OBJECTS = 200;

/**
 * Splits pre-data into batches that may commit one by one (the settings stay in the session);
 * a script without its token runs whole.
 */
export function splitBatches(sql: string): string[] {
  const m = markersOf(sql);
  return m ? sql.split(`\n${m.batch}`) : [sql];
}

export function renderPreData(catalog: Catalog): string {
  const included = new Map(catalog.tables.map((t) => [t.oid, t]));
  const m = newMarkers();
  const out: string[] = [
    m.line,
    `-- Lifeboat pre-data: schemas, extensions, types, functions, sequences, tables, views.\n-- Source: PostgreSQL ${catalog.serverVersion}, database encoding ${catalog.encoding}.\n`,
    SCRIPT_HEADER,
    OWNER_HELPER,
  ];
  // Only an archive whose objects lie in tablespaces names any (see tablespaces.ts).
  const tablespaces = tablespaceSelector(catalog);
  if (tablespaces.used) out.push(TABLESPACE_HELPER);
  // Each object gets its owner right after its CREATE (pg_restore's order), before anything
  // of the owner's can run on it.
  const owners = new Map(catalog.owners.map((o) => [o.key, o]));
  // What runs with its owner's rights: SECURITY DEFINER functions, views (not security_invoker).
  const runsAsOwner = new Set<ObjectKey>([
    ...catalog.functions.filter((f) => /\bSECURITY DEFINER\b/.test(f.def)).map((f) => f.key),
    ...catalog.views
      .filter(
        (v) => !(v.reloptions ?? []).some((o) => /^security_invoker=(true|on|1|yes)$/i.test(o)),
      )
      .map((v) => v.key),
  ]);
  const giveOwner = (key: ObjectKey) => {
    const owner = owners.get(key);
    if (!owner) return;
    owners.delete(key);
    out.push(ownerStatement(owner, runsAsOwner.has(key)));
  };
  for (const s of catalog.schemas) {
    out.push(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(s.name)};\n`);
    giveOwner(`n:${s.oid}`);
  }
  for (const e of catalog.extensions) {
    out.push(
      `CREATE EXTENSION IF NOT EXISTS ${quoteIdent(e.name)} WITH SCHEMA ${quoteIdent(e.schema)};\n`,
    );
  }
  let count = 0;
  // Domain checks calling the source roles' code come after the rows (domain-checks.ts).
  const lateChecks = domainChecksOf(catalog);
  const ordered = orderedPreData(catalog);
  const loops = planViewLoops(ordered, catalog.dependencies);
  for (const o of ordered) {
    // A restore into a new database may run each batch as its own transaction: thousands of
    // tables in one transaction exhaust the server's lock table (max_locks_per_transaction).
    if (++count % BATCH_OBJECTS === 0) out.push(`\n${m.batch}`);
    for (const v of loops.before.get(o.key) ?? []) {
      const name = `${v.schema}.${v.name}`.replace(/[\r\n]/g, ' ');
      out.push(`\n-- placeholder of view: ${name}\n`, placeholderView(v));
    }
    const kind =
      o.kind === 'object' ? o.obj.kind : o.kind === 'shell' ? `shell of ${o.obj.kind}` : o.kind;
    out.push(`\n-- ${kind}: ${o.sortName.replace(/[\r\n]/g, ' ')}\n`);
    switch (o.kind) {
      case 'type':
        out.push(renderType(withoutLateChecks(o.obj, lateChecks)));
        break;
      case 'function':
        out.push(`${o.obj.def.trimEnd()};\n`);
        break;
      case 'sequence':
        // A sequence lies in default_tablespace too: the database's default, as pg_dump makes it.
        out.push(tablespaces.select(null));
        out.push(
          `CREATE ${o.obj.unlogged ? 'UNLOGGED ' : ''}SEQUENCE ${qualified(o.obj.schema, o.obj.name)} ${sequenceOptions(o.obj)};\n`,
        );
        break;
      case 'table': {
        out.push(tablespaces.select(o.obj.tablespace));
        out.push(renderTable(o.obj, included, catalog.sequences));
        // Created in its parent's tablespace whatever was selected: moved where it lay.
        const parent = o.obj.partitionBound ? included.get(o.obj.parents[0]!) : undefined;
        if (parent && parent.tablespace !== o.obj.tablespace)
          out.push(partitionTablespaceStatement(qualified(o.obj.schema, o.obj.name)));
        break;
      }
      case 'object':
        out.push(o.obj.ddl);
        break;
      case 'shell':
        out.push(`${o.obj.shell!.ddl}\n`);
        break;
      case 'view':
        if (o.obj.kind === 'm') out.push(tablespaces.select(o.obj.tablespace));
        out.push(
          loops.deferred.includes(o.obj)
            ? placeholderView(o.obj)
            : renderView(o.obj, loops.replaced.has(o.key)),
        );
        break;
    }
    giveOwner(o.key);
  }
  for (const v of loops.deferred) {
    const name = `${v.schema}.${v.name}`.replace(/[\r\n]/g, ' ');
    out.push(`\n-- view (in a loop): ${name}\n`, renderView(v, true));
  }
  // Anything not created above (none expected) still gets its owner.
  for (const key of [...owners.keys()]) giveOwner(key);
  out.push(tablespaces.select(null));
  // Privileges before any data or index: an index expression or a materialized view runs as
  // its owner, who may need a grant (USAGE on another role's schema) to run it.
  out.push(`\n${m.batch}\n-- privileges\n`, ...renderPrivileges(catalog.privileges));
  // The server's and extensions' objects last: a user object's grants may be what they replace.
  out.push(...renderSystemAcls(catalog.systemAcls ?? []));
  return out.join('');
}
