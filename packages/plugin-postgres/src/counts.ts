import { NOT_EXTENSION_MEMBER, NOT_INTERNAL, USER_NAMESPACE } from './catalog/queries.js';
import type { PgClient } from './connection.js';
import type { CatalogCounts } from './summary.js';

/**
 * Counts of catalog objects, compared by `verify --deep` between the backup and the restored
 * scratch database. `relations` limits the count to those relations (a table selection);
 * `null` counts every user relation.
 */
export async function catalogCounts(
  client: PgClient,
  relations: number[] | null,
): Promise<CatalogCounts> {
  const sql = `WITH rels AS (
    SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') AND ${USER_NAMESPACE('n')}
      AND ${NOT_EXTENSION_MEMBER('pg_class', 'c.oid')}
      AND ($1::pg_catalog.oid[] IS NULL OR c.oid = ANY($1::pg_catalog.oid[])))
  SELECT
    (SELECT pg_catalog.count(*) FROM rels) AS relations,
    (SELECT pg_catalog.count(*) FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
       WHERE a.attrelid IN (SELECT oid FROM rels) AND c.relkind <> 'S' AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
    (SELECT pg_catalog.count(*) FROM pg_catalog.pg_constraint co
       WHERE co.conrelid IN (SELECT oid FROM rels) AND co.contype IN ('p', 'u', 'x', 'c', 'f')
         -- A foreign key to a table left out of the backup is left out too.
         AND (co.contype <> 'f' OR co.confrelid IN (SELECT oid FROM rels))) AS constraints,
    (SELECT pg_catalog.count(*) FROM pg_catalog.pg_index i WHERE i.indrelid IN (SELECT oid FROM rels)) AS indexes,
    (SELECT pg_catalog.count(*) FROM pg_catalog.pg_trigger t
       WHERE t.tgrelid IN (SELECT oid FROM rels) AND NOT t.tgisinternal) AS triggers,
    (SELECT pg_catalog.count(*) FROM pg_catalog.pg_policy p WHERE p.polrelid IN (SELECT oid FROM rels)) AS policies`;
  const { rows } = await client.query(sql, [relations]);
  const r = rows[0] as Record<string, string>;
  return {
    relations: Number(r.relations),
    columns: Number(r.columns),
    constraints: Number(r.constraints),
    indexes: Number(r.indexes),
    triggers: Number(r.triggers),
    policies: Number(r.policies),
    functions: 0,
    types: 0,
  };
}

/** Functions and types as the backup counts them (aggregates and base types excluded). */
export async function countFunctionsAndTypes(
  client: PgClient,
): Promise<{ functions: number; types: number }> {
  const { rows } = await client.query(`SELECT
    (SELECT pg_catalog.count(*) FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
       WHERE p.prokind <> 'a' AND ${USER_NAMESPACE('n')} AND ${NOT_EXTENSION_MEMBER('pg_proc', 'p.oid')}
         AND ${NOT_INTERNAL('pg_proc', 'p.oid')}) AS functions,
    (SELECT pg_catalog.count(*) FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
       WHERE ${USER_NAMESPACE('n')} AND ${NOT_EXTENSION_MEMBER('pg_type', 't.oid')}
         AND (t.typtype IN ('e', 'd', 'r')
           OR (t.typtype = 'c' AND (SELECT rc.relkind FROM pg_catalog.pg_class rc WHERE rc.oid = t.typrelid) = 'c'))) AS types`);
  const r = rows[0] as Record<string, string>;
  return { functions: Number(r.functions), types: Number(r.types) };
}
