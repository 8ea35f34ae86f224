import { type PgClient, quoteIdent } from '../connection.js';
import type { UnsupportedObj } from './model.js';
import { NOT_EXTENSION_MEMBER } from './queries.js';

/**
 * The catalogs of one database whose objects Lifeboat reads (PostgreSQL 15 to 18). A newer
 * server may hold objects in catalogs not listed here (a kind Lifeboat has never seen): those
 * fail the backup instead of vanishing from it.
 */
export const KNOWN_CATALOGS: ReadonlySet<string> = new Set([
  'pg_am',
  'pg_amop',
  'pg_amproc',
  'pg_attrdef',
  'pg_cast',
  'pg_class',
  'pg_collation',
  'pg_constraint',
  'pg_conversion',
  'pg_default_acl',
  'pg_enum',
  'pg_event_trigger',
  'pg_extension',
  'pg_foreign_data_wrapper',
  'pg_foreign_server',
  'pg_language',
  'pg_largeobject_metadata',
  'pg_namespace',
  'pg_opclass',
  'pg_operator',
  'pg_opfamily',
  'pg_policy',
  'pg_proc',
  'pg_publication',
  'pg_publication_namespace',
  'pg_publication_rel',
  'pg_rewrite',
  'pg_statistic_ext',
  'pg_transform',
  'pg_trigger',
  'pg_ts_config',
  'pg_ts_dict',
  'pg_ts_parser',
  'pg_ts_template',
  'pg_type',
  'pg_user_mapping',
]);

/** Per-database catalogs with an oid column (objects users can create). */
const OBJECT_CATALOGS = `SELECT c.relname FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = 'oid' AND NOT a.attisdropped
WHERE c.relnamespace = 'pg_catalog'::pg_catalog.regnamespace AND c.relkind = 'r' AND NOT c.relisshared
ORDER BY 1`;

/**
 * User objects (not an extension's) in catalogs outside `known`: each named as the server
 * describes it, keyed `<catalog>:<oid>` so what depends on it can be found.
 */
export async function findUnknownKinds(
  client: PgClient,
  known: ReadonlySet<string> = KNOWN_CATALOGS,
): Promise<UnsupportedObj[]> {
  const catalogs = (await client.query(OBJECT_CATALOGS)).rows
    .map((r) => r.relname as string)
    .filter((name) => !known.has(name) && /^pg_[a-z_]+$/.test(name));
  if (catalogs.length === 0) return [];
  // A name column if the catalog has one (`…name` of type name): the server may not know how to
  // describe a catalog an extension or a patched server added.
  const nameColumns = new Map<string, string>(
    (
      await client.query(
        `SELECT DISTINCT ON (c.relname) c.relname, a.attname FROM pg_catalog.pg_class c
           JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.atttypid = 'pg_catalog.name'::pg_catalog.regtype
         WHERE c.relnamespace = 'pg_catalog'::pg_catalog.regnamespace AND c.relname = ANY ($1::pg_catalog.name[])
           AND a.attname ~ 'name$' AND NOT a.attisdropped ORDER BY c.relname, a.attnum`,
        [catalogs],
      )
    ).rows.map((r) => [r.relname as string, r.attname as string]),
  );
  const sql = catalogs
    .map(
      (name) => `SELECT '${name}' AS catalog,
  ${nameColumns.has(name) ? `o.${quoteIdent(nameColumns.get(name)!)}::text || ' (oid ' || o.oid || ')'` : `'oid ' || o.oid`} AS name,
  '${name}:' || o.oid AS key
FROM pg_catalog.${name} o WHERE o.oid >= 16384 AND ${NOT_EXTENSION_MEMBER(name, 'o.oid')}`,
    )
    .join('\nUNION ALL\n');
  return (await client.query(`${sql}\nORDER BY 1, 2`)).rows.map((r) => ({
    kind: 'object',
    name: r.name as string,
    reason: `a kind of object (${r.catalog}) this version of Lifeboat does not back up`,
    key: r.key as string,
  }));
}
