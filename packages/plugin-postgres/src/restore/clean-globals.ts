import { NOT_EXTENSION_MEMBER } from '../catalog/queries.js';
import type { PgClient } from '../connection.js';

/**
 * The objects outside any schema that pre-data creates (catalog/kinds): foreign data wrappers
 * (with their servers, user mappings and foreign tables), casts, transforms, procedural
 * languages and access methods made by a user, not by an extension. Each row is the kind's DROP
 * words and the object as DROP names it.
 */
const GLOBALS = `SELECT 'FOREIGN DATA WRAPPER' AS kind, pg_catalog.quote_ident(w.fdwname) AS name
FROM pg_catalog.pg_foreign_data_wrapper w WHERE w.oid >= 16384 AND ${NOT_EXTENSION_MEMBER('pg_foreign_data_wrapper', 'w.oid')}
UNION ALL
SELECT 'CAST', '(' || pg_catalog.format_type(c.castsource, NULL) || ' AS ' || pg_catalog.format_type(c.casttarget, NULL) || ')'
FROM pg_catalog.pg_cast c WHERE c.oid >= 16384 AND ${NOT_EXTENSION_MEMBER('pg_cast', 'c.oid')}
UNION ALL
SELECT 'TRANSFORM', 'FOR ' || pg_catalog.format_type(t.trftype, NULL) || ' LANGUAGE ' || pg_catalog.quote_ident(l.lanname)
FROM pg_catalog.pg_transform t JOIN pg_catalog.pg_language l ON l.oid = t.trflang
WHERE t.oid >= 16384 AND ${NOT_EXTENSION_MEMBER('pg_transform', 't.oid')}
UNION ALL
SELECT 'LANGUAGE', pg_catalog.quote_ident(l.lanname)
FROM pg_catalog.pg_language l WHERE l.lanispl AND l.oid >= 16384 AND ${NOT_EXTENSION_MEMBER('pg_language', 'l.oid')}
UNION ALL
SELECT 'ACCESS METHOD', pg_catalog.quote_ident(a.amname)
FROM pg_catalog.pg_am a WHERE a.oid >= 16384 AND ${NOT_EXTENSION_MEMBER('pg_am', 'a.oid')}`;

/**
 * `--clean`: drops those objects, after the schemas (what remains of them needs nothing in a
 * schema). One may go with another (a transform with its language): IF EXISTS.
 */
export async function dropGlobalObjects(client: PgClient): Promise<void> {
  const { rows } = await client.query(GLOBALS);
  for (const r of rows) await client.query(`DROP ${r.kind} IF EXISTS ${r.name} CASCADE`);
}
