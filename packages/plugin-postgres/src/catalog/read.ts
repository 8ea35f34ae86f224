import { hostHint, LifeboatError } from '@lifeboat/core';
import {
  type BackupSelection,
  includesOnly,
  placeTaken,
  relationMatched,
  relationTaken,
  schemaContains,
} from '../backup-filter.js';
import type { PgClient } from '../connection.js';
import { qualified } from '../connection.js';
import { readCodeOwners } from './code-owners.js';
import { PRE_DATA_KINDS } from './kinds/index.js';
import { readKinds } from './kinds/read-kinds.js';
import type {
  Catalog,
  ColumnObj,
  ConstraintObj,
  FunctionObj,
  IndexObj,
  ObjectKey,
  OwnerObj,
  PrivilegeObj,
  SequenceObj,
  SystemAclObj,
  TableObj,
  TypeObj,
  UnsupportedObj,
  ViewObj,
} from './model.js';
import * as q from './queries.js';
import { readPostKinds } from './read-post-kinds.js';
import { selectTables } from './select.js';
import { readSystemAcls } from './system-acls.js';

// biome-ignore lint/suspicious/noExplicitAny: rows straight from the catalog
type Row = Record<string, any>;

export interface CatalogSelection {
  tables?: readonly string[] | undefined;
  excludeTables?: readonly string[] | undefined;
  /** pg_dump's -t/-T/-n/-N patterns (a filter file, BACKUP_SCHEMAS…): see backup-filter.ts. */
  filter?: BackupSelection | undefined;
  /** Runs as soon as the selected tables are known (the backup locks them there). */
  tablesSelected?: ((tables: readonly TableObj[]) => Promise<void>) | undefined;
}

export interface ReadCatalogResult {
  catalog: Catalog;
  /** Objects left out because they depend on a table outside the selection. */
  skipped: UnsupportedObj[];
}

const num = (v: unknown): number => Number(v);

async function rows(client: PgClient, sql: string, params: unknown[] = []): Promise<Row[]> {
  return (await client.query(sql, params)).rows as Row[];
}

/**
 * What each object read here starts with: key (`c:16384`, its catalog and oid), oid, schema,
 * name, kind.
 */
const objectHead = (catalog: 'c' | 'p' | 't', r: Row) => ({
  key: `${catalog}:${r.oid}`,
  oid: num(r.oid),
  schema: r.schema,
  name: r.name,
  kind: r.kind,
});

/**
 * Reads everything the backup writes as SQL. Runs inside the backup's snapshot; `helper`, a second
 * connection in the same snapshot, reads constraints and indexes meanwhile (with thousands of
 * tables these are the slowest catalog queries: a pg_get_*def call per object).
 */
export async function readCatalog(
  client: PgClient,
  selection: CatalogSelection = {},
  /** May still be joining the snapshot: it is waited for where its part begins. */
  helperJoining?: PgClient | Promise<PgClient | undefined>,
): Promise<ReadCatalogResult> {
  const [info] = await rows(client, q.SERVER_INFO);
  const versionNum = num(info!.version_num);
  const extensions = (await rows(client, q.EXTENSIONS)).map((r) => ({
    name: r.name as string,
    schema: r.schema as string,
    version: r.version as string,
    hasConfigTables: r.has_config as boolean,
  }));
  const schemas = (await rows(client, q.SCHEMAS)).map((r) => ({
    oid: num(r.oid),
    name: r.name as string,
    comment: r.comment as string | null,
  }));
  const types: TypeObj[] = (await rows(client, q.TYPES)).map((r) => ({
    ...objectHead('t', r),
    labels: r.labels ?? [],
    baseType: r.base_type,
    notNull: r.not_null,
    default: r.default,
    collation: r.collation,
    attributes: r.attributes ?? [],
    constraints: r.constraints ?? [],
    comment: r.comment,
  }));
  let functions: FunctionObj[] = (await rows(client, q.FUNCTIONS))
    .filter((r) => r.kind !== 'a')
    .map((r) => ({
      ...objectHead('p', r),
      identityArgs: r.identity_args,
      def: r.def,
      comment: r.comment,
    }));
  const relationRows = await rows(client, q.RELATIONS);
  const allTables: TableObj[] = relationRows
    .filter((r) => r.kind === 'r' || r.kind === 'p')
    .map((r) => ({
      ...objectHead('c', r),
      unlogged: r.unlogged,
      partitionKey: r.partition_key,
      partitionBound: r.partition_bound,
      parents: (r.parents ?? []).map(num),
      reloptions: r.reloptions,
      toastOptions: r.toast_options,
      accessMethod: r.access_method,
      ofType: r.of_type,
      replicaIdentity: r.replica_identity,
      rowSecurity: r.row_security,
      forceRowSecurity: r.force_row_security,
      tablespace: r.tablespace ?? null,
      sizeBytes: num(r.size_bytes),
      columns: [],
      comment: r.comment,
    }));
  let views: ViewObj[] = relationRows
    .filter((r) => r.kind === 'v' || r.kind === 'm')
    .map((r) => ({
      ...objectHead('c', r),
      def: String(r.view_def).trim().replace(/;$/, ''),
      reloptions: r.reloptions,
      accessMethod: r.access_method,
      populated: r.populated,
      tablespace: r.kind === 'm' ? (r.tablespace ?? null) : null,
      selfReferencing: r.self_referencing,
      columns: [],
      comment: r.comment,
    }));

  // Table selection: a partitioned table brings its partitions along.
  const children = new Map<number, TableObj[]>();
  for (const t of allTables) {
    if (t.partitionBound && t.parents[0] !== undefined) {
      children.set(t.parents[0], [...(children.get(t.parents[0]) ?? []), t]);
    }
  }
  const withPartitions = (t: TableObj): TableObj[] => [
    t,
    ...(children.get(t.oid) ?? []).flatMap(withPartitions),
  ];
  const selected = selectTables(
    allTables,
    selection.tables,
    selection.excludeTables ?? [],
    'the database',
    withPartitions,
  );
  const filter = selection.filter;
  // Keys of what the pattern selection leaves out: what needs them is left out too (below).
  const removed = new Set<ObjectKey>();
  if (filter) {
    const picked = pickByPatterns(filter, allTables, views, schemas, withPartitions);
    for (const t of allTables) if (!picked.has(t)) selected.delete(t);
    views = keepOr(views, (v) => picked.has(v), removed);
  }
  const tables = allTables.filter((t) => selected.has(t));
  await selection.tablesSelected?.(tables);
  const tableSet = new Set(tables.map((t) => t.key));
  let kept = { types, functions, schemas, extensions };
  if (filter) {
    kept = {
      types: keepOr(types, (t) => schemaContains(filter, t.schema), removed),
      functions: keepOr(functions, (f) => schemaContains(filter, f.schema), removed),
      schemas: schemas.filter((n) => schemaContains(filter, n.name)),
      // An extension is outside any schema (pg_dump leaves it out with -n or -t); one whose
      // schema is left out could not be created in it.
      extensions: extensions.filter(
        (e) => !includesOnly(filter) && schemaContains(filter, e.schema),
      ),
    };
  }

  const dependencies = (await rows(client, q.DEPENDENCIES)).map(
    (r) => [r.src, r.ref] as [ObjectKey, ObjectKey],
  );
  // Objects that (transitively) need a table outside the selection cannot be restored.
  const skipped: UnsupportedObj[] = [];
  const gone = new Set([
    ...allTables.filter((t) => !tableSet.has(t.key)).map((t) => t.key),
    ...removed,
  ]);
  if (gone.size > 0) {
    for (let changed = true; changed; ) {
      changed = false;
      for (const [src, ref] of dependencies) {
        if (gone.has(ref) && !gone.has(src)) {
          gone.add(src);
          changed = true;
        }
      }
    }
    const drop = <T extends { key: ObjectKey; schema: string; name: string }>(
      list: T[],
      kind: string,
    ): T[] =>
      list.filter((o) => {
        if (!gone.has(o.key)) return true;
        skipped.push({
          kind,
          name: `${o.schema}.${o.name}`,
          reason: 'depends on a table outside the selection',
        });
        return false;
      });
    views = drop(views, 'view');
    kept.functions = drop(kept.functions, 'function');
    if (filter) kept.types = drop(kept.types, 'type');
  }
  functions = kept.functions;

  const relOids = [...tables.map((t) => t.oid), ...views.map((v) => v.oid)];
  const helper = await helperJoining;
  // One query at a time per connection (pg only queues a second one, and is deprecating that).
  const keyClient = helper ?? client;
  const keyRows = (async () =>
    [
      await rows(keyClient, q.CONSTRAINTS, [relOids]),
      await rows(keyClient, q.INDEXES, [relOids]),
    ] as const)();
  // Awaited below; a failure meanwhile must not count as unhandled.
  keyRows.catch(() => {});
  if (!helper) await keyRows;
  // The helper goes on with the two queries that need only the relations (together 20 ms on a
  // bare server, a fifth of this read) while this connection reads columns and kinds.
  const helperRows = (async () => {
    if (helper) await keyRows;
    return {
      systemAcls: await readSystemAcls(keyClient),
      codeOwners: await readCodeOwners(keyClient, relOids),
    };
  })();
  helperRows.catch(() => {});
  if (!helper) await helperRows;
  const columns = new Map<number, ColumnObj[]>();
  for (const r of await rows(client, q.columnsQuery(versionNum), [relOids])) {
    const list = columns.get(num(r.rel)) ?? [];
    list.push({
      num: r.num,
      name: r.name,
      type: r.type,
      notNull: r.not_null,
      notNullName: r.not_null_name,
      identity: r.identity,
      generated: r.generated,
      isLocal: r.is_local,
      inherited: r.inherited,
      storage: r.storage,
      typeStorage: r.type_storage,
      compression: r.compression,
      statistics: r.statistics,
      options: r.options,
      default: r.default,
      collation: r.collation,
      comment: r.comment,
    });
    columns.set(num(r.rel), list);
  }
  for (const rel of [...tables, ...views]) rel.columns = columns.get(rel.oid) ?? [];

  const tableOids = new Set(tables.map((t) => t.oid));
  let sequences: SequenceObj[] = (await rows(client, q.SEQUENCES)).map((r) => {
    const owner = r.owner as { tableOid: number; column: string; type: string } | null;
    return {
      key: `c:${r.oid}`,
      oid: num(r.oid),
      schema: r.schema,
      name: r.name,
      dataType: r.data_type,
      start: r.start,
      increment: r.increment,
      min: r.min,
      max: r.max,
      cache: r.cache,
      cycle: r.cycle,
      unlogged: r.unlogged,
      identityOf:
        owner?.type === 'i' ? { tableOid: num(owner.tableOid), column: owner.column } : null,
      ownedBy: owner?.type === 'a' ? { tableOid: num(owner.tableOid), column: owner.column } : null,
      lastValue: '',
      isCalled: false,
      comment: r.comment,
    };
  });
  sequences = sequences.filter((s) => {
    const owner = s.identityOf ?? s.ownedBy;
    if (owner) return tableOids.has(owner.tableOid);
    return !gone.has(s.key) && (!filter || relationTaken(filter, s));
  });
  await readSequenceValues(client, sequences);
  const accessOids = [
    kept.schemas.map((x) => x.oid),
    [...relOids, ...sequences.map((x) => x.oid)],
    functions.map((x) => x.oid),
    kept.types.map((x) => x.oid),
  ];
  const privileges: PrivilegeObj[] = (await rows(client, q.PRIVILEGES, accessOids)).map((r) => ({
    kind: r.kind,
    key: r.key,
    target: r.target,
    column: r.col,
    privilege: r.privilege,
    grantable: r.grantable,
    grantee: r.grantee,
    toOwner: r.to_owner,
  }));
  const owners: OwnerObj[] = (await rows(client, q.OWNERS, accessOids)).map((r) => ({
    key: r.key,
    target: r.target,
    owner: r.owner,
  }));

  const kinds = await readKinds(client, PRE_DATA_KINDS, versionNum);
  if (filter) {
    // Collations, operators, foreign tables…: by their schema; casts, languages… by none.
    const out = new Set(
      kinds.objects.filter((o) => !placeTaken(filter, o.schema)).map((o) => o.key),
    );
    kinds.objects = kinds.objects.filter((o) => !out.has(o.key));
    kinds.owners = kinds.owners.filter((o) => !out.has(o.key));
    kinds.privileges = kinds.privileges.filter((p) => !p.key || !out.has(p.key));
  }
  privileges.push(...kinds.privileges);
  owners.push(...kinds.owners);

  const [constraintRows, indexRows] = await keyRows;
  const constraints: ConstraintObj[] = constraintRows.map((r) => ({
    oid: num(r.oid),
    name: r.name,
    type: r.type,
    tableOid: num(r.table_oid),
    refTableOid: num(r.ref_table_oid),
    def: r.def,
    isLocal: r.is_local,
    parentOid: num(r.parent_oid),
    comment: r.comment,
  }));
  const indexes: IndexObj[] = indexRows.map((r) => ({
    oid: num(r.oid),
    tableOid: num(r.table_oid),
    name: r.name,
    quotedName: r.quoted_name,
    def: r.def,
    isPartition: r.is_partition,
    parentOid: num(r.parent_oid ?? 0),
    backsConstraint: r.backs_constraint,
    clustered: r.clustered,
    replicaIdentity: r.replica_identity,
    tablespace: r.tablespace ?? null,
    statistics: r.statistics ?? [],
    comment: r.comment,
  }));
  const triggers = (await rows(client, q.TRIGGERS, [relOids])).map((r) => ({
    oid: num(r.oid),
    tableOid: num(r.table_oid),
    name: r.name as string,
    def: r.def as string,
    enabled: r.enabled as string,
    parentOid: num(r.parent_oid),
    comment: r.comment as string | null,
  }));
  const policies = (await rows(client, q.POLICIES, [relOids])).map((r) => ({
    tableOid: num(r.table_oid),
    name: r.name as string,
    permissive: r.permissive as boolean,
    command: r.command as string,
    roles: r.roles as string[] | null,
    using: r.using_expr as string | null,
    withCheck: r.check_expr as string | null,
    comment: r.comment as string | null,
  }));
  const rules = (await rows(client, q.RULES, [relOids])).map((r) => ({
    tableOid: num(r.table_oid),
    name: r.name as string,
    def: r.def as string,
    enabled: r.enabled as string,
    comment: r.comment as string | null,
  }));
  const post = await readPostKinds(
    client,
    versionNum,
    relOids,
    new Map(tables.map((t) => [t.oid, qualified(t.schema, t.name)])),
  );
  skipped.push(...post.skipped);
  // Every kind read here is recreated; what is left is what the post-data reader cannot keep
  // (security labels). Kinds Lifeboat does not know are found by unknown-kinds.ts.
  const unsupported: UnsupportedObj[] = [...post.unsupported];
  const late = await helperRows;

  return {
    catalog: {
      serverVersion: info!.version,
      serverVersionNum: versionNum,
      database: info!.database,
      encoding: info!.encoding,
      extensions: kept.extensions,
      schemas: kept.schemas,
      types: kept.types,
      functions,
      sequences,
      tables,
      views,
      objects: kinds.objects,
      constraints,
      indexes,
      triggers,
      policies,
      rules,
      statistics: post.statistics,
      // Outside any schema: pg_dump leaves them out with -n or -t.
      eventTriggers: filter && includesOnly(filter) ? [] : post.eventTriggers,
      publications: filter && includesOnly(filter) ? [] : post.publications,
      subscriptions: filter && includesOnly(filter) ? [] : post.subscriptions,
      defaultPrivileges: filter
        ? post.defaultPrivileges.filter((d) => placeTaken(filter, d.schema))
        : post.defaultPrivileges,
      privileges,
      systemAcls: systemAclsTaken(filter, late.systemAcls),
      owners,
      dependencies,
      unsupported,
      codeOwners: late.codeOwners,
    },
    skipped,
  };
}

/** Current value of every sequence, read in batches (one UNION ALL query per batch). */
async function readSequenceValues(client: PgClient, sequences: SequenceObj[]): Promise<void> {
  for (let i = 0; i < sequences.length; i += 200) {
    const batch = sequences.slice(i, i + 200);
    const sql = batch
      .map(
        (s, j) =>
          `SELECT ${j} AS i, last_value::text AS last_value, is_called FROM ${qualified(s.schema, s.name)}`,
      )
      .join('\nUNION ALL\n');
    for (const r of await rows(client, sql)) {
      const s = batch[r.i as number]!;
      s.lastValue = r.last_value;
      s.isCalled = r.is_called;
    }
  }
}

/**
 * The tables and views the patterns take (-t/-T/-n/-N): a partitioned table brings its
 * partitions along, in and out. An include pattern that matches nothing is an error, as pg_dump
 * says "no matching tables/schemas were found"; an exclude pattern may match nothing.
 */
function pickByPatterns(
  filter: BackupSelection,
  tables: TableObj[],
  views: ViewObj[],
  schemas: { name: string }[],
  withPartitions: (t: TableObj) => TableObj[],
): Set<TableObj | ViewObj> {
  const included = new Set<TableObj>();
  const excluded = new Set<TableObj>();
  for (const t of tables) {
    const m = relationMatched(filter, t);
    if (m.included) for (const x of withPartitions(t)) included.add(x);
    if (m.excluded) for (const x of withPartitions(t)) excluded.add(x);
  }
  const picked = new Set<TableObj | ViewObj>();
  for (const t of tables) {
    const base = filter.tables.length > 0 ? included.has(t) : schemaContains(filter, t.schema);
    if (base && !excluded.has(t)) picked.add(t);
  }
  for (const v of views) if (relationTaken(filter, v)) picked.add(v);
  const matched = included.size > 0 || views.some((v) => relationMatched(filter, v).included);
  if (filter.tables.length > 0 && !matched) {
    throw new LifeboatError(
      'TABLE_NOT_FOUND',
      `No table matches ${filter.tables.map((p) => `"${p.text}"`).join(', ')} in the database`,
      { hint: 'unqualified patterns match in public; write schema.pattern for other schemas' },
    );
  }
  if (
    filter.schemas.length > 0 &&
    !schemas.some((n) => filter.schemas.some((p) => p.name.test(n.name)))
  ) {
    throw new LifeboatError(
      'CONFIG_INVALID',
      `No schema matches ${filter.schemas.map((p) => `"${p.text}"`).join(', ')} in the database`,
      {
        hint: hostHint(
          'postgres:schema-not-found',
          'check the include schema lines against the database',
        ),
      },
    );
  }
  return picked;
}

/** The objects `take` keeps; the keys of the others go to `removed`. */
function keepOr<T extends { key: ObjectKey }>(
  list: T[],
  take: (o: T) => boolean,
  removed: Set<ObjectKey>,
): T[] {
  return list.filter((o) => {
    if (take(o)) return true;
    removed.add(o.key);
    return false;
  });
}

/** The server's and extensions' changed privileges the selection takes (schema ones by name). */
function systemAclsTaken(filter: BackupSelection | undefined, acls: SystemAclObj[]) {
  if (!filter) return acls;
  return acls.filter((a) => {
    const schema = /^SCHEMA (?:"((?:[^"]|"")+)"|(\S+))$/.exec(a.target);
    if (schema) return schemaContains(filter, schema[1]?.replaceAll('""', '"') ?? schema[2]!);
    return placeTaken(filter, a.schema);
  });
}
