import { describe, expect, it } from 'vitest';
import { resolveArchiveTables } from '../src/restore/partial.js';
import type { PostgresSummary, TableSummary } from '../src/summary.js';

const table = (schema: string, name: string, partitionOf?: { schema: string; table: string }) =>
  ({
    name: `${schema}.${name}`,
    schema,
    table: name,
    rows: 0,
    parts: [],
    ...(partitionOf ? { partitionOf } : {}),
  }) as unknown as TableSummary;

const summary = {
  format: 1,
  tables: [
    table('public', 'users'),
    table('public', 'user_roles'),
    table('public', 'Users_Audit'),
    table('public', 'orders'),
    table('app', 'items'),
    table('app', 'item_tags'),
    table('app', 'events_2024', { schema: 'app', table: 'events' }),
    table('app', 'events_2025', { schema: 'app', table: 'events' }),
  ],
} as unknown as PostgresSummary;

const names = (patterns: string[]) =>
  resolveArchiveTables(summary, patterns)
    .map((t) => `${t.schema}.${t.table}`)
    .sort();

describe('restore --tables patterns, as pg_dump -t reads them', () => {
  it("'user*' matches in public, folded to lower case; quotes keep case", () => {
    expect(names(['user*'])).toEqual(['public.user_roles', 'public.users']);
    expect(names(['"Users"*'])).toEqual(['public.Users_Audit']);
  });

  it("'app.*' is every table of a schema; a partitioned parent brings its partitions", () => {
    expect(names(['app.*'])).toEqual([
      'app.events_2024',
      'app.events_2025',
      'app.item_tags',
      'app.items',
    ]);
    expect(names(['app.event?'])).toEqual(['app.events_2024', 'app.events_2025']);
  });

  it('exact names and patterns together; an exact name stays exact', () => {
    expect(names(['orders', 'app.item*'])).toEqual(['app.item_tags', 'app.items', 'public.orders']);
    expect(names(['users'])).toEqual(['public.users']);
  });

  it('a pattern that matches nothing is TABLE_NOT_FOUND naming it, never every table', () => {
    expect(() => names(['nothing*'])).toThrow(
      expect.objectContaining({
        code: 'TABLE_NOT_FOUND',
        message: expect.stringContaining('nothing*'),
      }),
    );
  });
});
