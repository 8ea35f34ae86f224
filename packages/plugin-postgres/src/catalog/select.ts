import '../errors.js';
import { LifeboatError } from '@lifeboat/core';

export interface NamedTable {
  schema: string;
  name: string;
}

/** Splits `"my.schema"."t"`, `schema.table` or `table` into candidate (schema, table) readings. */
export function parseTableName(text: string): { schema: string | null; table: string }[] {
  const quoted = /^"((?:[^"]|"")+)"\s*\.\s*"((?:[^"]|"")+)"$/.exec(text);
  if (quoted)
    return [{ schema: quoted[1]!.replaceAll('""', '"'), table: quoted[2]!.replaceAll('""', '"') }];
  const single = /^"((?:[^"]|"")+)"$/.exec(text);
  if (single) return [{ schema: null, table: single[1]!.replaceAll('""', '"') }];
  // Names may hold dots: try every split, and the whole text as a table name.
  const readings: { schema: string | null; table: string }[] = [{ schema: null, table: text }];
  for (let i = text.indexOf('.'); i > 0; i = text.indexOf('.', i + 1)) {
    readings.push({ schema: text.slice(0, i), table: text.slice(i + 1) });
  }
  return readings;
}

/**
 * The tables a name means: `schema.table` exactly; `table` alone means `public.table`, or the
 * table of that name in any schema when public has none.
 */
export function matchTables<T extends NamedTable>(text: string, tables: readonly T[]): T[] {
  const found = new Set<T>();
  for (const reading of parseTableName(text.trim())) {
    if (reading.schema !== null) {
      for (const t of tables)
        if (t.schema === reading.schema && t.name === reading.table) found.add(t);
    } else {
      const inPublic = tables.filter((t) => t.schema === 'public' && t.name === reading.table);
      const any = inPublic.length > 0 ? inPublic : tables.filter((t) => t.name === reading.table);
      for (const t of any) found.add(t);
    }
  }
  return [...found];
}

/**
 * Applies include and exclude lists (`expand` adds what a table brings along, its partitions);
 * a name that matches no table is an error naming it.
 */
export function selectTables<T extends NamedTable>(
  tables: readonly T[],
  include: readonly string[] | undefined,
  exclude: readonly string[],
  where = 'the database',
  expand: (table: T) => T[] = (t) => [t],
): Set<T> {
  const missing: string[] = [];
  let selected: Set<T>;
  if (include && include.length > 0) {
    selected = new Set();
    for (const name of include) {
      const m = matchTables(name, tables);
      if (m.length === 0) missing.push(name);
      for (const t of m) for (const x of expand(t)) selected.add(x);
    }
  } else selected = new Set(tables);
  for (const name of exclude) {
    const m = matchTables(name, tables);
    if (m.length === 0) missing.push(name);
    for (const t of m) for (const x of expand(t)) selected.delete(x);
  }
  if (missing.length > 0) {
    throw new LifeboatError(
      'TABLE_NOT_FOUND',
      `${missing.length === 1 ? 'Table' : 'Tables'} ${missing.map((n) => `"${n}"`).join(', ')} not found in ${where}`,
      { details: { tables: missing } },
    );
  }
  return selected;
}
