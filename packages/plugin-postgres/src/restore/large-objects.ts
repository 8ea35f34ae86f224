import { type ArchiveEntry, LifeboatError, type Warn } from '@lifeboat/core';
import type { PgClient } from '../connection.js';
import { toPgLifeboatError } from '../errors.js';
import { LARGE_OBJECT_CHUNK, LARGE_OBJECTS_SQL, largeObjectOid } from '../large-objects.js';
import type { PostgresSummary } from '../summary.js';
import { chosenScript, type RestoreChoices } from './choices.js';
import { runScript, withScriptWarnings } from './load.js';

/**
 * Creates one large object under its own OID and writes its bytes as they stream in, at most
 * LARGE_OBJECT_CHUNK (plus one incoming chunk) held at a time.
 */
export async function loadLargeObject(
  client: PgClient,
  oid: string,
  stream: AsyncIterable<Buffer>,
): Promise<number> {
  try {
    await client.query('SELECT pg_catalog.lo_create($1::pg_catalog.oid)', [oid]);
    let at = 0;
    let pending: Buffer[] = [];
    let size = 0;
    const put = async () => {
      const data = Buffer.concat(pending, size);
      pending = [];
      size = 0;
      await client.query('SELECT pg_catalog.lo_put($1::pg_catalog.oid, $2::int8, $3::bytea)', [
        oid,
        at,
        data,
      ]);
      at += data.length;
    };
    for await (const chunk of stream) {
      pending.push(chunk);
      size += chunk.length;
      if (size >= LARGE_OBJECT_CHUNK) await put();
    }
    if (size > 0) await put();
    return at;
  } catch (error) {
    throw toPgLifeboatError(error, `loading large object ${oid}`, 'RESTORE_FAILED');
  }
}

/**
 * The large objects of a full restore: each `large-objects/<oid>.bin` entry, then
 * `large-objects.sql` (owners, comments, grants, after the restore-time choices). A schema
 * filter leaves them out, as pg_restore --schema leaves out what lies in no schema, and so does
 * --schema-only.
 */
export function largeObjectRestore(
  summary: PostgresSummary,
  choices: RestoreChoices | undefined,
  warn: Warn,
) {
  // pg_restore counts large objects (and their owners, grants, comments) as data: --schema-only
  // leaves them out, --data-only restores them.
  const wanted = !choices || (choices.schemas.length === 0 && !choices.schemaOnly);
  let loaded = 0;
  let scriptSeen = false;
  return {
    /** Whether the entry is one of theirs; it is then consumed on `client` (when wanted). */
    isTheirs: (entry: ArchiveEntry) =>
      entry.relativePath === LARGE_OBJECTS_SQL || largeObjectOid(entry.relativePath) !== undefined,
    async take(entry: ArchiveEntry, client: PgClient): Promise<void> {
      const oid = largeObjectOid(entry.relativePath);
      if (oid !== undefined) {
        loaded++;
        if (wanted) await loadLargeObject(client, oid, entry.stream);
        return;
      }
      scriptSeen = true;
      if (!wanted) return;
      const sql = await chosenScript(entry, choices, summary);
      await withScriptWarnings(client, warn, () => runScript(client, sql, LARGE_OBJECTS_SQL));
    },
    /** Every large object arrived, and the script with them (a cut archive is no restore). */
    check() {
      const expected = summary.largeObjects?.count ?? 0;
      if (loaded !== expected || (expected > 0 && !scriptSeen)) {
        throw new LifeboatError(
          'ENTRY_MISSING',
          `The archive lacks large objects: ${loaded} of ${expected} arrived${expected > 0 && !scriptSeen ? `, and no database/${LARGE_OBJECTS_SQL}` : ''}`,
        );
      }
    },
  };
}
