import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineFor } from './support/engine.js';
import {
  createDatabase,
  servers,
  sql,
  type TestServer,
  trackDatabase,
  uniqueName,
} from './support/servers.js';

/**
 * Materialized views across --schema-only then --data-only, judged by pg_restore -s then -a on
 * the same database: pg_restore treats MATERIALIZED VIEW DATA (the REFRESH) as post-data, so -s
 * refreshes them over empty tables and -a leaves them so. Lifeboat does the same, and says which
 * views to refresh (MATVIEW_NOT_REFRESHED).
 */
const fixture = `
CREATE TABLE a (i int);
INSERT INTO a SELECT generate_series(1, 10);
CREATE MATERIALIZED VIEW m1 AS SELECT sum(i) AS s, count(*) AS n FROM a;
CREATE MATERIALIZED VIEW m2 AS SELECT s * 2 AS d FROM m1;
CREATE MATERIALIZED VIEW m3 AS SELECT count(*) AS c FROM a WITH NO DATA;
`;

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

// pg_dump and pg_restore here are 15: they judge on the local PostgreSQL 15.
const local = servers.filter((s) => s.name.includes('15'));

describe.each(local)('--data-only and materialized views on $name', (server) => {
  let source: string;
  let work: string;
  const databases: string[] = [];
  const owned = (name: string) => {
    trackDatabase(server, name);
    databases.push(name);
    return name;
  };

  beforeAll(async () => {
    await server.start();
    source = owned(await createDatabase(server, 'mv_src'));
    await sql(server, source, fixture);
    work = await mkdtemp(join(tmpdir(), 'lifeboat-mv-'));
  }, 120_000);
  afterAll(async () => {
    for (const name of databases)
      await sql(server, 'postgres', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** Each view's rows (or "not populated"), as the restore left them. */
  const views = async (database: string) => {
    const out: Record<string, unknown> = {};
    const rows = await sql<{ relname: string; relispopulated: boolean }>(
      server,
      database,
      "SELECT relname, relispopulated FROM pg_class WHERE relkind = 'm' ORDER BY relname",
    );
    for (const r of rows) {
      out[r.relname] = r.relispopulated
        ? await sql(server, database, `SELECT * FROM public.${r.relname}`)
        : 'not populated';
    }
    return out;
  };

  it('leaves them as pg_restore -s then -a does, and names the views to refresh', async () => {
    const backup = engineFor(server, source);
    await backup.engine.backup();
    const ours = owned(uniqueName('mv_ours'));
    await backup.engine.restore('latest', { postgres: { targetDatabase: ours, schemaOnly: true } });
    const warnings: string[] = [];
    backup.engine.events.on('warning', (w: { code: string; message: string }) =>
      warnings.push(`${w.code}: ${w.message}`),
    );
    await backup.engine.restore('latest', { postgres: { targetDatabase: ours, dataOnly: true } });

    const file = join(work, `${randomBytes(4).toString('hex')}.dump`);
    run('pg_dump', ['-Fc', '-f', file, source], server);
    const theirs = owned(uniqueName('mv_theirs'));
    run('createdb', ['-T', 'template0', theirs], server);
    run('pg_restore', ['-d', theirs, '--exit-on-error', '--schema-only', file], server);
    run('pg_restore', ['-d', theirs, '--exit-on-error', '--data-only', file], server);

    const [a, b] = await Promise.all([views(ours), views(theirs)]);
    expect(a).toEqual(b);
    // Over the empty tables of the schema restore: one row of nothing, not the source's sum.
    expect(a.m1).toEqual([{ s: null, n: '0' }]);
    expect(a.m3).toBe('not populated');
    const said = warnings.join('\n');
    expect(said).toContain('MATVIEW_NOT_REFRESHED');
    expect(said).toContain(
      'REFRESH MATERIALIZED VIEW "public"."m1"; REFRESH MATERIALIZED VIEW "public"."m2";',
    );
    expect(said).not.toContain('m3');
    // Refreshed as the warning says (in its order), the views hold the source's rows.
    const refresh = said.slice(said.indexOf('REFRESH MATERIALIZED'));
    await sql(server, ours, refresh);
    expect((await views(ours)).m2).toEqual(await sql(server, source, 'SELECT * FROM public.m2'));
  }, 120_000);
});
