import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PostgresRestoreOptions } from '@lifeboat/plugin-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineFor, extractArchive } from './support/engine.js';
import { psqlAs, servers, sql, type TestServer, uniqueName } from './support/servers.js';

/**
 * Tablespaces as pg_dump/pg_restore keep them: each table, index, constraint's index,
 * materialized view and partitioned table is restored where it lay (SET default_tablespace
 * before it; a partition elsewhere than its parent is moved there after its CREATE), the database's own default tablespace too (as pg_dump --create);
 * --no-tablespaces and --tablespace-map move them; a tablespace the target lacks is a
 * TABLESPACE_MISSING warning, the object goes to the default one and the restore succeeds.
 */
const tag = randomBytes(3).toString('hex');
const A = `lbts_a_${tag}`;
const B = `lbts_b_${tag}`;
const GONE = `lbts_gone_${tag}`;

const fixture = `
CREATE TABLE public.t1 (id int PRIMARY KEY, v text) TABLESPACE ${A};
CREATE TABLE public.t2 (id int, w text, CONSTRAINT t2_pk PRIMARY KEY (id) USING INDEX TABLESPACE ${A},
  CONSTRAINT t2_w UNIQUE (w));
CREATE TABLE public.t3 (id int) TABLESPACE pg_default;
CREATE INDEX t1_v ON public.t1 (v) TABLESPACE ${A};
CREATE INDEX t2_lower ON public.t2 (lower(w)) TABLESPACE ${A};
CREATE SEQUENCE public.s;
CREATE MATERIALIZED VIEW public.mv TABLESPACE ${A} AS SELECT id, v FROM public.t1;
CREATE INDEX mv_id ON public.mv (id) TABLESPACE ${A};
CREATE TABLE public.p (id int, k int) PARTITION BY RANGE (k) TABLESPACE ${A};
CREATE TABLE public.p1 PARTITION OF public.p FOR VALUES FROM (0) TO (10) TABLESPACE ${A};
CREATE INDEX p_id ON public.p (id) TABLESPACE ${A};
-- Partitions elsewhere than their parent: pg_default, and the database's default (B).
CREATE TABLE public.p2 PARTITION OF public.p FOR VALUES FROM (10) TO (20) TABLESPACE pg_default;
CREATE TABLE public.p3 PARTITION OF public.p FOR VALUES FROM (20) TO (30) TABLESPACE ${B};
CREATE TABLE public.q (id int, k int) PARTITION BY LIST (k);
CREATE TABLE public.q1 PARTITION OF public.q FOR VALUES IN (1) TABLESPACE ${A};
INSERT INTO public.q VALUES (1, 1);
-- A partition's index elsewhere than its partitioned index.
CREATE INDEX q_id ON public.q (id);
ALTER INDEX public.q1_id_idx SET TABLESPACE ${A};
INSERT INTO public.t1 SELECT g, 'v' || g FROM generate_series(1, 50) g;
INSERT INTO public.t2 SELECT g, 'w' || g FROM generate_series(1, 50) g;
INSERT INTO public.p SELECT g, g % 10 FROM generate_series(1, 50) g;
INSERT INTO public.p SELECT g, 10 + g % 20 FROM generate_series(1, 40) g;
REFRESH MATERIALIZED VIEW public.mv;
`;

/** Every relation of the public schema with its tablespace ('' the database's default). */
const placement = async (server: TestServer, database: string) =>
  Object.fromEntries(
    (
      await sql<{ rel: string; ts: string }>(
        server,
        database,
        `SELECT c.relname AS rel, COALESCE(t.spcname, '') AS ts FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_tablespace t ON t.oid = c.reltablespace
         WHERE n.nspname = 'public' ORDER BY 1`,
      )
    ).map((r) => [r.rel, r.ts]),
  );

const databaseTablespace = async (server: TestServer, database: string) =>
  (
    await sql<{ ts: string }>(
      server,
      'postgres',
      'SELECT t.spcname AS ts FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace WHERE d.datname = $1',
      [database],
    )
  )[0]?.ts;

const run = (command: string, args: string[], server: TestServer) => {
  const result = spawnSync(
    command,
    ['-h', server.host, '-p', String(server.port), '-U', server.user, ...args],
    { env: { ...process.env, PGPASSWORD: server.password ?? '' }, encoding: 'utf8' },
  );
  if (result.status !== 0)
    throw new Error(`${command} failed (${result.status}): ${result.stderr}`);
  return result.stdout;
};

/** pg_dump --schema-only as the judge, its SET default_tablespace lines kept. */
const schemaDump = (server: TestServer, database: string) =>
  run('pg_dump', ['--schema-only', database], server)
    .split('\n')
    .filter(
      (l) =>
        l !== '' &&
        !l.startsWith('--') &&
        !l.startsWith('\\restrict') &&
        !l.startsWith('\\unrestrict') &&
        (!l.startsWith('SET ') || l.startsWith('SET default_tablespace')),
    );

describe.each(servers)('tablespaces on $name', (server) => {
  const is15 = server.name.includes('15');
  const dirs = [A, B].map((name) => join(tmpdir(), `lb-t17-${name}-${server.port}`));
  const databases: string[] = [];
  let source: string;
  let backup: ReturnType<typeof engineFor>;
  let work: string;
  let folder: string;

  beforeAll(async () => {
    await server.start();
    for (const dir of dirs) {
      mkdirSync(dir, { recursive: true });
      spawnSync('chown', ['postgres', dir]);
    }
    await sql(server, 'postgres', `CREATE TABLESPACE ${A} LOCATION '${dirs[0]}'`);
    await sql(server, 'postgres', `CREATE TABLESPACE ${B} LOCATION '${dirs[1]}'`);
    source = uniqueName('t17ts');
    databases.push(source);
    // The database's own default is B: its objects with reltablespace 0 lie there.
    await sql(server, 'postgres', `CREATE DATABASE ${source} TEMPLATE template0 TABLESPACE ${B}`);
    await sql(server, source, fixture);
    backup = engineFor(server, source);
    const result = await backup.engine.backup();
    expect(result.warnings).toEqual([]);
    work = await mkdtemp(join(tmpdir(), 'lifeboat-t17ts-'));
    folder = await extractArchive(backup.storage);
  }, 180_000);

  afterAll(async () => {
    for (const name of databases)
      await sql(server, 'postgres', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
    for (const name of [A, B, GONE])
      await sql(server, 'postgres', `DROP TABLESPACE IF EXISTS ${name}`).catch(() => {});
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    if (work) await rm(work, { recursive: true, force: true });
  });

  const lifeboatRestored = async (options: PostgresRestoreOptions = {}) => {
    const target = uniqueName('t17ts_lb');
    databases.push(target);
    const warnings: { code: string; message: string }[] = [];
    const collect = (w: { code: string; message: string }) => warnings.push(w);
    backup.engine.events.on('warning', collect);
    try {
      await backup.engine.restore('latest', { postgres: { targetDatabase: target, ...options } });
    } finally {
      backup.engine.events.off('warning', collect);
    }
    return { target, warnings };
  };

  /** restore.psql into a database made by hand, as its header says. */
  const psqlRestored = (vars: string[], createOptions = '') => {
    const target = uniqueName('t17ts_psql');
    databases.push(target);
    run(
      'psql',
      [
        '-X',
        '-q',
        '-d',
        'postgres',
        '-c',
        `CREATE DATABASE ${target} TEMPLATE template0 ${createOptions}`,
      ],
      server,
    );
    const { stderr } = psqlAs(
      server,
      { name: server.user, password: server.password ?? '' },
      target,
      [...vars.flatMap((v) => ['-v', v]), '-f', 'database/restore.psql'],
      folder,
    );
    return { target, stderr };
  };

  it('the backup records the tablespaces; a restore puts every object where it lay', async () => {
    const expected = await placement(server, source);
    // The fixture is what it means to be: objects in A, in B and in the database's default (B).
    expect(expected).toMatchObject({
      t1: A,
      t1_pkey: '',
      t1_v: A,
      t2: '',
      t2_pk: A,
      t2_w: '',
      t3: 'pg_default',
      mv: A,
      mv_id: A,
      p: A,
      p1: A,
      p2: 'pg_default',
      p3: '',
      q: '',
      q1: A,
      q_id: '',
      q1_id_idx: A,
      p_id: A,
    });
    const { target, warnings } = await lifeboatRestored();
    expect(warnings).toEqual([]);
    expect(await databaseTablespace(server, target)).toBe(B);
    expect(await placement(server, target)).toEqual(expected);
    if (is15) expect(schemaDump(server, target)).toEqual(schemaDump(server, source));
    // psql alone, into a database created as the script's header says (TABLESPACE = B).
    const byPsql = psqlRestored([], `TABLESPACE ${B}`);
    expect(byPsql.stderr).not.toMatch(/TABLESPACE_MISSING/);
    expect(await placement(server, byPsql.target)).toEqual(expected);
    if (is15) expect(schemaDump(server, byPsql.target)).toEqual(schemaDump(server, source));
  }, 180_000);

  it('--no-tablespaces puts everything in the default tablespace, as pg_restore --no-tablespaces', async () => {
    const { target, warnings } = await lifeboatRestored({ noTablespaces: true });
    expect(warnings).toEqual([]);
    expect(await databaseTablespace(server, target)).toBe('pg_default');
    const rels = await placement(server, target);
    expect(new Set(Object.values(rels))).toEqual(new Set(['']));
    const byPsql = psqlRestored(['no_tablespaces=1']);
    expect(new Set(Object.values(await placement(server, byPsql.target)))).toEqual(new Set(['']));
    if (!is15) return;
    const file = join(work, 'src.dump');
    run('pg_dump', ['-Fc', '-f', file, source], server);
    const judge = uniqueName('t17ts_pg');
    databases.push(judge);
    run('createdb', ['-T', 'template0', judge], server);
    run('pg_restore', ['-d', judge, '--exit-on-error', '--no-tablespaces', file], server);
    expect(schemaDump(server, target)).toEqual(schemaDump(server, judge));
    expect(schemaDump(server, byPsql.target)).toEqual(schemaDump(server, judge));
  }, 180_000);

  it('--tablespace-map moves a tablespace; a missing one is TABLESPACE_MISSING and the restore goes on', async () => {
    const source0 = await placement(server, source);
    const moved = Object.fromEntries(
      Object.entries(source0).map(([rel, ts]) => [rel, ts === A ? 'pg_default' : ts]),
    );
    // Into the database's default B: what lay in A goes to pg_default.
    const mapped = await lifeboatRestored({ tablespaceMap: { [A]: 'pg_default' } });
    expect(mapped.warnings).toEqual([]);
    expect(await placement(server, mapped.target)).toEqual(moved);
    const byPsql = psqlRestored([`tablespace_map=${A}=pg_default`], `TABLESPACE ${B}`);
    expect(await placement(server, byPsql.target)).toEqual(moved);

    // A does not exist on the "target": mapped to a name the server lacks.
    const gone = Object.fromEntries(
      Object.entries(source0).map(([rel, ts]) => [rel, ts === A ? '' : ts]),
    );
    const missing = await lifeboatRestored({ tablespaceMap: { [A]: GONE } });
    expect(missing.warnings.map((w) => w.code)).toEqual(['TABLESPACE_MISSING']);
    expect(missing.warnings[0]!.message).toContain(GONE);
    expect(missing.warnings[0]!.message).toContain('--tablespace-map');
    expect(await placement(server, missing.target)).toEqual(gone);
    const rows = await sql<{ n: number }>(
      server,
      missing.target,
      'SELECT count(*)::int AS n FROM public.t1',
    );
    expect(rows[0]!.n).toBe(50);
    const psqlMissing = psqlRestored([`tablespace_map=${A}=${GONE}`], `TABLESPACE ${B}`);
    expect(psqlMissing.stderr.match(/TABLESPACE_MISSING/g)).toHaveLength(1);
    expect(psqlMissing.stderr).toContain(GONE);
    expect(await placement(server, psqlMissing.target)).toEqual(gone);
  }, 180_000);
});
