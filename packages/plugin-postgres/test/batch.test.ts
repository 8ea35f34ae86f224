import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Submittable } from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { BatchCopyTo, type BatchPiece } from '../src/copy-out.js';
import { engineFor, extractArchive } from './support/engine.js';
import {
  adminClient,
  createDatabase,
  servers,
  sql,
  type TestServer,
  trackDatabase,
  uniqueName,
} from './support/servers.js';

const TABLES = 150;
/** Every table's rows, as one digest per table. */
const DIGESTS = `SELECT c.relname AS name,
  (xpath('/row/d/text()', query_to_xml(format('SELECT md5(coalesce(string_agg(t::text, ''|'' ORDER BY t::text), '''')) AS d FROM %I.%I t', n.nspname, c.relname), false, true, '')))[1]::text AS digest
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1`;

describe.each(servers)('small tables copied several to a query on $name', (server: TestServer) => {
  let db: string;
  beforeAll(async () => {
    await server.start();
    db = await createDatabase(server, 'batch');
    // Many small tables (some empty, some with awkward CSV), and one that grew far past what
    // the planner last counted (autovacuum off: the estimate stays small).
    await sql(
      server,
      db,
      `DO $$ BEGIN FOR i IN 1..${TABLES} LOOP
         EXECUTE format('CREATE TABLE %I (id int PRIMARY KEY, note text)', 'small ' || i);
         IF i % 10 <> 0 THEN
           EXECUTE format('INSERT INTO %I SELECT g, CASE WHEN g = 2 THEN E''a,"b"\\nc'' ELSE md5(g::text) END FROM generate_series(1, %s) g', 'small ' || i, i % 7 + 1);
         END IF;
       END LOOP; END $$;
       CREATE TABLE grown (id int PRIMARY KEY, body text) WITH (autovacuum_enabled = false);
       INSERT INTO grown SELECT g, md5(g::text) FROM generate_series(1, 10) g;
       ANALYZE;
       INSERT INTO grown SELECT g, repeat(md5(g::text), 3) FROM generate_series(11, 20000) g;`,
    );
  });

  it('one query yields each statement’s rows, in pieces of bounded size', async () => {
    const client = adminClient(server, db);
    await client.connect();
    try {
      const stream = new BatchCopyTo(
        [
          'COPY "small 1" TO STDOUT WITH (FORMAT csv, HEADER true)',
          'COPY "small 10" TO STDOUT WITH (FORMAT csv, HEADER true)',
          'COPY grown TO STDOUT WITH (FORMAT csv, HEADER true)',
        ].join(';\n'),
        64 * 1024,
      );
      client.query(stream as unknown as Submittable);
      const pieces: BatchPiece[] = [];
      for await (const piece of stream as AsyncIterable<BatchPiece>) pieces.push(piece);
      expect(pieces.filter((p) => p.index === 0)).toEqual([
        {
          index: 0,
          header: Buffer.from('id,note\n'),
          chunks: expect.any(Array),
          bytes: expect.any(Number),
          rows: 2,
          last: true,
        },
      ]);
      expect(pieces.filter((p) => p.index === 1).map((p) => [p.rows, p.bytes, p.last])).toEqual([
        [0, 0, true],
      ]);
      const grown = pieces.filter((p) => p.index === 2);
      expect(grown.length).toBeGreaterThan(5);
      expect(grown.reduce((n, p) => n + p.rows, 0)).toBe(20000);
      expect(grown.map((p) => p.last)).toEqual([...grown.slice(1).map(() => false), true]);
      for (const p of grown) {
        expect(p.header.toString()).toBe('id,body\n');
        expect(p.bytes).toBe(p.chunks.reduce((n, c) => n + c.length, 0));
        expect(p.bytes).toBeLessThan(64 * 1024 + 200);
        // Pieces end at row ends, and so does every chunk of them.
        for (const c of p.chunks) expect(c.at(-1)).toBe(0x0a);
      }
      // The connection is usable afterwards.
      expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await client.end();
    }
  });

  it('an error in the middle of a batch fails it and leaves the connection usable', async () => {
    const client = adminClient(server, db);
    await client.connect();
    try {
      const stream = new BatchCopyTo(
        [
          'COPY "small 1" TO STDOUT WITH (FORMAT csv, HEADER true)',
          'COPY no_such_table TO STDOUT',
        ].join(';\n'),
        64 * 1024,
      );
      client.query(stream as unknown as Submittable);
      const error = await (async () => {
        for await (const _ of stream as AsyncIterable<BatchPiece>);
      })().then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.message).toMatch(/no_such_table/);
      expect(stream.current).toBe(0);
      expect((await client.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
    } finally {
      await client.end();
    }
  });

  it('a backup of many small tables round-trips every row, and a grown table is cut in parts', async () => {
    const { engine, storage } = engineFor(server, db, { partBytes: 64 * 1024 });
    const result = await engine.backup();
    expect(result.tables).toHaveLength(TABLES + 1);
    expect(result.tables.find((t) => t.name === 'public.small 3')?.rows).toBe(4);
    expect(result.tables.find((t) => t.name === 'public.small 20')?.rows).toBe(0);
    expect(result.tables.find((t) => t.name === 'public.grown')?.rows).toBe(20000);
    const dir = await extractArchive(storage);
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    const tables = manifest.sources[0].summary.tables as { name: string; parts: string[] }[];
    expect(tables.find((t) => t.name === 'public.grown')!.parts.length).toBeGreaterThan(5);
    for (const t of tables) expect(t.parts.length, t.name).toBeGreaterThan(0);

    const target = uniqueName('batch_restored');
    trackDatabase(server, target);
    await engine.restore('latest', { postgres: { targetDatabase: target } });
    expect(await sql(server, target, DIGESTS)).toEqual(await sql(server, db, DIGESTS));
  });

  it('an abort in the middle of a batch stops the backup and leaves no connection behind', async () => {
    const { engine, storage } = engineFor(server, db, { partBytes: 64 * 1024 });
    const controller = new AbortController();
    let seen = 0;
    engine.events.on('source:item', (e) => {
      if (e.kind === 'table' && ++seen === 10) controller.abort();
    });
    const error = await engine.backup({ signal: controller.signal }).then(
      () => undefined,
      (e: unknown) => e as { code?: string },
    );
    expect(error?.code).toBe('ABORTED');
    expect(seen).toBeLessThan(TABLES);
    expect((await storage.list()).filter((o) => o.key.endsWith('.tar.gz'))).toEqual([]);
    await new Promise((r) => setTimeout(r, 300));
    const left = await sql(
      server,
      'postgres',
      "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'lifeboat'",
      [db],
    );
    expect(left).toEqual([]);
  });
});
