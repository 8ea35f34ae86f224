import { encodeSegment, LifeboatError } from '@lifeboat/core';
import type { SelectionSummary } from './backup-filter.js';
import type { UnsupportedObj } from './catalog/model.js';

/** One table's data in the archive. `name` and `rows` are what the engine and CLI show. */
export interface TableSummary {
  name: string;
  schema: string;
  table: string;
  rows: number;
  bytes: number;
  /** Entry paths inside `database/`, in load order; every part starts with the header line. */
  parts: string[];
  /** Columns in the CSV, in order (generated columns are not stored). */
  columns: { name: string; type: string; collation?: string }[];
  /** For a partition: its partitioned root, `schema.table`. */
  partitionOf?: { schema: string; table: string };
  /** Copied by several workers, each a range of its heap pages (a big table). */
  ranges?: number;
  /**
   * A configuration table of this extension: created by CREATE EXTENSION with rows of its own,
   * these are the rows through the extension's filter, loaded beside them.
   */
  extension?: string;
  /**
   * Its rows were left out on purpose (exclude table_data, BACKUP_EXCLUDE_TABLE_DATA): the
   * table is created empty, `rows` is 0 and there are no parts.
   */
  rowsLeftOut?: true;
}

export interface SequenceSummary {
  schema: string;
  sequence: string;
  lastValue: string;
  isCalled: boolean;
  ownedBy?: { schema: string; table: string; column: string };
}

export interface CatalogCounts {
  relations: number;
  columns: number;
  constraints: number;
  indexes: number;
  triggers: number;
  policies: number;
  functions: number;
  types: number;
}

/** Large objects in the archive: a restore checks it got every one. */
export interface LargeObjectsSummary {
  count: number;
  bytes: number;
}

/**
 * The database's encoding and locale, as pg_dump --create writes them into CREATE DATABASE
 * (dumpDatabase): a database a restore creates gets the source's, so text sorts, compares and
 * case-folds as it did (and its indexes are built in that order), not as the target server's
 * template0 happens to.
 */
export interface DatabaseLocale {
  encoding: string;
  /** pg_database.datlocprovider: c (libc), i (ICU), b (builtin, PG 17). */
  provider: 'c' | 'i' | 'b';
  collate: string;
  ctype: string;
  /** ICU or builtin locale (daticulocale on 15–16, datlocale from 17). */
  locale: string | null;
  icuRules: string | null;
}

/** What the backup stores in manifest.json: no secret, no connection string. */
export interface PostgresSummary {
  format: 1;
  serverVersion: string;
  serverVersionNum: number;
  database: string;
  encoding: string;
  /** Encoding and locale for a database a restore creates (absent: an archive from before). */
  locale?: DatabaseLocale;
  snapshot?: string;
  partBytes: number;
  tables: TableSummary[];
  sequences: SequenceSummary[];
  catalog: CatalogCounts;
  unsupported: UnsupportedObj[];
  /** Large objects in `large-objects/` (absent: none, or an archive from before them). */
  largeObjects?: LargeObjectsSummary;
  /** Planner statistics in `statistics.json` (absent: an archive from before them). */
  statistics?: StatisticsSummary;
  /** Roles in `globals.sql` (BACKUP_GLOBALS); absent: none were backed up. */
  globals?: GlobalsSummary;
  /**
   * Tablespaces the objects lie in (the scripts select them as pg_restore does); absent: all
   * in the database's default, or an archive from before.
   */
  tablespaces?: string[];
  /** The database's default tablespace when not pg_default (CREATE DATABASE … TABLESPACE). */
  databaseTablespace?: string;
  /** What the backup was told to take (filter file, BACKUP_SCHEMAS…); absent: everything. */
  selection?: SelectionSummary;
}

/** Planner statistics in the archive (statistics.ts); the public types stay free of pg. */
export interface StatisticsSummary {
  relations: number;
  columns: number;
}

export interface GlobalsSummary {
  scope: 'roles' | 'all-roles';
  roles: number;
  memberships: number;
  /** Whether password hashes are in (only in an encrypted archive). */
  passwords: boolean;
}

export const PRE_DATA = 'pre-data.sql';
export const POST_DATA = 'post-data.sql';
export const RESTORE_PSQL = 'restore.psql';
/** The roles (BACKUP_GLOBALS), before pre-data in the archive: a restore creates them first. */
export const GLOBALS = 'globals.sql';

/** `data/<schema>.<table>.csv`, then `.0002.csv`…: encoded names cannot escape `database/`. */
export function partPath(schema: string, table: string, index: number): string {
  const base = `data/${encodeSegment(schema)}.${encodeSegment(table)}`;
  return index === 1 ? `${base}.csv` : `${base}.${String(index).padStart(4, '0')}.csv`;
}

export function parseSummary(summary: Record<string, unknown>): PostgresSummary {
  const s = summary as Partial<PostgresSummary>;
  if (s.format !== 1 || !Array.isArray(s.tables)) {
    throw new LifeboatError(
      'MANIFEST_INVALID',
      'The database section of the manifest is not a Lifeboat postgres summary',
    );
  }
  return { sequences: [], unsupported: [], ...s } as PostgresSummary;
}
