/** What the backup reads from the catalog; rendered into pre-data.sql and post-data.sql. */

/** `c:<oid>` relation, `t:<oid>` type, `p:<oid>` function: keys used for dependency ordering. */
export type ObjectKey = string;

export interface SchemaObj {
  oid: number;
  name: string;
  comment: string | null;
}

export interface ExtensionObj {
  name: string;
  schema: string;
  version: string;
  hasConfigTables: boolean;
}

export interface ColumnObj {
  num: number;
  name: string;
  type: string;
  notNull: boolean;
  /** PG 18 names NOT NULL constraints; kept so the restore gives them the same name. */
  notNullName: string | null;
  /** '' none, 'a' always, 'd' by default. */
  identity: string;
  /** '' none, 's' stored, 'v' virtual (PG 18). */
  generated: string;
  isLocal: boolean;
  /** Inherited from a parent (a local column may be both). */
  inherited: boolean;
  /** attstorage and the type's typstorage: p plain, e external, m main, x extended. */
  storage: string;
  typeStorage: string;
  /** '' the server's default, 'p' pglz, 'l' lz4. */
  compression: string;
  /** SET STATISTICS target, null when the server picks it. */
  statistics: number | null;
  /** attoptions: `n_distinct=10` and the like. */
  options: string[] | null;
  default: string | null;
  collation: string | null;
  comment: string | null;
}

export interface TypeObj {
  key: ObjectKey;
  oid: number;
  schema: string;
  name: string;
  /** e enum, d domain, c composite (base and range types are GenericObj, kinds/types.ts). */
  kind: 'e' | 'd' | 'c';
  labels: string[];
  baseType: string | null;
  notNull: boolean;
  default: string | null;
  collation: string | null;
  attributes: { name: string; type: string; collation: string | null; comment: string | null }[];
  constraints: { name: string; def: string; comment: string | null }[];
  comment: string | null;
}

export interface FunctionObj {
  key: ObjectKey;
  oid: number;
  schema: string;
  name: string;
  kind: string;
  identityArgs: string;
  def: string;
  comment: string | null;
}

export interface SequenceObj {
  key: ObjectKey;
  oid: number;
  schema: string;
  name: string;
  dataType: string;
  start: string;
  increment: string;
  min: string;
  max: string;
  cache: string;
  cycle: boolean;
  unlogged: boolean;
  /** Identity sequences are created by their column. */
  identityOf: { tableOid: number; column: string } | null;
  ownedBy: { tableOid: number; column: string } | null;
  lastValue: string;
  isCalled: boolean;
  /** Matched by an exclude table_data pattern: no setval, as pg_dump --exclude-table-data. */
  valueLeftOut?: boolean;
  comment: string | null;
}

export interface TableObj {
  key: ObjectKey;
  oid: number;
  schema: string;
  name: string;
  /** r table, p partitioned table. */
  kind: 'r' | 'p';
  unlogged: boolean;
  partitionKey: string | null;
  /** Set for partitions: `FOR VALUES …` / `DEFAULT`. */
  partitionBound: string | null;
  parents: number[];
  reloptions: string[] | null;
  /** Of the TOAST table, written as `toast.` options. */
  toastOptions: string[] | null;
  /** Table access method (null for partitioned tables on servers that do not keep one). */
  accessMethod: string | null;
  /** A typed table's type (`CREATE TABLE … OF type`). */
  ofType: string | null;
  /** d default, n nothing, f full, i index (set on the index). */
  replicaIdentity: string;
  rowSecurity: boolean;
  forceRowSecurity: boolean;
  /** The tablespace it lies in; null: the database's default (pg_class.reltablespace 0). */
  tablespace: string | null;
  sizeBytes: number;
  columns: ColumnObj[];
  comment: string | null;
}

export interface ViewObj {
  key: ObjectKey;
  oid: number;
  schema: string;
  name: string;
  kind: 'v' | 'm';
  def: string;
  reloptions: string[] | null;
  accessMethod: string | null;
  populated: boolean;
  /** A materialized view's tablespace; null: the database's default. */
  tablespace: string | null;
  /** Reads itself (`CREATE OR REPLACE VIEW v AS SELECT … FROM v`). */
  selfReferencing: boolean;
  columns: ColumnObj[];
  comment: string | null;
}

export interface ConstraintObj {
  oid: number;
  name: string;
  type: string;
  tableOid: number;
  refTableOid: number;
  def: string;
  isLocal: boolean;
  parentOid: number;
  comment: string | null;
}

export interface IndexObj {
  oid: number;
  tableOid: number;
  name: string;
  /** The name as the server quotes it inside `def`. */
  quotedName: string;
  def: string;
  isPartition: boolean;
  /** A partition's index: the partitioned index it is attached to (0: none). */
  parentOid?: number;
  backsConstraint: boolean;
  clustered: boolean;
  /** The tablespace it lies in; null: the database's default. */
  tablespace: string | null;
  /** The table's REPLICA IDENTITY USING INDEX. */
  replicaIdentity: boolean;
  /** `[column number, target]` of the index columns with their own statistics target. */
  statistics: [number, number][];
  comment: string | null;
}

export interface TriggerObj {
  oid: number;
  tableOid: number;
  name: string;
  def: string;
  enabled: string;
  parentOid: number;
  comment: string | null;
}

export interface PolicyObj {
  tableOid: number;
  name: string;
  permissive: boolean;
  command: string;
  roles: string[] | null;
  using: string | null;
  withCheck: string | null;
  comment: string | null;
}

export interface RuleObj {
  tableOid: number;
  name: string;
  def: string;
  /** O origin (default), D disabled, R replica, A always. */
  enabled: string;
  comment: string | null;
}

export interface StatisticsObj {
  oid: number;
  tableOid: number;
  schema: string;
  name: string;
  def: string;
  /** ALTER STATISTICS … SET STATISTICS; null: the server's default. */
  target: number | null;
  owner: string;
  comment: string | null;
}

export interface EventTriggerObj {
  name: string;
  event: string;
  tags: string[] | null;
  /** Schema-qualified, as regproc prints it with an empty search path. */
  function: string;
  /** O origin (default), D disabled, R replica, A always. */
  enabled: string;
  owner: string;
  comment: string | null;
}

export interface PublicationObj {
  name: string;
  allTables: boolean;
  /** The `publish` option: insert, update, delete, truncate. */
  publish: string[];
  viaRoot: boolean;
  /** PG 18's publish_generated_columns: 'n' none, 's' stored; null before 18. */
  generatedColumns: string | null;
  tables: { tableOid: number; columns: string[] | null; where: string | null }[];
  schemas: string[];
  owner: string;
  comment: string | null;
}

export interface SubscriptionObj {
  name: string;
  conninfo: string;
  publications: string[];
  slotName: string | null;
  /** `WITH` options besides connect and slot_name, as `name = value`. */
  options: string[];
  owner: string;
  comment: string | null;
}

/** One ALTER DEFAULT PRIVILEGES entry: a role's (in one schema, or everywhere) for one kind. */
export interface DefaultPrivilegeObj {
  role: string;
  schema: string | null;
  /** r tables, S sequences, f functions, T types, n schemas, L large objects. */
  type: string;
  granted: AclItem[];
  /** The built-in defaults a role-wide entry replaces; null for a schema's entry. */
  defaults: AclItem[] | null;
}

export interface AclItem {
  grantee: string | null;
  privilege: string;
  grantable: boolean;
}

/**
 * An object of a kind written by one DDL text built from the catalog (see catalog/kinds/):
 * aggregates, operators, collations, text search objects, foreign data wrappers…
 */
export interface GenericObj {
  key: ObjectKey;
  /** What it is, as the script's comment line and warnings name it: `collation`, `operator`… */
  kind: string;
  oid: number;
  /** Its schema; null for objects outside any (casts, languages, servers). */
  schema: string | null;
  /** Tie-breaker among objects free to go: pg_dump_sort.c's order of object types. */
  rank: number;
  sortName: string;
  /** CREATE (and ALTER … ADD) statements, with the comment. */
  ddl: string;
  /** Objects it must follow beyond pg_depend's normal dependencies. */
  needs: ObjectKey[];
  /**
   * A shell created first (`CREATE TYPE t;`) for a type and its functions that refer to each
   * other; dependencies of `shellFor` on this object go to the shell instead.
   */
  shell: { ddl: string; for: ObjectKey[] } | null;
}

export interface UnsupportedObj {
  kind: string;
  name: string;
  reason: string;
  /** Its key when other objects can depend on it (see left-out.ts). */
  key?: ObjectKey | null;
}

/** One privilege of one grantee (null: PUBLIC) on a schema, relation, column or function. */
export interface PrivilegeObj {
  kind: 'schema' | 'type' | 'relation' | 'column' | 'function' | 'object';
  /** The object's key (see OwnerObj). */
  key?: ObjectKey;
  /**
   * As GRANT names it: `TABLE "s"."t"`, `SEQUENCE …`, `SCHEMA …`, `FUNCTION "s"."f"(integer)`,
   * `FOREIGN SERVER s`, `LANGUAGE l`…
   */
  target: string;
  column: string | null;
  /** Null when the object has no privilege left at all (an empty ACL). */
  privilege: string | null;
  grantable: boolean;
  grantee: string | null;
  /** Granted to the object's owner: implicit for whoever owns it after a restore. */
  toOwner: boolean;
}

/** Who owns an object, and how ALTER … OWNER TO names it. */
export interface OwnerObj {
  /** The object's key (`n:<oid>` for a schema): its owner is given right after its CREATE. */
  key: ObjectKey;
  target: string;
  owner: string;
}

/**
 * Privileges changed on an object the database did not create itself: one of the server's own
 * (in pg_catalog or information_schema, the public schema, plpgsql) or an extension's. A restore
 * does not create them, so their privileges are not given from scratch: the target's are brought
 * to the source's, as pg_dump does by comparing with pg_init_privs.
 */
export interface SystemAclObj {
  /** As GRANT names it: `FUNCTION pg_catalog.pg_sleep(double precision)`, `SCHEMA public`… */
  target: string;
  /** A column of a relation, or null. */
  column: string | null;
  /** The object's schema (null for schemas and languages): restore filters by it. */
  schema: string | null;
  /** The ACL the object must end with, as text (role names). */
  acl: string;
  /** An expression that reads the object's ACL on the target server (NULL if it has none). */
  current: string;
}

export interface Catalog {
  serverVersion: string;
  serverVersionNum: number;
  database: string;
  encoding: string;
  extensions: ExtensionObj[];
  schemas: SchemaObj[];
  types: TypeObj[];
  functions: FunctionObj[];
  sequences: SequenceObj[];
  tables: TableObj[];
  views: ViewObj[];
  /** Everything else pre-data creates (see GenericObj). */
  objects: GenericObj[];
  constraints: ConstraintObj[];
  indexes: IndexObj[];
  triggers: TriggerObj[];
  policies: PolicyObj[];
  rules: RuleObj[];
  statistics: StatisticsObj[];
  eventTriggers: EventTriggerObj[];
  publications: PublicationObj[];
  subscriptions: SubscriptionObj[];
  defaultPrivileges: DefaultPrivilegeObj[];
  privileges: PrivilegeObj[];
  /** Privileges changed on the server's or an extension's objects (see system-acls.ts). */
  systemAcls?: SystemAclObj[];
  owners: OwnerObj[];
  /** `[dependent, referenced]`: the referenced object must exist first. */
  dependencies: [ObjectKey, ObjectKey][];
  unsupported: UnsupportedObj[];
  /** Owners of the functions each index, constraint and materialized view runs (code-owners.ts). */
  codeOwners?: Map<string, string[]>;
}
