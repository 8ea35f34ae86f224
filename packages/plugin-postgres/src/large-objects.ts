import { Readable } from 'node:stream';
import type { BackupContext } from '@lifeboat/core';
import { OWNER_HELPER, OWNER_REPORT, ownerStatement, renderPrivileges } from './catalog/access.js';
import type { PrivilegeObj } from './catalog/model.js';
import { type PgClient, quoteLiteral } from './connection.js';
import type { LargeObjectsSummary } from './summary.js';

/**
 * Large objects, as pg_dump keeps them: each one's bytes in `large-objects/<oid>.bin` (read and
 * written in chunks of LARGE_OBJECT_CHUNK bytes, never whole in memory), and their owners,
 * comments and privileges in `large-objects.sql`, run once every object holds its bytes.
 */
export const LARGE_OBJECT_CHUNK = 256 * 1024;
export const LARGE_OBJECTS_SQL = 'large-objects.sql';
const LARGE_OBJECT_PATH = /^large-objects\/([0-9]+)\.bin$/;

export const largeObjectPath = (oid: string) => `large-objects/${oid}.bin`;

/** The OID of a large object's entry, or undefined for any other entry. */
export function largeObjectOid(path: string): string | undefined {
  return LARGE_OBJECT_PATH.exec(path)?.[1];
}

interface LargeObjectRow {
  oid: string;
  size: string;
  owner: string;
  comment: string | null;
  has_acl: boolean;
  privileges: Omit<PrivilegeObj, 'kind' | 'target' | 'column'>[] | null;
}

/**
 * Every large object with its size (the end of the object, read through a descriptor opened for
 * reading: no byte is read), owner, comment and ACL, as of the backup's snapshot.
 */
const LARGE_OBJECTS = `SELECT m.oid::text AS oid,
  pg_catalog.lo_lseek64(f.fd, 0, 2)::text AS size, pg_catalog.lo_close(f.fd) AS closed,
  pg_catalog.pg_get_userbyid(m.lomowner) AS owner,
  pg_catalog.obj_description(m.oid, 'pg_largeobject') AS comment,
  m.lomacl IS NOT NULL AS has_acl,
  (SELECT pg_catalog.json_agg(pg_catalog.json_build_object('privilege', e.privilege_type,
     'grantable', e.is_grantable,
     'grantee', CASE WHEN e.grantee = 0 THEN NULL ELSE pg_catalog.pg_get_userbyid(e.grantee) END,
     'toOwner', e.grantee = m.lomowner)
     ORDER BY e.grantee <> 0, pg_catalog.pg_get_userbyid(e.grantee), e.privilege_type)
   FROM pg_catalog.aclexplode(m.lomacl) e) AS privileges
FROM pg_catalog.pg_largeobject_metadata m,
  LATERAL (SELECT pg_catalog.lo_open(m.oid, 262144) AS fd OFFSET 0) f
ORDER BY m.oid`;

/** One large object's bytes, LARGE_OBJECT_CHUNK at a time, checked against its size. */
async function* chunksOf(client: PgClient, oid: string, size: number): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < size; offset += LARGE_OBJECT_CHUNK) {
    const length = Math.min(LARGE_OBJECT_CHUNK, size - offset);
    const { rows } = await client.query(
      'SELECT pg_catalog.lo_get($1::pg_catalog.oid, $2::int8, $3::int4) AS data',
      [oid, offset, length],
    );
    const data = rows[0].data as Buffer;
    if (data.length !== length)
      throw new Error(`large object ${oid} gave ${data.length} bytes at ${offset}, not ${length}`);
    yield data;
  }
}

/** The statements that give large objects their owner, comment and privileges. */
export function renderLargeObjectsSql(rows: LargeObjectRow[]): string {
  const out = [
    '-- Lifeboat: owners, comments and privileges of large objects (their bytes are in large-objects/).\n',
    OWNER_HELPER,
  ];
  for (const r of rows) {
    const target = `LARGE OBJECT ${r.oid}`;
    out.push(ownerStatement({ key: `lo:${r.oid}`, target, owner: r.owner }));
    if (r.comment !== null) out.push(`COMMENT ON ${target} IS ${quoteLiteral(r.comment)};\n`);
    if (!r.has_acl) continue;
    const base = { kind: 'object' as const, target, column: null };
    const privileges: PrivilegeObj[] =
      r.privileges && r.privileges.length > 0
        ? r.privileges.map((p) => ({ ...base, ...p }))
        : // An ACL with nothing left in it: every privilege was taken.
          [{ ...base, privilege: null, grantable: false, grantee: null, toOwner: false }];
    out.push(...renderPrivileges(privileges));
  }
  out.push(OWNER_REPORT);
  return out.join('');
}

/**
 * Writes every large object through `ctx.emit`, one entry each (also an empty one), then
 * `large-objects.sql`. Runs on the snapshot's connection once the tables are copied.
 */
export async function backupLargeObjects(
  ctx: BackupContext,
  client: PgClient,
): Promise<{ summary: LargeObjectsSummary; oids: string[] }> {
  const { rows } = await client.query<LargeObjectRow>(LARGE_OBJECTS);
  let bytes = 0;
  for (const r of rows) {
    const size = Number(r.size);
    await ctx.emit({
      path: largeObjectPath(r.oid),
      type: 'file',
      size,
      body: () => Readable.from(chunksOf(client, r.oid, size)),
    });
    bytes += size;
  }
  if (rows.length > 0) {
    await ctx.emit({
      path: LARGE_OBJECTS_SQL,
      type: 'file',
      body: Buffer.from(renderLargeObjectsSql(rows)),
    });
  }
  return { summary: { count: rows.length, bytes }, oids: rows.map((r) => r.oid) };
}

/** Copies one large object into another, a chunk at a time, then unlinks the first. */
const MOVE_HELPER = `CREATE OR REPLACE FUNCTION pg_temp.lifeboat_lo_move(source pg_catalog.oid, target pg_catalog.oid) RETURNS void
LANGUAGE plpgsql AS $lifeboat$
DECLARE at int8 := 0; piece bytea;
BEGIN
  LOOP
    piece := pg_catalog.lo_get(source, at, ${LARGE_OBJECT_CHUNK});
    EXIT WHEN pg_catalog.length(piece) = 0;
    PERFORM pg_catalog.lo_put(target, at, piece);
    at := at + pg_catalog.length(piece);
  END LOOP;
  PERFORM pg_catalog.lo_unlink(source);
END
$lifeboat$;`;

/**
 * restore.psql's lines for large objects (`folder`: the section's folder, as psql sees it). psql
 * cannot choose the OID `\lo_import` gives, so every object is first created empty under its own
 * OID (no import can take one of them then), each file imported under a new OID and copied over
 * chunk by chunk on the server; owners, comments and grants follow.
 */
export function largeObjectPsqlLines(oids: string[], folder: string): string[] {
  if (oids.length === 0) return [];
  const lines = [`-- ${oids.length} large object(s)`, MOVE_HELPER];
  for (let i = 0; i < oids.length; i += 1000) {
    const batch = oids.slice(i, i + 1000).join(',');
    lines.push(
      `SELECT pg_catalog.count(pg_catalog.lo_create(o)) AS large_objects FROM pg_catalog.unnest('{${batch}}'::pg_catalog.oid[]) o;`,
    );
  }
  for (const oid of oids) {
    lines.push(
      `\\lo_import '${folder}/${largeObjectPath(oid)}'`,
      `SELECT pg_temp.lifeboat_lo_move(:LASTOID, ${oid});`,
    );
  }
  lines.push(`\\i ${folder}/${LARGE_OBJECTS_SQL}`);
  return lines;
}

/** A backup of chosen tables leaves large objects out (as pg_dump -t does), and says so. */
export async function largeObjectsNotSelected(ctx: BackupContext, client: PgClient): Promise<void> {
  const { rows } = await client.query(
    'SELECT pg_catalog.count(*)::int AS n FROM pg_catalog.pg_largeobject_metadata',
  );
  const n = Number(rows[0].n);
  if (n === 0) return;
  const u = {
    kind: 'large objects',
    name: `${n} large object(s)`,
    reason:
      'a backup of chosen tables or schemas leaves large objects out, as pg_dump -t and -n do',
  };
  ctx.warn('POSTGRES_NOT_SELECTED', `Not backed up: ${u.kind} ${u.name} (${u.reason})`, u);
}
