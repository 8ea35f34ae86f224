import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { planCopyJobs } from '../src/backup.js';
import { readCatalog } from '../src/catalog/read.js';
import { engineFor, extractArchive } from './support/engine.js';
import {
  adminClient,
  createDatabase,
  psql,
  servers,
  sql,
  type TestServer,
  trackDatabase,
  uniqueName,
} from './support/servers.js';

const TABLE = '"Big ""Table"".v2"';
/** Every row of the big table, in id order, as one digest (generated column included). */
const DIGEST = `SELECT count(*)::int AS rows, md5(string_agg(t::text, '|' ORDER BY id)) AS digest FROM ONLY public.${TABLE} t`;

describe.each(servers)('big tables copied in page ranges on $name', (server: TestServer) => {
  let db: string;
  beforeAll(async () => {
    await server.start();
    db = await createDatabase(server, 'split');
    // About 4 MB of heap, with a generated column (never stored), an inheritance child whose rows
    // must not be copied into the parent's CSV, and deleted rows leaving holes in the pages.
    await sql(
      server,
      db,
      `CREATE TABLE public.${TABLE} (
         id int PRIMARY KEY,
         body text,
         n int,
         doubled int GENERATED ALWAYS AS (n * 2) STORED
       );
       CREATE TABLE public.big_child (extra text) INHERITS (public.${TABLE});
       INSERT INTO public.${TABLE} (id, body, n)
         SELECT g, CASE WHEN g % 97 = 0 THEN E'line\\nbreak, "q"' ELSE repeat(chr(97 + g % 26), 40) END, g
         FROM generate_series(1, 40000) g;
       DELETE FROM public.${TABLE} WHERE id % 10 = 3;
       INSERT INTO public.big_child (id, body, n, extra) VALUES (900001, 'child row', 1, 'x');
       CREATE TABLE public.small (id int PRIMARY KEY REFERENCES public.${TABLE} (id));
       INSERT INTO public.small VALUES (1), (2);`,
    );
  });

  it('every row is stored once, across several parts, and restores identically', async () => {
    const { engine, storage } = engineFor(server, db, {
      jobs: 2,
      partBytes: 64 * 1024,
      splitBytes: 1024 * 1024,
    });
    const result = await engine.backup();
    expect(result.tables.find((t) => t.name === 'public.Big "Table".v2')?.rows).toBe(36000);
    expect(result.tables.find((t) => t.name === 'public.big_child')?.rows).toBe(1);

    const dir = await extractArchive(storage);
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    const tables = manifest.sources[0].summary.tables as {
      name: string;
      ranges?: number;
      parts: string[];
    }[];
    const big = tables.find((t) => t.name === 'public.Big "Table".v2')!;
    expect(big.ranges).toBeGreaterThan(1);
    expect(big.parts.length).toBeGreaterThanOrEqual(big.ranges!);
    expect(new Set(big.parts).size).toBe(big.parts.length);
    // Small tables are one COPY, and the table a foreign key points to is copied first (all
    // workers on its ranges), so a restore has it whole early.
    expect(tables.find((t) => t.name === 'public.small')?.ranges).toBeUndefined();
    const order = manifest.entries
      .map((e: { path: string }) => e.path)
      .filter((p: string) => p.startsWith('database/data/'));
    expect(order[0]).toMatch(/Big/);

    const [source] = await sql<{ rows: number; digest: string }>(server, db, DIGEST);
    const target = uniqueName('split_restored');
    trackDatabase(server, target);
    await engine.restore('latest', { postgres: { targetDatabase: target } });
    const [restored] = await sql<{ rows: number; digest: string }>(server, target, DIGEST);
    expect(restored).toEqual(source);
    const [child] = await sql<{ n: number }>(
      server,
      target,
      'SELECT count(*)::int AS n FROM public.big_child',
    );
    expect(child!.n).toBe(1);

    // The plain-psql way reads the same parts.
    const plain = await createDatabase(server, 'split_psql');
    psql(server, plain, ['-v', 'ON_ERROR_STOP=1', '-f', 'database/restore.psql'], dir);
    const [viaPsql] = await sql<{ rows: number; digest: string }>(server, plain, DIGEST);
    expect(viaPsql).toEqual(source);
  });

  it('plans the table a foreign key points to first, cut into page ranges', async () => {
    const client = adminClient(server, db);
    await client.connect();
    try {
      const { catalog } = await readCatalog(client);
      const data = catalog.tables.filter((t) => t.kind === 'r');
      const jobs = await planCopyJobs(client, catalog, data, {
        split: true,
        splitBytes: 1024 * 1024,
      });
      expect(jobs[0]!.table.name).toBe('Big "Table".v2');
      const ranges = jobs.filter((j) => j.table === jobs[0]!.table);
      expect(ranges.length).toBeGreaterThan(1);
      // Contiguous, from page 0, the last one open-ended.
      expect(ranges[0]!.pages!.from).toBe(0);
      for (let i = 1; i < ranges.length; i++)
        expect(ranges[i]!.pages!.from).toBe(ranges[i - 1]!.pages!.to);
      expect(ranges.at(-1)!.pages!.to).toBeUndefined();
      expect(jobs.filter((j) => j.table.name === 'small')).toHaveLength(1);
    } finally {
      await client.end();
    }
  });
});
