import { LifeboatError } from '@lifeboat/core';
import type { TableObj } from './catalog/model.js';
import { type PgClient, qualified } from './connection.js';
import { pgCode, toPgLifeboatError } from './errors.js';

const LOCK_BATCH = 500;

/**
 * Keeps DDL away from the tables while they are copied (ACCESS SHARE, as pg_dump takes), then
 * proves the snapshot sees each table as it is: TRUNCATE and rewriting ALTER TABLE, CLUSTER or
 * VACUUM FULL are not MVCC-safe, so one that committed after the snapshot was taken and before
 * the lock makes the snapshot see the new, empty file. The snapshot's pg_class row (its file
 * node) is compared with the current one (the syscache, fresh once the lock is held); every
 * table must be locked by its OID (a table renamed meanwhile is not the one a name locked).
 */
export async function lockTables(client: PgClient, tables: readonly TableObj[]): Promise<void> {
  for (let i = 0; i < tables.length; i += LOCK_BATCH) {
    const batch = tables.slice(i, i + LOCK_BATCH);
    try {
      await client.query(
        `LOCK TABLE ${batch.map((t) => qualified(t.schema, t.name)).join(', ')} IN ACCESS SHARE MODE`,
      );
    } catch (error) {
      // Dropped or renamed since the snapshot: the catalog read no longer describes it.
      if (pgCode(error) === '42P01') throw changedError(batch, error);
      throw toPgLifeboatError(error, 'locking the tables');
    }
  }
  if (tables.length === 0) return;
  const { rows } = await client.query(
    `SELECT c.oid::int8 AS oid, c.relfilenode::int8 AS seen,
       pg_catalog.pg_relation_filenode(c.oid)::int8 AS now,
       EXISTS (SELECT FROM pg_catalog.pg_locks l WHERE l.locktype = 'relation'
         AND l.pid = pg_catalog.pg_backend_pid() AND l.relation = c.oid AND l.granted
         AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())) AS locked
     FROM pg_catalog.pg_class c WHERE c.oid = ANY($1::pg_catalog.oid[])`,
    [tables.map((t) => t.oid)],
  );
  const byOid = new Map(tables.map((t) => [t.oid, t]));
  const changed = rows
    .filter((r) => !r.locked || (r.seen !== '0' && r.seen !== r.now))
    .map((r) => byOid.get(Number(r.oid))!);
  if (changed.length > 0) throw changedError(changed);
}

function changedError(tables: readonly TableObj[], cause?: unknown): LifeboatError {
  const names = tables.map((t) => `${t.schema}.${t.name}`);
  const shown = names.length > 5 ? `${names.slice(0, 5).join(', ')}…` : names.join(', ');
  return new LifeboatError(
    'DATABASE_FAILED',
    `Table ${shown} was truncated, rewritten, renamed or dropped while the backup began: its snapshot would see it empty or not at all`,
    {
      retryable: true,
      hint: 'Run the backup again (TRUNCATE, ALTER TABLE … TYPE, CLUSTER or VACUUM FULL committed just as it started).',
      details: { tables: names },
      ...(cause ? { cause } : {}),
    },
  );
}

/**
 * Row-level security would hand a backup only the rows its policies let the role see (the
 * session sets row_security off, so the server would refuse the COPY; this says so before any
 * table is copied, naming every such table and what the role needs).
 */
export async function refuseRowSecurity(
  client: PgClient,
  tables: readonly TableObj[],
): Promise<void> {
  const secured = tables.filter((t) => t.rowSecurity);
  if (secured.length === 0) return;
  const { rows } = await client.query(
    `SELECT c.oid::int8 AS oid, CURRENT_USER AS role FROM pg_catalog.pg_class c
     WHERE c.oid = ANY($1::pg_catalog.oid[]) AND pg_catalog.row_security_active(c.oid)`,
    [secured.map((t) => t.oid)],
  );
  if (rows.length === 0) return;
  const filtered = rows.map((r) => secured.find((t) => t.oid === Number(r.oid))!);
  const names = filtered.map((t) => `${t.schema}.${t.name}`);
  const forced = filtered.filter((t) => t.forceRowSecurity).map((t) => `${t.schema}.${t.name}`);
  throw new LifeboatError(
    'PERMISSION_DENIED',
    `Row-level security policies would hide rows of ${names.join(', ')} from role ${rows[0].role}: the backup would miss them, so it stops`,
    {
      hint: `Back up as a superuser, as a role with BYPASSRLS (ALTER ROLE … BYPASSRLS), or as the tables' owner${forced.length > 0 ? ` (${forced.join(', ')} FORCE ROW LEVEL SECURITY, which applies to the owner too: only BYPASSRLS or a superuser)` : ''}.`,
      details: { tables: names },
    },
  );
}
