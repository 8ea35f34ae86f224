import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { BackupContext, EntryInput } from '@lifeboat/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupLargeObjects, LARGE_OBJECT_CHUNK } from '../src/large-objects.js';
import { loadLargeObject } from '../src/restore/large-objects.js';
import { engineFor, extractArchive } from './support/engine.js';
import { pgDumpPicture } from './support/pgdump.js';
import { dropDatabasesThenRoles, restoredByPsql } from './support/roles.js';
import {
  adminClient,
  createDatabase,
  servers,
  sql,
  type TestServer,
  trackDatabase,
  uniqueName,
} from './support/servers.js';

const tag = randomBytes(3).toString('hex');
const owner = `lb_lo_owner_${tag}`;
const reader = `lb_lo_reader_${tag}`;
/** Random, so that no compression or run of equal bytes hides a byte out of place. */
const big = randomBytes(1024 * 1024 + 12_345);

/** Every large object: owner, ACL, comment, size and digest of its bytes. */
const picture = (server: TestServer, database: string) =>
  sql(
    server,
    database,
    `SELECT m.oid::int8 AS oid, m.lomowner::regrole::text AS owner, m.lomacl::text AS acl,
       obj_description(m.oid, 'pg_largeobject') AS comment,
       length(lo_get(m.oid)) AS size, md5(lo_get(m.oid)) AS md5
     FROM pg_largeobject_metadata m ORDER BY m.oid`,
  );

const bytesOf = async (server: TestServer, database: string, oid: number) =>
  (await sql<{ data: Buffer }>(server, database, 'SELECT lo_get($1::oid) AS data', [oid]))[0]!.data;

describe.each(servers)('large objects on $name', (server) => {
  let source: string;
  let backup: ReturnType<typeof engineFor>;
  let original: Record<string, unknown>[];
  let dumped: Awaited<ReturnType<typeof pgDumpPicture>>;
  let bigOid: number;

  beforeAll(async () => {
    await server.start();
    await sql(server, 'postgres', `CREATE ROLE ${owner} NOLOGIN`);
    await sql(server, 'postgres', `CREATE ROLE ${reader} NOLOGIN`);
    source = await createDatabase(server, `lo${tag}`);
    const [row] = await sql<{ oid: number }>(
      server,
      source,
      'SELECT lo_from_bytea(0, $1::bytea)::int8 AS oid',
      [big],
    );
    bigOid = Number(row!.oid);
    await sql(
      server,
      source,
      `CREATE TABLE public.docs (id int PRIMARY KEY, body oid);
       INSERT INTO public.docs VALUES (1, ${bigOid});
       ALTER LARGE OBJECT ${bigOid} OWNER TO ${owner};
       COMMENT ON LARGE OBJECT ${bigOid} IS 'the big one; it''s random';
       GRANT SELECT ON LARGE OBJECT ${bigOid} TO PUBLIC;
       GRANT UPDATE ON LARGE OBJECT ${bigOid} TO ${reader} WITH GRANT OPTION;
       SELECT lo_create(0);
       SELECT lo_create(987654);
       COMMENT ON LARGE OBJECT 987654 IS 'empty';
       SELECT lo_from_bytea(0, 'small'::bytea);`,
    );
    original = await picture(server, source);
    dumped = await pgDumpPicture(server, source);
    backup = engineFor(server, source);
    const result = await backup.engine.backup();
    expect(result.warnings).toEqual([]);
  }, 120_000);

  afterAll(() => dropDatabasesThenRoles(server, `lo${tag}`, [owner, reader]));

  const judge = async (target: string) => {
    expect(await picture(server, target)).toEqual(original);
    expect((await bytesOf(server, target, bigOid)).equals(big)).toBe(true);
    if (dumped) expect(await pgDumpPicture(server, target)).toEqual(dumped);
  };

  it('backs up every large object, also an empty one, as an entry of its own', async () => {
    expect(original).toHaveLength(4);
    expect(original.filter((o) => o.size === 0)).toHaveLength(2);
    const dir = await extractArchive(backup.storage);
    const entry = await stat(join(dir, 'database', 'large-objects', `${bigOid}.bin`));
    expect(entry.size).toBe(big.length);
    expect((await stat(join(dir, 'database', 'large-objects', '987654.bin'))).size).toBe(0);
  });

  it('a backup of chosen tables leaves them out and says so, as pg_dump -t', async () => {
    const chosen = engineFor(server, source, { tables: ['public.docs'] });
    const result = await chosen.engine.backup();
    expect(result.warnings.map((w) => [w.code, w.message])).toEqual([
      [
        'POSTGRES_NOT_SELECTED',
        'Not backed up: large objects 4 large object(s) (a backup of chosen tables or schemas leaves large objects out, as pg_dump -t and -n do)',
      ],
    ]);
    const dir = await extractArchive(chosen.storage);
    await expect(stat(join(dir, 'database', 'large-objects'))).rejects.toThrow(/ENOENT/);
  }, 120_000);

  it('restores contents, owner, ACL and comment into a new database', async () => {
    const target = uniqueName(`lo${tag}_new`);
    trackDatabase(server, target);
    await backup.engine.restore('latest', { postgres: { targetDatabase: target } });
    await judge(target);
  }, 120_000);

  it('restores them into an existing empty database, and over others with --clean', async () => {
    const target = await createDatabase(server, `lo${tag}_existing`);
    await backup.engine.restore('latest', { postgres: { targetDatabase: target } });
    await judge(target);
    await sql(server, target, "SELECT lo_from_bytea(0, 'stray'::bytea)");
    await backup.engine.restore('latest', {
      confirm: true,
      postgres: { targetDatabase: target, clean: true },
    });
    await judge(target);
  }, 120_000);

  it('restores them with psql alone', async () => {
    await judge(await restoredByPsql(server, backup.storage, `lo${tag}_psql`));
  }, 120_000);

  it('leaves owners, grants and comments out as asked, by the engine and by psql', async () => {
    const expected = original.map((o) => ({ ...o, owner: server.user, acl: null, comment: null }));
    const target = uniqueName(`lo${tag}_choices`);
    trackDatabase(server, target);
    await backup.engine.restore('latest', {
      postgres: { targetDatabase: target, noOwner: true, noPrivileges: true, noComments: true },
    });
    expect(await picture(server, target)).toEqual(expected);

    const byPsql = await restoredByPsql(server, backup.storage, `lo${tag}_psql_choices`, [
      'no_owner=1',
      'no_privileges=1',
    ]);
    expect(await picture(server, byPsql)).toEqual(
      original.map((o) => ({ ...o, owner: server.user, acl: null })),
    );
  }, 120_000);

  it('leaves them out with --schema (they lie in no schema), as pg_restore does', async () => {
    const target = uniqueName(`lo${tag}_schema`);
    trackDatabase(server, target);
    await backup.engine.restore('latest', {
      postgres: { targetDatabase: target, schemas: ['public'] },
    });
    expect(await picture(server, target)).toEqual([]);
    expect(await sql(server, target, 'SELECT id FROM public.docs')).toEqual([{ id: 1 }]);
  }, 120_000);

  it('a restore of some tables leaves large objects alone', async () => {
    const target = await createDatabase(server, `lo${tag}_tables`);
    await sql(server, target, 'CREATE TABLE public.docs (id int PRIMARY KEY, body oid)');
    await sql(server, target, `SELECT lo_from_bytea(${bigOid}, 'mine'::bytea)`);
    await backup.engine.restore('latest', {
      postgres: { targetDatabase: target, tables: ['public.docs'] },
    });
    expect(await sql(server, target, 'SELECT id FROM public.docs')).toEqual([{ id: 1 }]);
    const left = await picture(server, target);
    expect(left).toHaveLength(1);
    expect((await bytesOf(server, target, bigOid)).toString()).toBe('mine');
  }, 120_000);
});

describe.each(servers.slice(0, 1))('large objects move in chunks on $name', (server) => {
  it('reads and writes a 64 MiB large object LARGE_OBJECT_CHUNK bytes at a time', async () => {
    await server.start();
    // Never more than this in memory for one object, whatever its size.
    expect(LARGE_OBJECT_CHUNK).toBeLessThanOrEqual(1024 * 1024);
    const size = 64 * 1024 * 1024;
    const database = await createDatabase(server, `lo${tag}_chunks`);
    await sql(
      server,
      database,
      `SELECT lo_from_bytea(4242, decode(repeat('00112233445566778899aabbccddeeff', ${size / 16}), 'hex'))`,
    );
    const client = adminClient(server, database);
    await client.connect();
    try {
      const reads: number[] = [];
      const query = client.query.bind(client);
      // biome-ignore lint/suspicious/noExplicitAny: a spy on pg's overloaded query
      (client as any).query = async (text: string, params?: unknown[]) => {
        const result = await query(text, params);
        if (/lo_get/.test(text)) reads.push((result.rows[0].data as Buffer).length);
        return result;
      };
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      let received = 0;
      let largest = 0;
      const entries: EntryInput[] = [];
      const ctx: BackupContext = {
        signal: new AbortController().signal,
        progress: () => {},
        item: () => {},
        warn: () => {},
        allowIncomplete: false,
        leaveOut: () => {},
        emit: async (entry: EntryInput) => {
          entries.push(entry);
          if (typeof entry.body === 'function') {
            for await (const chunk of await entry.body()) {
              received += (chunk as Buffer).length;
              largest = Math.max(largest, (chunk as Buffer).length);
            }
          }
          return { path: entry.path, type: entry.type, size: entry.size ?? 0 };
        },
      };
      const { summary } = await backupLargeObjects(ctx, client);
      await client.query('COMMIT');
      expect(summary).toEqual({ count: 1, bytes: size });
      expect(entries[0]).toMatchObject({ path: 'large-objects/4242.bin', size });
      expect(received).toBe(size);
      expect(largest).toBe(LARGE_OBJECT_CHUNK);
      expect(reads).toHaveLength(size / LARGE_OBJECT_CHUNK);

      // Back in, from a stream of small pieces: each write holds one chunk's worth.
      const writes: number[] = [];
      // biome-ignore lint/suspicious/noExplicitAny: a spy on pg's overloaded query
      (client as any).query = async (text: string, params?: unknown[]) => {
        if (/lo_put/.test(text)) writes.push((params![2] as Buffer).length);
        return query(text, params);
      };
      const piece = Buffer.alloc(64 * 1024, 7);
      const pieces = Readable.from(
        (function* () {
          for (let i = 0; i < size / piece.length; i++) yield piece;
        })(),
      );
      expect(await loadLargeObject(client, '4343', pieces)).toBe(size);
      expect(Math.max(...writes)).toBe(LARGE_OBJECT_CHUNK);
      expect(writes.reduce((a, b) => a + b, 0)).toBe(size);
      const [check] = await sql<{ size: number }>(
        server,
        database,
        'SELECT length(lo_get(4343)) AS size',
      );
      expect(check!.size).toBe(size);
    } finally {
      await client.end();
    }
  }, 120_000);
});
