import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeDatabase } from './support/compare.js';
import { engineFor, extractArchive } from './support/engine.js';
import {
  createDatabase,
  psql,
  servers,
  sql,
  trackDatabase,
  uniqueName,
} from './support/servers.js';

const fixture = fileURLToPath(new URL('./fixtures/fidelity.sql', import.meta.url));

describe.each(servers)('fidelity on $name', (server) => {
  let source: string;
  let original: Awaited<ReturnType<typeof describeDatabase>>;
  let backup: ReturnType<typeof engineFor>;
  let result: Awaited<ReturnType<ReturnType<typeof engineFor>['engine']['backup']>>;

  beforeAll(async () => {
    await server.start();
    source = await createDatabase(server, 'fidelity');
    psql(server, source, ['-v', 'ON_ERROR_STOP=1', '-f', fixture]);
    original = await describeDatabase(server, source);
    // Small parts and three connections: several tables are cut into many parts.
    backup = engineFor(server, source, { partBytes: 16 * 1024, jobs: 3 });
    result = await backup.engine.backup();
  });

  it('records every table with its row count; nothing in the fixture is unsupported', async () => {
    expect(result.warnings).toEqual([]);
    const rows = Object.fromEntries(result.tables.map((t) => [t.name, t.rows]));
    expect(rows['public.all_types']).toBe(4);
    expect(rows['App Schema.Awkward "Name".with.dots/slash']).toBe(500);
    expect(rows['public.children']).toBe(20000);
    // Partitions are copied leaf by leaf, each row once; the partitioned tables hold none.
    expect(rows['public.events']).toBeUndefined();
    const events = ['events_2023', 'events_2024_a', 'events_2024_rest', 'events_default'].map(
      (t) => rows[`public.${t}`]!,
    );
    expect(events.reduce((a, b) => a + b, 0)).toBe(2001);
    expect(rows['public.cities']).toBe(1);
    expect(rows['public.capitals']).toBe(1);
    expect(rows['public.no_columns']).toBe(2);
    const manifest = (await backup.engine.verify()).ok;
    expect(manifest).toBe(true);
  });

  it('restores into a new database with identical rows and catalog', async () => {
    const target = uniqueName('fid_restored');
    trackDatabase(server, target);
    const events: string[] = [];
    backup.engine.events.on('source:item', (e) => {
      if (e.phase === 'restore' && e.kind === 'table') events.push(e.name);
    });
    await backup.engine.restore('latest', { postgres: { targetDatabase: target } });
    const restored = await describeDatabase(server, target);
    expect(restored.data).toEqual(original.data);
    expect(restored.catalog).toEqual(original.catalog);
    expect(events).toContain('public.all_types');
    // Sequences continue where they were: the next identity value is not reused.
    const [next] = await sql<{ id: number }>(
      server,
      target,
      "SELECT nextval(pg_get_serial_sequence('public.all_types', 'id'))::int AS id",
    );
    expect(next!.id).toBe(20);
  });

  it('restores with tar and psql alone, following restore.psql', async () => {
    const dir = await extractArchive(backup.storage);
    const info = await readFile(join(dir, 'BACKUP_INFO.txt'), 'utf8');
    expect(info).toContain('database/restore.psql');
    // Entry names are encoded: nothing escapes database/data/.
    const files = await readdir(join(dir, 'database', 'data'));
    expect(
      files.some((f) => f.startsWith('App%20Schema.Awkward%20%22Name%22%2Ewith%2Edots%2Fslash')),
    ).toBe(true);
    expect(files.filter((f) => f.startsWith('public.children')).length).toBeGreaterThan(1);
    // A key of a table with other indexes to build is built as a unique index, then attached;
    // a lone key of a small table is added in one statement.
    const post = await readFile(join(dir, 'database', 'post-data.sql'), 'utf8');
    expect(post).toContain('CREATE UNIQUE INDEX keyed_pk ON public.keyed USING btree (id)');
    expect(post).toContain('ADD CONSTRAINT "keyed_pk" PRIMARY KEY USING INDEX "keyed_pk"');
    expect(post).toContain('ADD CONSTRAINT "keyed a,b" UNIQUE USING INDEX "keyed a,b"');
    expect(post).toMatch(/"public"\."cache" ADD CONSTRAINT "cache_pkey" PRIMARY KEY \(k\)/);
    const target = await createDatabase(server, 'fid_psql');
    psql(server, target, ['-v', 'ON_ERROR_STOP=1', '-f', 'database/restore.psql'], dir);
    const restored = await describeDatabase(server, target);
    expect(restored.data).toEqual(original.data);
    expect(restored.catalog).toEqual(original.catalog);
  });

  it('verifies deeply in a scratch database and drops it', async () => {
    const before = await sql(
      server,
      'postgres',
      "SELECT datname FROM pg_database WHERE datname LIKE 'lifeboat_verify_%'",
    );
    const verify = await backup.engine.verify('latest', { deep: true });
    expect(verify.problems).toEqual([]);
    expect(verify.ok).toBe(true);
    // Other test files may run their own deep verify on this server at the same time: wait
    // until no scratch database is left that was not there before (a leak never goes away).
    const known = new Set(before.map((r) => r.datname));
    const scratch = "SELECT datname FROM pg_database WHERE datname LIKE 'lifeboat_verify_%'";
    let leftover: unknown[] = [];
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
      leftover = (await sql(server, 'postgres', scratch)).filter((r) => !known.has(r.datname));
      if (leftover.length === 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(leftover).toEqual([]);
  });
});
