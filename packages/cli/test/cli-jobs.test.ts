import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createDatabase,
  embeddedServer,
  sql,
  trackDatabase,
  uniqueName,
} from '@lifeboat/test-support/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

/**
 * `-j, --jobs` and BACKUP_JOBS set how many connections a backup and a restore use. Counted by
 * the server itself: pg_stat_database.sessions of the database, read from another database.
 */
const server = embeddedServer;
let db: string;
let work: string;
let env: Record<string, string>;

const sessions = async (database: string) =>
  Number(
    (
      await sql<{ n: string | null }>(
        server,
        'postgres',
        'SELECT sessions AS n FROM pg_stat_database WHERE datname = $1',
        [database],
      )
    )[0]?.n ?? 0,
  );

/** Sessions are counted when their backends flush statistics, just after they end. */
async function settledSessions(database: string, above: number): Promise<number> {
  let last = -1;
  for (let i = 0; i < 50; i++) {
    const n = await sessions(database);
    if (n > above && n === last) return n;
    last = n;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the session count of ${database} did not settle (last ${last})`);
}

beforeAll(async () => {
  await server.start();
  db = await createDatabase(server, 'clijobs');
  await sql(
    server,
    db,
    `CREATE TABLE a (id int PRIMARY KEY, body text);
     CREATE TABLE b (id int PRIMARY KEY, body text);
     CREATE TABLE c (id int PRIMARY KEY, body text);
     CREATE TABLE d (id int PRIMARY KEY, body text);
     INSERT INTO a SELECT g, md5(g::text) FROM generate_series(1, 5000) g;
     INSERT INTO b SELECT * FROM a; INSERT INTO c SELECT * FROM a; INSERT INTO d SELECT * FROM a;`,
  );
  work = await fs.mkdtemp(join(tmpdir(), 'lifeboat-clijobs-'));
  env = {
    DATABASE_URL: `postgres://postgres:${encodeURIComponent(server.password!)}@127.0.0.1:${server.port}/${db}`,
    BACKUP_DIR: join(work, 'backups'),
  };
});
afterAll(async () => {
  if (work) await fs.rm(work, { recursive: true, force: true });
});

describe('-j, --jobs and BACKUP_JOBS', () => {
  it('a backup opens two more connections with --jobs 3 than with --jobs 1', async () => {
    const used: number[] = [];
    for (const args of [
      ['--jobs', '1'],
      ['-j', '3'],
    ]) {
      const before = await settledSessions(db, -1);
      const result = await runCli([...args, 'backup', '--json'], env);
      expect(result.code, result.stderr).toBe(0);
      used.push((await settledSessions(db, before)) - before);
    }
    expect(used[1]! - used[0]!).toBe(2);
  });

  it('a restore into a new database loads it over exactly BACKUP_JOBS connections, or --jobs', async () => {
    for (const [jobs, extraEnv, args] of [
      [1, { BACKUP_JOBS: '1' }, []],
      [3, { BACKUP_JOBS: '1' }, ['--jobs', '3']],
      [4, { BACKUP_JOBS: '4' }, []],
    ] as const) {
      const target = uniqueName('clijobs_r');
      trackDatabase(server, target);
      const result = await runCli(
        [...args, 'restore', 'latest', '--only', 'database', '--target-database', target, '--json'],
        { ...env, ...extraEnv },
      );
      expect(result.code, result.stderr).toBe(0);
      expect(await settledSessions(target, 0)).toBe(jobs);
      const rows = await sql<{ n: string }>(server, target, 'SELECT count(*) AS n FROM d');
      expect(Number(rows[0]!.n)).toBe(5000);
    }
  });

  it('refuses a number of jobs it cannot use, naming the setting (a usage error: exit 2, nothing stored)', async () => {
    for (const [args, extraEnv, named] of [
      [['--jobs', '0', 'backup'], {}, '--jobs'],
      [['-j', 'many', 'backup'], {}, '--jobs'],
      [['backup'], { BACKUP_JOBS: '33' }, 'BACKUP_JOBS'],
    ] as const) {
      const before = await fs.readdir(env.BACKUP_DIR!);
      const result = await runCli([...args, '--json'], { ...env, ...extraEnv });
      expect(result.code).toBe(2);
      // Named as the user gave it.
      expect(result.stdout).toContain(named);
      expect(result.stdout).toMatch(/CONFIG_INVALID/);
      expect(await fs.readdir(env.BACKUP_DIR!)).toEqual(before);
    }
  });
});
