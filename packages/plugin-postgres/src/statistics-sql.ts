import { SCRIPT_WARNING } from './catalog/access.js';
import { qualified, quoteLiteral } from './connection.js';
import { type ArchivedStatistics, type RelationStats, STAT_ARGUMENTS } from './statistics.js';

/** PostgreSQL 18 has pg_restore_relation_stats / pg_restore_attribute_stats. */
export const IMPORTS_STATISTICS = 180000;

/** One step of putting statistics back: a table (with its indexes) imported, or analysed. */
export interface StatisticsJob {
  /** `schema.table`, for warnings. */
  name: string;
  /** The table, quoted (`"schema"."table"`), as post-data's markers name it. */
  relation: string;
  kind: 'import' | 'analyze';
  /**
   * Needs more than its table's rows and indexes: extended statistics (created in post-data's
   * rest), a partitioned table (sampled through its partitions) or a materialized view (filled by
   * post-data's refresh). A restore runs it once everything else is in.
   */
  last?: true;
  sql: string;
  /** Heap pages at the source: the biggest go first, so no connection is left with the longest. */
  pages: number;
}

/** A table or materialized view with its indexes. */
export interface StatisticsGroup {
  relation: RelationStats;
  indexes: RelationStats[];
}

export function groupStatistics(stats: ArchivedStatistics): StatisticsGroup[] {
  const groups = new Map<string, StatisticsGroup>();
  const key = (schema: string, name: string) => `${schema}\u0000${name}`;
  for (const r of stats.relations) {
    if (r.table === undefined) groups.set(key(r.schema, r.name), { relation: r, indexes: [] });
  }
  for (const r of stats.relations) {
    if (r.table !== undefined) groups.get(key(r.schema, r.table))?.indexes.push(r);
  }
  return [...groups.values()];
}

const arg = (name: string, value: string, type: string) =>
  `${quoteLiteral(name)}, ${quoteLiteral(value)}::${type}`;

/** pg_dump 18's form: variadic name/value pairs, 'version' first, the relation by name. */
function relationCalls(r: RelationStats, version: number): string[] {
  const head = [
    arg('version', String(version), 'integer'),
    arg('schemaname', r.schema, 'text'),
    arg('relname', r.name, 'text'),
  ];
  const relation = [
    ...head,
    arg('relpages', String(r.relpages), 'integer'),
    arg('reltuples', r.reltuples, 'real'),
    arg('relallvisible', String(r.relallvisible), 'integer'),
    ...(r.relallfrozen !== undefined
      ? [arg('relallfrozen', String(r.relallfrozen), 'integer')]
      : []),
  ];
  const calls = [`PERFORM pg_catalog.pg_restore_relation_stats(${relation.join(', ')});`];
  const isIndex = r.table !== undefined;
  for (const c of r.columns) {
    const column = [
      ...head,
      // An index's columns are named by the server as it likes (expr, expr1…): by number.
      isIndex ? arg('attnum', String(c.attnum), 'smallint') : arg('attname', c.attname, 'text'),
      arg('inherited', c.inherited ? 't' : 'f', 'boolean'),
      ...STAT_ARGUMENTS.filter(([name]) => c.values[name] !== undefined).map(([name, type]) =>
        arg(name, c.values[name]!, type),
      ),
    ];
    calls.push(`PERFORM pg_catalog.pg_restore_attribute_stats(${column.join(', ')});`);
  }
  return calls;
}

/**
 * Each table is its own block: a statistic the server refuses (a relation that is not there, a
 * restoring role without the MAINTAIN privilege) is a warning, never a failed restore.
 */
function guarded(name: string, body: string, declare = ''): string {
  const failed = `${SCRIPT_WARNING}STATISTICS_NOT_RESTORED: planner statistics of ${name}: `;
  return `DO ${quoteLiteral(`${declare}BEGIN\n${body}\nEXCEPTION WHEN OTHERS THEN RAISE WARNING '%', ${quoteLiteral(failed)} || SQLERRM;\nEND`)};\n`;
}

/**
 * ANALYZE computes extended statistics' expressions as the table's owner (security-restricted,
 * checked on 15). Where that owner could not be set (--no-owner, a role missing here) the table
 * is the restoring user's, and functions of the source's roles would run as it: then ANALYZE is
 * not run unless those roles may act as the restoring user anyway (as post-data's step guard).
 */
function ownerGuard(relation: string, owner: string, codeOwners: string[], name: string): string {
  const skipped = `${SCRIPT_WARNING}STATISTICS_NOT_RESTORED: ANALYZE of ${name} not run: its extended statistics call functions of `;
  return `SELECT pg_catalog.pg_get_userbyid(c.relowner) INTO runner FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass(${quoteLiteral(relation)});
SELECT pg_catalog.string_agg(r, ', ') INTO untrusted FROM pg_catalog.unnest(ARRAY[${codeOwners.map(quoteLiteral).join(', ')}]::text[]) AS r
  WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles o WHERE o.rolname = r AND pg_catalog.pg_has_role(o.oid, current_user, 'USAGE'));
IF runner IS DISTINCT FROM ${quoteLiteral(owner)} AND untrusted IS NOT NULL THEN
  RAISE WARNING '%', ${quoteLiteral(skipped)} || untrusted || ' and it is owned by ' || COALESCE(runner, current_user) || ', not ' || ${quoteLiteral(owner)} || ' (its owner could not be set), so they would run as ' || current_user || ${quoteLiteral(`; run ANALYZE ${relation} as ${owner} once that role exists here`)};
  RETURN;
END IF;`;
}

export const analyzeJob = (
  schema: string,
  table: string,
  pages = 0,
  guard?: { owner: string; codeOwners: string[] },
): StatisticsJob => {
  const name = `${schema}.${table}`;
  const relation = qualified(schema, table);
  const analyze = `EXECUTE ${quoteLiteral(`ANALYZE ${relation}`)};`;
  if (!guard || guard.codeOwners.length === 0)
    return { name, relation, kind: 'analyze', pages, sql: guarded(name, analyze) };
  const body = `${ownerGuard(relation, guard.owner, guard.codeOwners, name)}\n${analyze}`;
  return {
    name,
    relation,
    kind: 'analyze',
    pages,
    sql: guarded(name, body, 'DECLARE runner text; untrusted text;\n'),
  };
};

/**
 * What a target of `targetVersion` runs for one table: on 18+ the import of its statistics and
 * its indexes'; ANALYZE before 18, and for a table with extended statistics (no server imports
 * them). A partitioned table is analysed only when the source had statistics for it (ANALYZE on
 * it samples every partition again; autovacuum never analyses one).
 */
export function statisticsJob(
  group: StatisticsGroup,
  version: number,
  targetVersion: number,
): StatisticsJob | undefined {
  const r = group.relation;
  const name = `${r.schema}.${r.name}`;
  const last = r.extended || r.kind !== 'r' ? { last: true as const } : {};
  if (targetVersion >= IMPORTS_STATISTICS && !r.extended) {
    const calls = [r, ...group.indexes].flatMap((x) => relationCalls(x, version));
    const sql = guarded(name, calls.join('\n'));
    const relation = qualified(r.schema, r.name);
    return { name, relation, kind: 'import', pages: r.relpages, sql, ...last };
  }
  const hadStatistics = r.reltuples !== '-1' || r.columns.length > 0;
  if (r.kind === 'p' && !hadStatistics) return undefined;
  const job = analyzeJob(
    r.schema,
    r.name,
    r.relpages,
    r.owner && r.codeOwners ? { owner: r.owner, codeOwners: r.codeOwners } : undefined,
  );
  return { ...job, ...last };
}

/** `statistics.sql`: what restore.psql runs after post-data (imports on 18+, else ANALYZE). */
export function renderStatisticsPsql(stats: ArchivedStatistics): string {
  const groups = groupStatistics(stats);
  const jobs = (target: number) =>
    groups.flatMap((g) => statisticsJob(g, stats.version, target)?.sql ?? []).join('');
  return [
    `-- Lifeboat: planner statistics of PostgreSQL ${stats.version}'s tables, for restore.psql.`,
    '-- PostgreSQL 18+ imports them (as pg_dump --statistics); older servers run ANALYZE.',
    `SELECT pg_catalog.current_setting('server_version_num')::int >= ${IMPORTS_STATISTICS} AS lifeboat_import_statistics \\gset`,
    '\\if :lifeboat_import_statistics',
    jobs(IMPORTS_STATISTICS),
    '\\else',
    jobs(0),
    '\\endif',
    '',
  ].join('\n');
}
