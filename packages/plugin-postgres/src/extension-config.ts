import type { ColumnObj, TableObj } from './catalog/model.js';
import { type PgClient, qualified, quoteLiteral } from './connection.js';

/**
 * Extension configuration tables (pg_extension_config_dump): CREATE EXTENSION makes them, with
 * whatever rows the extension's script puts in; the rows users added are data to keep. As
 * pg_dump's processExtensionTables: each table's rows are copied through its filter
 * (extcondition, `WHERE NOT standard_entry` and the like, or none) and loaded after the
 * extension is created, as rows of that table.
 */
export interface ExtensionConfigTable {
  extension: string;
  table: TableObj;
  /** The extension's filter, as it gave it: '' or a `WHERE …` clause. */
  where: string;
}

const CONFIG_TABLES = `SELECT e.extname AS extension, c.oid::int8 AS oid, n.nspname AS schema,
  c.relname AS name, COALESCE(e.extcondition[x.n], '') AS condition,
  pg_catalog.pg_table_size(c.oid) AS size_bytes,
  (SELECT pg_catalog.json_agg(pg_catalog.json_build_object('num', a.attnum, 'name', a.attname,
     'type', pg_catalog.format_type(a.atttypid, a.atttypmod), 'generated', a.attgenerated::text)
     ORDER BY a.attnum)
   FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns
FROM pg_catalog.pg_extension e
  CROSS JOIN LATERAL pg_catalog.unnest(e.extconfig) WITH ORDINALITY AS x(oid, n)
  JOIN pg_catalog.pg_class c ON c.oid = x.oid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r'
ORDER BY e.extname, n.nspname, c.relname`;

/** The configuration tables of every extension, as tables to copy (with their filter). */
export async function extensionConfigTables(client: PgClient): Promise<ExtensionConfigTable[]> {
  const { rows } = await client.query(CONFIG_TABLES);
  return rows.map((r) => ({
    extension: r.extension as string,
    where: r.condition as string,
    table: {
      key: `c:${r.oid}`,
      oid: Number(r.oid),
      schema: r.schema,
      name: r.name,
      kind: 'r',
      unlogged: false,
      partitionKey: null,
      partitionBound: null,
      parents: [],
      reloptions: null,
      toastOptions: null,
      accessMethod: null,
      ofType: null,
      replicaIdentity: 'd',
      rowSecurity: false,
      forceRowSecurity: false,
      tablespace: null,
      sizeBytes: Number(r.size_bytes),
      // Only what a COPY needs of a column: its name, type and whether it is generated.
      columns: ((r.columns ?? []) as Pick<ColumnObj, 'num' | 'name' | 'type' | 'generated'>[]).map(
        (c) => ({ ...c }) as ColumnObj,
      ),
      comment: null,
    },
  }));
}

const CONFIG_SEQUENCES = `SELECT n.nspname AS schema, c.relname AS name
FROM pg_catalog.pg_extension e
  CROSS JOIN LATERAL pg_catalog.unnest(e.extconfig) AS x(oid)
  JOIN pg_catalog.pg_class c ON c.oid = x.oid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'S'
ORDER BY n.nspname, c.relname`;

/**
 * The values of sequences an extension marked as configuration, as pg_dump keeps them
 * (dumpSequenceData): setval statements for the end of post-data, read in the snapshot.
 */
export async function extensionSequenceValues(client: PgClient): Promise<string> {
  const { rows } = await client.query(CONFIG_SEQUENCES);
  const out: string[] = [];
  for (const r of rows) {
    const name = qualified(r.schema, r.name);
    const { rows: value } = await client.query(
      `SELECT last_value::text AS last_value, is_called FROM ${name}`,
    );
    out.push(
      `SELECT pg_catalog.setval(${quoteLiteral(name)}, ${value[0].last_value}, ${value[0].is_called});\n`,
    );
  }
  return out.length > 0 ? `\n-- Sequences of extension configuration\n${out.join('')}` : '';
}
