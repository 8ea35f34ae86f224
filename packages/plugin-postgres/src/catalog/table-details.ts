import { qualified, quoteIdent } from '../connection.js';
import type { ColumnObj, IndexObj, RuleObj, TableObj, TriggerObj, ViewObj } from './model.js';

/**
 * What pg_dump writes about a table besides its columns (dumpTableSchema): access method,
 * storage parameters of the table and its TOAST table, replica identity, and per column
 * STORAGE, COMPRESSION, STATISTICS and attribute options; enable states of rules and of the
 * triggers partitions inherit.
 */

const STORAGE: Record<string, string> = { p: 'PLAIN', e: 'EXTERNAL', m: 'MAIN', x: 'EXTENDED' };
const COMPRESSION: Record<string, string> = { p: 'pglz', l: 'lz4' };
export const ENABLE_STATE: Record<string, string> = {
  O: 'ENABLE',
  D: 'DISABLE',
  R: 'ENABLE REPLICA',
  A: 'ENABLE ALWAYS',
};

/** ` USING am` for a table or materialized view whose access method is not the default heap. */
export const usingClause = (rel: { accessMethod: string | null }): string =>
  rel.accessMethod && rel.accessMethod !== 'heap' ? ` USING ${quoteIdent(rel.accessMethod)}` : '';

/** ` WITH (…)`: the relation's storage parameters and its TOAST table's, prefixed `toast.`. */
export function withClause(
  reloptions: string[] | null,
  toastOptions: string[] | null = null,
): string {
  const all = [...(reloptions ?? []), ...(toastOptions ?? []).map((o) => `toast.${o}`)];
  return all.length > 0 ? ` WITH (${all.join(', ')})` : '';
}

/**
 * ALTER statements that follow a table's CREATE: replica identity (FULL, NOTHING; USING INDEX
 * comes with the indexes), then per column what CREATE TABLE cannot say. `parentColumn` finds
 * the column an inherited one comes from (a child takes its parent's storage and compression,
 * a partition its default too), so only what differs is written.
 */
export function tableAlters(
  t: TableObj,
  parentColumn: (c: ColumnObj) => ColumnObj | undefined,
  partition: boolean,
): string {
  const name = qualified(t.schema, t.name);
  const out: string[] = [];
  if (t.replicaIdentity === 'f') out.push(`ALTER TABLE ONLY ${name} REPLICA IDENTITY FULL;\n`);
  if (t.replicaIdentity === 'n') out.push(`ALTER TABLE ONLY ${name} REPLICA IDENTITY NOTHING;\n`);
  for (const c of t.columns) {
    const alter = `ALTER TABLE ONLY ${name} ALTER COLUMN ${quoteIdent(c.name)}`;
    const parent = c.inherited ? parentColumn(c) : undefined;
    if (partition && parent) {
      // PARTITION OF takes the parent's columns: what the partition set on its own follows.
      if (c.default !== parent.default && c.generated === '' && c.identity === '') {
        out.push(
          c.default === null ? `${alter} DROP DEFAULT;\n` : `${alter} SET DEFAULT ${c.default};\n`,
        );
      }
      if (c.notNull && !parent.notNull) out.push(`${alter} SET NOT NULL;\n`);
    }
    if (c.statistics !== null) out.push(`${alter} SET STATISTICS ${c.statistics};\n`);
    if (c.storage !== (parent?.storage ?? c.typeStorage) && STORAGE[c.storage])
      out.push(`${alter} SET STORAGE ${STORAGE[c.storage]};\n`);
    const compression = COMPRESSION[c.compression] ?? 'default';
    if (c.compression !== (parent?.compression ?? ''))
      out.push(`${alter} SET COMPRESSION ${compression};\n`);
    if (c.options && c.options.length > 0) out.push(`${alter} SET (${c.options.join(', ')});\n`);
  }
  return out.join('');
}

/** A view's column defaults (for INSERTs through it); CREATE VIEW cannot carry them. */
export function viewAlters(v: ViewObj): string {
  if (v.kind !== 'v') return '';
  return v.columns
    .filter((c) => c.default !== null)
    .map(
      (c) =>
        `ALTER TABLE ONLY ${qualified(v.schema, v.name)} ALTER COLUMN ${quoteIdent(c.name)} SET DEFAULT ${c.default};\n`,
    )
    .join('');
}

/** After the indexes: REPLICA IDENTITY USING INDEX and per-column statistics of indexes. */
export function indexAlters(i: IndexObj, table: { schema: string; name: string }): string {
  const out: string[] = [];
  if (i.replicaIdentity) {
    out.push(
      `ALTER TABLE ONLY ${qualified(table.schema, table.name)} REPLICA IDENTITY USING INDEX ${quoteIdent(i.name)};\n`,
    );
  }
  for (const [column, target] of i.statistics) {
    out.push(
      `ALTER INDEX ${qualified(table.schema, i.name)} ALTER COLUMN ${column} SET STATISTICS ${target};\n`,
    );
  }
  return out.join('');
}

/** A rule's enable state, when it is not the default. */
export function ruleState(r: RuleObj, table: string): string {
  const state = r.enabled === 'O' ? undefined : ENABLE_STATE[r.enabled];
  return state ? `ALTER TABLE ${table} ${state} RULE ${quoteIdent(r.name)};\n` : '';
}

/**
 * A trigger's enable state: for its own trigger when not the default, for one a partition
 * inherited when it differs from the parent's (the partition gets the parent's state).
 */
export function triggerState(t: TriggerObj, table: string, parent?: TriggerObj): string {
  const base = parent?.enabled ?? 'O';
  const state = t.enabled === base ? undefined : ENABLE_STATE[t.enabled];
  return state ? `ALTER TABLE ${table} ${state} TRIGGER ${quoteIdent(t.name)};\n` : '';
}
