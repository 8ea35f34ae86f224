import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineFor, extractArchive } from './support/engine.js';
import {
  createDatabase,
  embeddedServer,
  psqlAs,
  servers,
  sql,
  type TestServer,
  trackDatabase,
  uniqueName,
} from './support/servers.js';

/**
 * Skewed rows, so plans depend on the statistics: most orders are 'done', a few 'refunded'; half
 * belong to customer 1. Rows go in with COPY, as a restore loads them: since PostgreSQL 16 COPY
 * extends a table by several pages at once, and the planner scales reltuples by the table's
 * real size, so only tables loaded alike can plan alike. Then the source's reltuples is made odd
 * on purpose: a restore that imports it after building indexes has the source's number; CREATE
 * INDEX (or ANALYZE) would count the rows.
 */
const role = `lb_stats_owner_${randomBytes(3).toString('hex')}`;

const fixture = (file: string) => `
CREATE SCHEMA shop;
CREATE TABLE shop.orders (id int PRIMARY KEY, status text NOT NULL, customer int NOT NULL,
  amount numeric, tags text[], during int4range, placed date) WITH (autovacuum_enabled = off);
COPY (SELECT i,
  CASE WHEN i % 100 = 0 THEN 'refunded' WHEN i % 10 = 0 THEN 'open' ELSE 'done' END,
  CASE WHEN i % 2 = 0 THEN 1 ELSE i % 500 END, i % 97, ARRAY['t' || (i % 7)], int4range(i, i + i % 30),
  DATE '2024-01-01' + (i % 365)
FROM generate_series(1, 20000) i) TO '${file}.orders';
COPY shop.orders FROM '${file}.orders';
CREATE INDEX orders_status ON shop.orders (status);
CREATE INDEX orders_lower ON shop.orders (lower(status));
CREATE INDEX orders_customer ON shop.orders (customer);
CREATE TABLE shop.parts (id int, region text) PARTITION BY LIST (region);
CREATE TABLE shop.parts_eu PARTITION OF shop.parts FOR VALUES IN ('eu') WITH (autovacuum_enabled = off);
CREATE TABLE shop.parts_us PARTITION OF shop.parts FOR VALUES IN ('us') WITH (autovacuum_enabled = off);
COPY (SELECT i, 'eu' FROM generate_series(1, 600) i) TO '${file}.eu';
COPY shop.parts_eu FROM '${file}.eu';
COPY (SELECT i, 'us' FROM generate_series(601, 3000) i) TO '${file}.us';
COPY shop.parts_us FROM '${file}.us';
CREATE TABLE shop.ext (a int, b int) WITH (autovacuum_enabled = off);
CREATE STATISTICS shop.ext_ab (dependencies) ON a, b FROM shop.ext;
INSERT INTO shop.ext SELECT i % 50, (i % 50) * 2 FROM generate_series(1, 2000) i;
CREATE MATERIALIZED VIEW shop.totals AS SELECT customer, count(*) AS n FROM shop.orders GROUP BY customer;
CREATE SCHEMA guarded;
CREATE FUNCTION guarded.twice(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 * 2';
ALTER FUNCTION guarded.twice(int) OWNER TO ${role};
CREATE TABLE guarded.g (a int) WITH (autovacuum_enabled = off);
INSERT INTO guarded.g SELECT i % 10 FROM generate_series(1, 500) i;
CREATE STATISTICS guarded.g_expr ON (guarded.twice(a)), a FROM guarded.g;
ALTER TABLE guarded.g OWNER TO ${role};
ANALYZE;
UPDATE pg_class SET reltuples = 23456 WHERE oid = 'shop.orders'::regclass;
`;

/** The role owning guarded.g and the function its extended statistics call, on `server`. */
const withRole = async (server: TestServer) => {
  await server.start();
  await sql(
    server,
    'postgres',
    `DO $$BEGIN CREATE ROLE ${role}; EXCEPTION WHEN duplicate_object THEN NULL; END$$`,
  );
  dropRole.add(server);
};
const dropRole = new Set<TestServer>();
afterAll(async () => {
  // After the databases (the shared clean-up in servers.ts runs later): objects may still be its.
  for (const server of dropRole)
    await sql(server, 'postgres', `DROP ROLE IF EXISTS ${role}`).catch(() => {});
});

/** A file the server writes and reads (it runs on this machine). */
const files: string[] = [];
const serverFile = () => {
  const file = join(tmpdir(), `lb_stats_${randomBytes(4).toString('hex')}`);
  files.push(...['orders', 'eu', 'us'].map((x) => `${file}.${x}`));
  return file;
};
afterAll(async () => {
  for (const f of files.splice(0)) await rm(f, { force: true });
});

/** Queries whose plans follow the skew. */
const queries = [
  "SELECT * FROM shop.orders WHERE status = 'refunded'",
  "SELECT * FROM shop.orders WHERE status = 'done'",
  "SELECT * FROM shop.orders WHERE lower(status) = 'open'",
  'SELECT * FROM shop.orders o JOIN shop.totals t USING (customer) WHERE o.customer = 1',
  "SELECT count(*) FROM shop.parts WHERE region = 'eu'",
];

const statColumns =
  'attname, inherited, null_frac, avg_width, n_distinct, most_common_vals::text, most_common_freqs::text, histogram_bounds::text, correlation, most_common_elems::text, most_common_elem_freqs::text, elem_count_histogram::text';

/** pg_stats of the shop's tables and indexes (their expressions), in a stable order. */
const columnStats = (server: TestServer, db: string, tables: string[] = []) =>
  sql(
    server,
    db,
    `SELECT tablename, ${statColumns} FROM pg_stats WHERE schemaname = 'shop'
      AND (cardinality($1::text[]) = 0 OR tablename = ANY($1)) ORDER BY tablename, attname, inherited`,
    [tables],
  );

const relationStats = (server: TestServer, db: string) =>
  sql(
    server,
    db,
    `SELECT c.relname, c.relpages, c.reltuples, c.relallvisible FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'shop' AND c.relkind <> 'S'
      AND c.relname <> 'ext' ORDER BY c.relname`,
  );

const plans = async (server: TestServer, db: string) => {
  const out: string[] = [];
  for (const q of queries) {
    const rows = await sql<{ 'QUERY PLAN': string }>(server, db, `EXPLAIN (COSTS ON) ${q}`);
    out.push(rows.map((r) => r['QUERY PLAN']).join('\n'));
  }
  return out;
};

const lastAnalyzed = (server: TestServer, db: string) =>
  sql<{ relname: string; analyzed: boolean }>(
    server,
    db,
    "SELECT relname, last_analyze IS NOT NULL AS analyzed FROM pg_stat_user_tables WHERE schemaname = 'shop' ORDER BY relname",
  );

/** Whether guarded.g was analysed (its extended statistics call a function of the role). */
const guardedAnalyzed = async (server: TestServer, db: string) =>
  (
    await sql<{ analyzed: boolean }>(
      server,
      db,
      "SELECT last_analyze IS NOT NULL AS analyzed FROM pg_stat_user_tables WHERE relid = 'guarded.g'::regclass",
    )
  )[0]!.analyzed;

const urlOf = (server: TestServer, db: string) =>
  `postgres://${server.user}:${encodeURIComponent(server.password ?? '')}@${server.host}:${server.port}/${db}`;

/** restore.psql into a new database, with psql's variables. */
async function viaPsql(server: TestServer, dir: string, vars: string[] = []) {
  const db = await createDatabase(server, 'stats_psql');
  const { stderr } = psqlAs(
    server,
    { name: server.user, password: server.password ?? '' },
    db,
    ['-v', 'ON_ERROR_STOP=1', ...vars.flatMap((v) => ['-v', v]), '-f', 'database/restore.psql'],
    dir,
  );
  return { db, stderr };
}

describe('planner statistics on PostgreSQL 18: imported as the source had them', () => {
  const server = embeddedServer;
  let source: string;
  let backup: ReturnType<typeof engineFor>;
  let dir: string;

  beforeAll(async () => {
    await withRole(server);
    source = await createDatabase(server, 'stats18');
    await sql(server, source, fixture(serverFile()));
    backup = engineFor(server, source);
    const result = await backup.engine.backup();
    expect(result.warnings).toEqual([]);
    dir = await extractArchive(backup.storage);
  }, 120_000);

  const expectSameAsSource = async (db: string) => {
    expect(await columnStats(server, db)).toEqual(await columnStats(server, source));
    expect(await relationStats(server, db)).toEqual(await relationStats(server, source));
    expect(await plans(server, db)).toEqual(await plans(server, source));
    // Imported after the indexes were built: CREATE INDEX counted 20000.
    const [orders] = await sql<{ reltuples: number }>(
      server,
      db,
      "SELECT reltuples FROM pg_class WHERE oid = 'shop.orders'::regclass",
    );
    expect(orders!.reltuples).toBe(23456);
    // Extended statistics have no import: their table was analysed.
    const analyzed = await lastAnalyzed(server, db);
    expect(analyzed.filter((r) => r.analyzed).map((r) => r.relname)).toEqual(['ext']);
    const [ext] = await sql<{ dependencies: string | null }>(
      server,
      db,
      "SELECT dependencies::text FROM pg_stats_ext WHERE statistics_name = 'ext_ab'",
    );
    expect(ext!.dependencies).not.toBeNull();
  };

  it('into a new database (parallel load): pg_stats, pg_class and plans equal the source', async () => {
    const target = uniqueName('stats18_new');
    trackDatabase(server, target);
    const warnings: string[] = [];
    const onWarning = (w: { code: string }) => warnings.push(w.code);
    backup.engine.events.on('warning', onWarning);
    const result = await backup.engine.restore('latest', {
      postgres: { targetUrl: urlOf(server, target) },
    });
    backup.engine.events.off('warning', onWarning);
    expect(warnings).toEqual([]);
    expect(result.sections[0]!.summary.statistics).toMatchObject({ imported: 5, analyzed: 2 });
    await expectSameAsSource(target);
  }, 120_000);

  it('into an existing empty database (one transaction) and with psql alone', async () => {
    const target = await createDatabase(server, 'stats18_existing');
    await backup.engine.restore('latest', { postgres: { targetUrl: urlOf(server, target) } });
    await expectSameAsSource(target);
    const { db, stderr } = await viaPsql(server, dir);
    expect(stderr).not.toMatch(/STATISTICS_NOT_RESTORED|ERROR/);
    await expectSameAsSource(db);
  }, 120_000);

  it('--no-analyze / -v no_analyze=1: nothing imported, nothing analysed', async () => {
    const target = uniqueName('stats18_none');
    trackDatabase(server, target);
    const result = await backup.engine.restore('latest', {
      postgres: { targetUrl: urlOf(server, target), noAnalyze: true },
    });
    expect(result.sections[0]!.summary.statistics).toBeUndefined();
    const { db } = await viaPsql(server, dir, ['no_analyze=1']);
    for (const copy of [target, db]) {
      expect(await columnStats(server, copy)).toEqual([]);
      expect((await lastAnalyzed(server, copy)).some((r) => r.analyzed)).toBe(false);
    }
  }, 120_000);

  it('a table whose rows are left out gets no statistics (it is empty)', async () => {
    const target = uniqueName('stats18_nodata');
    trackDatabase(server, target);
    await backup.engine.restore('latest', {
      postgres: { targetUrl: urlOf(server, target), excludeTableData: ['shop.orders'] },
    });
    expect(await columnStats(server, target, ['orders', 'orders_lower'])).toEqual([]);
    expect(await columnStats(server, target, ['parts_eu'])).toEqual(
      await columnStats(server, source, ['parts_eu']),
    );
  }, 120_000);
});

const local15 = servers.find((s) => s.name.includes('15'));

describe.runIf(local15)('planner statistics on PostgreSQL 15: ANALYZE after the restore', () => {
  const server = local15!;
  let source: string;
  let backup: ReturnType<typeof engineFor>;
  let dir: string;

  beforeAll(async () => {
    await withRole(server);
    await withRole(embeddedServer);
    source = await createDatabase(server, 'stats15');
    await sql(server, source, fixture(serverFile()));
    backup = engineFor(server, source);
    await backup.engine.backup();
    dir = await extractArchive(backup.storage);
  }, 120_000);

  it('the engine and restore.psql analyse every restored table; --no-analyze does not', async () => {
    const target = uniqueName('stats15_new');
    trackDatabase(server, target);
    const result = await backup.engine.restore('latest', { postgres: { targetDatabase: target } });
    // orders, parts_eu, parts_us, ext, the totals view; parts (partitioned) had statistics too.
    expect(result.sections[0]!.summary.statistics).toMatchObject({ imported: 0, analyzed: 7 });
    const { db } = await viaPsql(server, dir);
    for (const copy of [target, db]) {
      expect((await lastAnalyzed(server, copy)).every((r) => r.analyzed)).toBe(true);
      expect(await guardedAnalyzed(server, copy)).toBe(true);
      expect((await columnStats(server, copy, ['orders'])).length).toBeGreaterThan(0);
    }
    const none = uniqueName('stats15_none');
    trackDatabase(server, none);
    await backup.engine.restore('latest', { postgres: { targetDatabase: none, noAnalyze: true } });
    const { db: psqlNone } = await viaPsql(server, dir, ['no_analyze=1']);
    for (const copy of [none, psqlNone])
      expect((await lastAnalyzed(server, copy)).some((r) => r.analyzed)).toBe(false);
  }, 180_000);

  it('--no-owner: no ANALYZE runs functions of the source roles as the restoring user', async () => {
    const target = uniqueName('stats15_noowner');
    trackDatabase(server, target);
    const warnings: { code: string; message: string }[] = [];
    const onWarning = (w: { code: string; message: string }) => warnings.push(w);
    backup.engine.events.on('warning', onWarning);
    await backup.engine.restore('latest', { postgres: { targetDatabase: target, noOwner: true } });
    backup.engine.events.off('warning', onWarning);
    expect(await guardedAnalyzed(server, target)).toBe(false);
    expect(warnings).toEqual([
      expect.objectContaining({
        code: 'STATISTICS_NOT_RESTORED',
        message: expect.stringMatching(new RegExp(`guarded\\.g not run: .*functions of ${role}`)),
      }),
    ]);
    // The other tables are analysed all the same.
    expect((await lastAnalyzed(server, target)).every((r) => r.analyzed)).toBe(true);
    const { db, stderr } = await viaPsql(server, dir, ['no_owner=1']);
    expect(await guardedAnalyzed(server, db)).toBe(false);
    expect(stderr).toMatch(/STATISTICS_NOT_RESTORED: ANALYZE of guarded\.g not run/);
  }, 180_000);

  it('a 15 archive restored into 18 imports the 15 statistics', async () => {
    const newer = embeddedServer;
    await newer.start();
    const target = uniqueName('stats15_to18');
    trackDatabase(newer, target);
    await backup.engine.restore('latest', { postgres: { targetUrl: urlOf(newer, target) } });
    expect(await columnStats(newer, target)).toEqual(await columnStats(server, source));
    const [orders] = await sql<{ reltuples: number }>(
      newer,
      target,
      "SELECT reltuples FROM pg_class WHERE oid = 'shop.orders'::regclass",
    );
    expect(orders!.reltuples).toBe(23456);
  }, 120_000);
});
