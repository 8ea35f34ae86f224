import { createEngine } from '@lifeboat/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { engineFor } from './support/engine.js';
import {
  createDatabase,
  embeddedServer,
  servers,
  sourceFor,
  sql,
  type TestServer,
  trackDatabase,
  uniqueName,
} from './support/servers.js';

const urlOf = (server: TestServer, db: string) =>
  `postgres://${server.user}:${encodeURIComponent(server.password ?? '')}@${server.host}:${server.port}/${db}`;

const exists = async (server: TestServer, db: string) =>
  (await sql(server, 'postgres', 'SELECT 1 FROM pg_database WHERE datname = $1', [db])).length > 0;

const local15 = servers.find((s) => s.name.includes('15'));

/** The upgrade path goes one way: an archive from 18 into 15 is refused unless asked for. */
describe.runIf(local15)('cross-version restore: 18 archive, 15 server', () => {
  const older = local15!;
  const newer = embeddedServer;
  let backup: ReturnType<typeof engineFor>;

  beforeAll(async () => {
    await newer.start();
    const source = await createDatabase(newer, 'version18');
    await sql(
      newer,
      source,
      `CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);
       INSERT INTO items SELECT i, 'n' || i FROM generate_series(1, 100) i;
       CREATE INDEX items_name ON items (name);`,
    );
    backup = engineFor(newer, source);
    await backup.engine.backup();
  }, 120_000);

  it('fails before anything is created, naming both versions and the flag', async () => {
    const target = uniqueName('version_refused');
    trackDatabase(older, target);
    const failure = backup.engine.restore('latest', {
      postgres: { targetUrl: urlOf(older, target) },
    });
    await expect(failure).rejects.toMatchObject({
      code: 'RESTORE_VERSION_NEWER',
      message: expect.stringMatching(/PostgreSQL 18\.\d+ \(18\).*PostgreSQL 15\.\d+.*\(15\)/),
      hint: expect.stringContaining('--allow-newer-archive'),
    });
    expect(await exists(older, target)).toBe(false);
  }, 60_000);

  it('--allow-newer-archive tries it (a plain table restores)', async () => {
    const target = uniqueName('version_tried');
    trackDatabase(older, target);
    await backup.engine.restore('latest', {
      postgres: { targetUrl: urlOf(older, target), allowNewerArchive: true },
    });
    const [row] = await sql<{ n: string }>(older, target, 'SELECT count(*) AS n FROM items');
    expect(Number(row!.n)).toBe(100);
    // On 15 the statistics are ANALYZE's.
    const [analyzed] = await sql<{ at: string | null }>(
      older,
      target,
      "SELECT last_analyze AS at FROM pg_stat_user_tables WHERE relname = 'items'",
    );
    expect(analyzed!.at).not.toBeNull();
  }, 60_000);

  it('verify --deep on the 15 server reports the same refusal, and tries when allowed', async () => {
    const drill = createEngine({
      sources: [sourceFor(older, 'postgres')],
      storage: backup.storage,
      pruneAfterBackup: false,
    });
    const refused = await drill.verify('latest', { deep: true });
    expect(refused.ok).toBe(false);
    expect(refused.problems.map((p) => p.code)).toEqual(['RESTORE_VERSION_NEWER']);
    const tried = await drill.verify('latest', {
      deep: true,
      postgres: { allowNewerArchive: true },
    });
    expect(tried.problems).toEqual([]);
  }, 120_000);

  it('a 15 archive into 18 (the upgrade path) restores without the flag', async () => {
    const source = await createDatabase(older, 'version15');
    await sql(older, source, 'CREATE TABLE t (a int); INSERT INTO t VALUES (1), (2);');
    const { engine } = engineFor(older, source);
    await engine.backup();
    const target = uniqueName('version_up');
    trackDatabase(newer, target);
    await engine.restore('latest', { postgres: { targetUrl: urlOf(newer, target) } });
    const [row] = await sql<{ n: string }>(newer, target, 'SELECT count(*) AS n FROM t');
    expect(Number(row!.n)).toBe(2);
  }, 120_000);
});
