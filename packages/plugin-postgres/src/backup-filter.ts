import { hostHint, LifeboatError } from '@lifeboat/core';
import { type FilterRule, parseFilterFile } from './filter-file.js';
import { type NamePattern, parseNamePattern, schemaMatches, tableMatches } from './name-pattern.js';

/**
 * What a backup takes, chosen as pg_dump chooses (pg_dump.c, selectDumpable*): `tables` is -t,
 * `excludeTables` -T, `schemas` -n, `excludeSchemas` -N, `excludeTableData`
 * --exclude-table-data. The patterns come from a filter file in pg_dump's --filter syntax and
 * from the comma lists (BACKUP_SCHEMAS…).
 */
export interface BackupSelection {
  tables: NamePattern[];
  excludeTables: NamePattern[];
  schemas: NamePattern[];
  excludeSchemas: NamePattern[];
  excludeTableData: NamePattern[];
  /** What the manifest records (SelectionSummary). */
  record: SelectionSummary;
}

/** The selection as the archive records it: restore, verify, list and health describe it. */
export interface SelectionSummary {
  /** The filter file's name, when one was given. */
  filter?: string;
  /** Each rule as a filter line reads it: `include schema app`, `exclude table_data public.log`. */
  rules: string[];
}

export interface SelectionOptions {
  tables?: readonly string[] | undefined;
  excludeTables?: readonly string[] | undefined;
  schemas?: readonly string[] | undefined;
  excludeSchemas?: readonly string[] | undefined;
  excludeTableData?: readonly string[] | undefined;
  filter?: { text: string; name: string } | undefined;
}

/**
 * The pattern selection of these options, or undefined when there is none (BACKUP_TABLES and
 * BACKUP_EXCLUDE_TABLES, exact names, are recorded but choose on their own: catalog/select.ts).
 * A bad filter line or pattern is CONFIG_INVALID, every bad line at once.
 */
export function backupSelection(o: SelectionOptions): BackupSelection | undefined {
  const rules: FilterRule[] = o.filter ? parseFilterFile(o.filter.text, o.filter.name) : [];
  const from = (object: FilterRule['object'], action: FilterRule['action']) =>
    rules.filter((r) => r.object === object && r.action === action).map((r) => r.pattern);
  const lists = {
    tables: from('table', 'include'),
    excludeTables: from('table', 'exclude'),
    schemas: [...(o.schemas ?? []), ...from('schema', 'include')],
    excludeSchemas: [...(o.excludeSchemas ?? []), ...from('schema', 'exclude')],
    excludeTableData: [...(o.excludeTableData ?? []), ...from('table_data', 'exclude')],
  };
  if (Object.values(lists).every((l) => l.length === 0)) return undefined;
  if (o.tables?.length && (lists.tables.length > 0 || lists.schemas.length > 0)) {
    const tables = hostHint('postgres:tables', 'tables');
    throw new LifeboatError(
      'CONFIG_INVALID',
      `${tables} cannot go with include lines (include table, include schema, ${hostHint('postgres:schemas', 'schemas')})`,
      { hint: `choose tables one way: ${tables} names, or the filter file` },
    );
  }
  const problems: string[] = [];
  const parse = (list: string[], maxParts: number) =>
    list.flatMap((p) => {
      try {
        return [parseNamePattern(p, maxParts)];
      } catch (error) {
        problems.push((error as Error).message);
        return [];
      }
    });
  const selection: BackupSelection = {
    tables: parse(lists.tables, 2),
    excludeTables: parse(lists.excludeTables, 2),
    schemas: parse(lists.schemas, 1),
    excludeSchemas: parse(lists.excludeSchemas, 1),
    excludeTableData: parse(lists.excludeTableData, 2),
    record: {
      ...(o.filter ? { filter: o.filter.name } : {}),
      // The lists first, then the file's lines in its order.
      rules: [
        ...(namesRecord(o)?.rules ?? []),
        ...(o.schemas ?? []).map((p) => `include schema ${p}`),
        ...(o.excludeSchemas ?? []).map((p) => `exclude schema ${p}`),
        ...(o.excludeTableData ?? []).map((p) => `exclude table_data ${p}`),
        ...rules.map((r) => `${r.action} ${r.object} ${r.pattern}`),
      ],
    },
  };
  if (problems.length > 0) {
    throw new LifeboatError('CONFIG_INVALID', `Invalid backup selection: ${problems.join('; ')}`, {
      hint: 'a schema pattern is one name; a table pattern is name or schema.name',
    });
  }
  return selection;
}

/** The record of BACKUP_TABLES / BACKUP_EXCLUDE_TABLES alone (no pattern selection). */
export function namesRecord(o: SelectionOptions): SelectionSummary | undefined {
  const rules = [
    ...(o.tables ?? []).map((t) => `include table ${t}`),
    ...(o.excludeTables ?? []).map((t) => `exclude table ${t}`),
  ];
  return rules.length > 0 ? { rules } : undefined;
}

/**
 * pg_dump's include_everything: false once -n or -t is given. Then objects outside any schema
 * (extensions, event triggers, publications, subscriptions, casts, languages, large objects)
 * are left out, as pg_dump leaves them out.
 */
export const includesOnly = (s: BackupSelection) => s.tables.length > 0 || s.schemas.length > 0;

/**
 * Whether the objects in a schema are taken (a namespace's dump_contains): with -t none are
 * (only the tables named); with -n those of the schemas named; -N takes a schema away.
 */
export function schemaContains(s: BackupSelection, schema: string): boolean {
  if (s.tables.length > 0) return false;
  if (s.schemas.length > 0 && !schemaMatches(schema, s.schemas)) return false;
  return !schemaMatches(schema, s.excludeSchemas);
}

/** An object outside any schema (null) or in one: whether the selection takes it. */
export const placeTaken = (s: BackupSelection, schema: string | null) =>
  schema === null ? !includesOnly(s) : schemaContains(s, schema);

/**
 * Whether a relation (table, view, materialized view, sequence) is taken: with -t when a
 * pattern matches it, else when its schema's objects are; -T takes it away (selectDumpableTable).
 */
export function relationTaken(
  s: BackupSelection,
  r: { schema: string; name: string },
  matched = relationMatched(s, r),
): boolean {
  if (s.tables.length > 0 ? !matched.included : !schemaContains(s, r.schema)) return false;
  return !matched.excluded;
}

export const relationMatched = (s: BackupSelection, r: { schema: string; name: string }) => ({
  included: tableMatches({ schema: r.schema, table: r.name }, s.tables),
  excluded: tableMatches({ schema: r.schema, table: r.name }, s.excludeTables),
});

/** Whether a table's rows are left out (--exclude-table-data): its definition stays. */
export const rowsLeftOut = (s: BackupSelection | undefined, t: { schema: string; name: string }) =>
  s !== undefined && tableMatches({ schema: t.schema, table: t.name }, s.excludeTableData);
