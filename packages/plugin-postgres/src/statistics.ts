import type { Catalog } from './catalog/model.js';
import type { PgClient } from './connection.js';
import type { StatisticsSummary } from './summary.js';

/**
 * Planner statistics as the source had them (pg_dump 18 --statistics keeps the same): relation
 * stats from pg_class and column stats from pg_stats, for the backed-up tables, materialized
 * views and their indexes (an index has column stats only for its expressions). Read in the
 * backup's snapshot; a restore puts them back with pg_restore_relation_stats /
 * pg_restore_attribute_stats on PostgreSQL 18+, or runs ANALYZE on older servers.
 */
export const STATISTICS = 'statistics.json';
/** The same for psql: restore.psql runs it (imports on 18+, ANALYZE before). */
export const STATISTICS_SQL = 'statistics.sql';

/** One column's pg_stats row; values as the server printed them (text), null when absent. */
export interface ColumnStats {
  attname: string;
  /** The column's number: indexes are matched by it (their column names are not stable). */
  attnum: number;
  inherited: boolean;
  values: Record<string, string>;
}

export interface RelationStats {
  schema: string;
  name: string;
  /** r table, p partitioned table, m materialized view, i / I index. */
  kind: string;
  /** For an index: its table's name (same schema). */
  table?: string;
  relpages: number;
  /** pg_class.reltuples as text (a float4; -1 means never analysed, 14+). */
  reltuples: string;
  relallvisible: number;
  /** PostgreSQL 18+ sources. */
  relallfrozen?: number;
  /** A table with extended statistics (CREATE STATISTICS): no server imports those, ANALYZE does. */
  extended?: boolean;
  /** The relation's owner on the source. */
  owner?: string;
  /**
   * Owners of the user functions its extended statistics' expressions call (directly or through
   * an operator): ANALYZE runs them, as the table's owner (see statistics-sql.ts's guard).
   */
  codeOwners?: string[];
  columns: ColumnStats[];
}

export interface ArchivedStatistics {
  format: 1;
  /** The source's server_version_num: the `version` argument of the import functions. */
  version: number;
  relations: RelationStats[];
}

/** pg_stats columns the import functions take, with their types (pg_dump's list). */
export const STAT_ARGUMENTS: [name: string, type: string, since: number][] = [
  ['null_frac', 'real', 0],
  ['avg_width', 'integer', 0],
  ['n_distinct', 'real', 0],
  ['most_common_vals', 'text', 0],
  ['most_common_freqs', 'real[]', 0],
  ['histogram_bounds', 'text', 0],
  ['correlation', 'real', 0],
  ['most_common_elems', 'text', 0],
  ['most_common_elem_freqs', 'real[]', 0],
  ['elem_count_histogram', 'real[]', 0],
  ['range_length_histogram', 'text', 170000],
  ['range_empty_frac', 'real', 170000],
  ['range_bounds_histogram', 'text', 170000],
];

const relationsQuery = (
  version: number,
) => `SELECT c.oid::int8 AS oid, n.nspname AS schema, c.relname AS name, c.relkind AS kind,
  t.relname AS table_name, c.relpages, c.reltuples::text AS reltuples, c.relallvisible,
  ${version >= 180000 ? 'c.relallfrozen' : 'NULL'} AS relallfrozen,
  EXISTS (SELECT FROM pg_catalog.pg_statistic_ext e WHERE e.stxrelid = c.oid) AS extended,
  pg_catalog.pg_get_userbyid(c.relowner) AS owner,
  (SELECT pg_catalog.array_agg(DISTINCT pg_catalog.pg_get_userbyid(p.proowner)::text)
     FROM pg_catalog.pg_statistic_ext e
     JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_statistic_ext'::pg_catalog.regclass AND d.objid = e.oid
     LEFT JOIN pg_catalog.pg_operator o ON d.refclassid = 'pg_catalog.pg_operator'::pg_catalog.regclass AND o.oid = d.refobjid
     JOIN pg_catalog.pg_proc p ON p.oid = CASE WHEN d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass THEN d.refobjid ELSE o.oprcode END
     WHERE e.stxrelid = c.oid AND p.pronamespace <> 'pg_catalog'::pg_catalog.regnamespace) AS code_owners
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid
LEFT JOIN pg_catalog.pg_class t ON t.oid = i.indrelid
WHERE c.oid = ANY($1::oid[]) OR i.indrelid = ANY($1::oid[])
ORDER BY n.nspname, COALESCE(t.relname, c.relname), c.relkind IN ('i', 'I'), c.relname`;

const columnsQuery = (
  version: number,
) => `SELECT s.schemaname AS schema, s.tablename AS name, s.attname, a.attnum, s.inherited,
  ${STAT_ARGUMENTS.map(([arg, , since]) => (version >= since ? `s.${arg}::text AS ${arg}` : `NULL::text AS ${arg}`)).join(', ')}
FROM pg_catalog.pg_stats s
JOIN pg_catalog.pg_namespace n ON n.nspname = s.schemaname
JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = s.tablename
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = s.attname
WHERE c.oid = ANY($1::oid[])
ORDER BY s.schemaname, s.tablename, a.attnum, s.inherited`;

/** Reads the statistics of the catalog's tables and populated materialized views, in one snapshot. */
export async function captureStatistics(
  client: PgClient,
  catalog: Catalog,
): Promise<ArchivedStatistics> {
  const version = catalog.serverVersionNum;
  const oids = [
    ...catalog.tables.map((t) => t.oid),
    ...catalog.views.filter((v) => v.kind === 'm' && v.populated).map((v) => v.oid),
  ];
  const relations: RelationStats[] = [];
  if (oids.length === 0) return { format: 1, version, relations };
  const { rows } = await client.query(relationsQuery(version), [oids]);
  const byName = new Map<string, RelationStats>();
  const allOids: number[] = [];
  for (const r of rows) {
    const rel: RelationStats = {
      schema: r.schema,
      name: r.name,
      kind: r.kind,
      ...(r.table_name !== null ? { table: r.table_name } : {}),
      relpages: Number(r.relpages),
      reltuples: r.reltuples,
      relallvisible: Number(r.relallvisible),
      ...(r.relallfrozen !== null ? { relallfrozen: Number(r.relallfrozen) } : {}),
      ...(r.extended ? { extended: true } : {}),
      owner: r.owner,
      ...(r.code_owners?.length ? { codeOwners: r.code_owners } : {}),
      columns: [],
    };
    relations.push(rel);
    byName.set(`${rel.schema}\u0000${rel.name}`, rel);
    allOids.push(Number(r.oid));
  }
  const columns = await client.query(columnsQuery(version), [allOids]);
  for (const r of columns.rows) {
    const rel = byName.get(`${r.schema}\u0000${r.name}`);
    if (!rel) continue;
    const values: Record<string, string> = {};
    for (const [arg] of STAT_ARGUMENTS) if (r[arg] !== null) values[arg] = r[arg];
    rel.columns.push({
      attname: r.attname,
      attnum: Number(r.attnum),
      inherited: r.inherited,
      values,
    });
  }
  return { format: 1, version, relations };
}

export const summarizeStatistics = (s: ArchivedStatistics): StatisticsSummary => ({
  relations: s.relations.length,
  columns: s.relations.reduce((n, r) => n + r.columns.length, 0),
});
