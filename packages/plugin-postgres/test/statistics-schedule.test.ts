import { describe, expect, it } from 'vitest';
import { statisticsSchedule } from '../src/restore/statistics.js';
import { analyzeJob, type StatisticsJob } from '../src/statistics-sql.js';
import type { PostgresSummary, TableSummary } from '../src/summary.js';

const table = (name: string, extra: Partial<TableSummary> = {}): TableSummary => ({
  name: `public.${name}`,
  schema: 'public',
  table: name,
  rows: 10,
  bytes: 100,
  parts: [`data/public.${name}.csv`],
  columns: [{ name: 'id', type: 'integer' }],
  ...extra,
});

const summary = (tables: TableSummary[]) => ({ tables }) as unknown as PostgresSummary;
const names = (jobs: Iterable<StatisticsJob>) => [...jobs].map((j) => j.name).sort();
const plain = { preData: 'CREATE TABLE public.a (id int);', postDataRest: 'CREATE TRIGGER t …;' };

describe('which planner statistics run as soon as their table is in', () => {
  const tables = [
    table('a'),
    table('b'),
    table('p1', { partitionOf: { schema: 'public', table: 'p' } }),
    table('empty', { parts: [] }),
  ];
  const jobs = [
    analyzeJob('public', 'a'),
    { ...analyzeJob('public', 'b'), last: true as const },
    analyzeJob('public', 'p1'),
    analyzeJob('public', 'empty'),
    // A materialized view: no table of the summary.
    analyzeJob('public', 'mv'),
  ];

  it('a loaded table early, by its quoted name; extended statistics, partitions, tables without parts and others last', () => {
    const { early, late } = statisticsSchedule(jobs, summary(tables), plain);
    expect([...early.keys()]).toEqual(['"public"."a"']);
    expect(names(late)).toEqual(['public.b', 'public.empty', 'public.mv', 'public.p1']);
  });

  it('everything last when pre-data has inheritance (ANALYZE of a parent samples its children)', () => {
    const { early, late } = statisticsSchedule(jobs, summary(tables), {
      ...plain,
      preData: 'CREATE TABLE public.a (id int);\nCREATE TABLE public.c () INHERITS (public.a);',
    });
    expect(early.size).toBe(0);
    expect(late).toHaveLength(jobs.length);
  });

  it("everything last when post-data's rest sets an index's statistics target", () => {
    const { early, late } = statisticsSchedule(jobs, summary(tables), {
      ...plain,
      postDataRest: 'ALTER INDEX public.a_lower ALTER COLUMN 1 SET STATISTICS 500;',
    });
    expect(early.size).toBe(0);
    expect(late).toHaveLength(jobs.length);
  });
});
