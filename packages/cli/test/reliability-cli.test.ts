import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLock } from '@lifeboat/core';
import { localStorage } from '@lifeboat/storage-local';
import {
  createDatabase,
  embeddedServer,
  sql,
  trackDatabase,
} from '@lifeboat/test-support/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, runCli } from './run-cli.js';

/** The built CLI against a real PostgreSQL (embedded, password auth) and a real folder. */
const server = embeddedServer;
let db: string;
let work: string;
let env: Record<string, string>;

const count = async (database: string, table: string) =>
  Number((await sql<{ n: string }>(server, database, `SELECT count(*) AS n FROM ${table}`))[0]!.n);
const databases = async () =>
  (await sql<{ datname: string }>(server, 'postgres', 'SELECT datname FROM pg_database')).map(
    (r) => r.datname,
  );

beforeAll(async () => {
  await server.start();
  db = await createDatabase(server, 'clirel');
  await sql(
    server,
    db,
    `CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL);
     INSERT INTO users (email) SELECT 'u' || g || '@example.com' FROM generate_series(1, 300) g;
     CREATE TABLE "we""ird; DROP TABLE users; --" (id int PRIMARY KEY);
     INSERT INTO "we""ird; DROP TABLE users; --" VALUES (1), (2), (3);
     CREATE TABLE big (id int PRIMARY KEY, body text);
     INSERT INTO big SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 200000) g;`,
  );
  work = await fs.mkdtemp(join(tmpdir(), 'lifeboat-clirel-'));
  env = {
    DATABASE_URL: `postgres://postgres:${encodeURIComponent(server.password!)}@127.0.0.1:${server.port}/${db}`,
    BACKUP_DIR: join(work, 'backups'),
    HEALTH_MIN_FREE_BYTES: '1',
  };
});
afterAll(async () => {
  if (work) await fs.rm(work, { recursive: true, force: true });
});

describe('backup and prune in two processes at once', () => {
  it('one runs; the other says LOCKED (exit 1, code LOCKED in --json); afterwards both work', async () => {
    // This test process holds the run lock, as a long backup in another process would: every
    // command that needs it must say LOCKED, deterministically, however fast the machine is.
    const storage = localStorage({ dir: env.BACKUP_DIR! });
    await storage.connect();
    const held = await acquireLock(storage, { waitMs: 0, staleMs: 60_000, operation: 'backup' });
    const lock = join(env.BACKUP_DIR!, '.lifeboat', 'lock');
    expect(existsSync(lock)).toBe(true);
    try {
      const [prune, second, prunePlain] = await Promise.all([
        runCli(['prune', '--json'], env),
        runCli(['backup', '--json'], env),
        runCli(['prune'], env),
      ]);
      for (const r of [prune, second]) {
        expect(r.code).toBe(1);
        const doc = JSON.parse(r.stdout);
        expect(doc.ok).toBe(false);
        expect(doc.error.code).toBe('LOCKED');
        expect(doc.error.retryable).toBe(true);
        expect(doc.error.message).toMatch(/Another backup .* holds the lock/);
      }
      expect(prunePlain.code).toBe(1);
      expect(prunePlain.stderr).toContain('LOCKED');
      // The dry run reads only and takes no lock: it works meanwhile.
      expect((await runCli(['prune', '--dry-run', '--json'], env)).code).toBe(0);
      expect(JSON.parse((await runCli(['list', '--json'], env)).stdout)).toEqual([]);
    } finally {
      await held.release();
    }
    // Released: both work, and nothing was half done by the refused runs.
    const backup = await runCli(['backup', '--json'], env);
    expect(backup.code, backup.stderr).toBe(0);
    const result = JSON.parse(backup.stdout);
    expect(result.tables).toContainEqual({
      name: 'public.big',
      rows: 200000,
      bytes: expect.any(Number),
    });
    const list = JSON.parse((await runCli(['list', '--json'], env)).stdout);
    expect(list.map((a: { file: string }) => a.file)).toEqual([result.file]);
    expect(existsSync(lock)).toBe(false);
    expect((await runCli(['prune', '--json'], env)).code).toBe(0);
  });
});

describe('the restore drill: verify random --deep', () => {
  it('picks a recent archive, records the result in the history, and status shows it', async () => {
    const second = await runCli(['backup', '--json'], env);
    expect(second.code, second.stderr).toBe(0);
    const recent = JSON.parse((await runCli(['list', '--json'], env)).stdout).map(
      (a: { id: string }) => a.id,
    );
    expect(recent.length).toBeGreaterThanOrEqual(2);
    // An old archive (2020) that is garbage: `random` picks only among the last 30 days.
    await fs.writeFile(join(env.BACKUP_DIR!, 'critical_backup_20200101_000000.tar.gz'), 'junk', {
      mode: 0o600,
    });
    const picked = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const r = await runCli(['verify', 'random', '--json'], env);
      expect(r.code, r.stdout).toBe(0);
      picked.add(JSON.parse(r.stdout).id);
    }
    expect([...picked].every((id) => recent.includes(id))).toBe(true);

    const deep = await runCli(['verify', 'random', '--deep', '--json'], env);
    expect(deep.code, deep.stderr).toBe(0);
    const v = JSON.parse(deep.stdout);
    expect(v).toMatchObject({ ok: true, deep: true, problems: [] });
    expect(recent).toContain(v.id);

    const history = join(env.BACKUP_DIR!, '.lifeboat', 'history');
    const records = await Promise.all(
      (await fs.readdir(history)).map(async (n) =>
        JSON.parse(await fs.readFile(join(history, n), 'utf8')),
      ),
    );
    expect(records).toContainEqual(
      expect.objectContaining({ kind: 'verify', id: v.id, deep: true, ok: true }),
    );

    const status = JSON.parse((await runCli(['status', '--json'], env)).stdout);
    expect(status.lastVerify).toMatchObject({ id: v.id, ok: true, deep: true });
    const plain = await runCli(['status'], env);
    expect(plain.stdout).toMatch(new RegExp(`last verify:\\s+${v.id} at .*: OK \\(deep\\)`));

    // A failed drill is recorded and shown too.
    const bad = await runCli(['verify', 'critical_backup_20200101_000000', '--json'], env);
    expect(bad.code).toBe(1);
    const after = JSON.parse((await runCli(['status', '--json'], env)).stdout);
    expect(after.lastVerify).toMatchObject({ id: 'critical_backup_20200101_000000', ok: false });
    await fs.rm(join(env.BACKUP_DIR!, 'critical_backup_20200101_000000.tar.gz'));
  });
});

describe('names that try SQL injection are quoted or refused, and nothing else is dropped', () => {
  const intact = async () => {
    expect(await databases()).toContain('postgres');
    expect(await databases()).toContain(db);
    expect(await count(db, 'users')).toBe(300);
  };

  it('--target-database with a quote and a DROP is one (quoted) database name', async () => {
    const name = 'x"; DROP DATABASE postgres; --';
    trackDatabase(server, `"${name.replaceAll('"', '""')}"`);
    const r = await runCli(['restore', 'latest', '--target-database', name, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(await databases()).toContain(name);
    expect(await count(`${name}`, 'users')).toBe(300);
    await intact();
    await sql(server, 'postgres', `DROP DATABASE "${name.replaceAll('"', '""')}" WITH (FORCE)`);
  });

  it('--tables and BACKUP_TABLES with quotes and semicolons are matched as names, never run', async () => {
    const restore: CliResult = await runCli(
      ['restore', 'latest', '--in-place', '--tables', 'users"; DROP TABLE users; --', '--json'],
      env,
    );
    expect(restore.code).toBe(1);
    const e = JSON.parse(restore.stdout).error;
    expect(e.code).toBe('TABLE_NOT_FOUND');
    expect(e.message).toContain('users"; DROP TABLE users; --');
    await intact();

    const before = (await fs.readdir(env.BACKUP_DIR!)).filter((n) => n.endsWith('.tar.gz'));
    const backup = await runCli(['backup', '--json'], {
      ...env,
      BACKUP_TABLES: "users'; DROP TABLE users; --",
    });
    expect(backup.code).toBe(1);
    expect(JSON.parse(backup.stdout).error.code).toBe('TABLE_NOT_FOUND');
    expect((await fs.readdir(env.BACKUP_DIR!)).filter((n) => n.endsWith('.tar.gz'))).toEqual(
      before,
    );
    await intact();

    // A table that really has such a name is backed up and restored side by side, quoted.
    const weird = 'we"ird; DROP TABLE users; --';
    const only = await runCli(['backup', '--json'], { ...env, BACKUP_TABLES: weird });
    expect(only.code, only.stderr).toBe(0);
    expect(JSON.parse(only.stdout).tables).toEqual([
      { name: `public.${weird}`, rows: 3, bytes: expect.any(Number) },
    ]);
    const side = await runCli(
      [
        'restore',
        'latest',
        '--in-place',
        '--tables',
        weird,
        '--as-suffix',
        '"; DROP TABLE users; --',
        '--json',
      ],
      env,
    );
    expect(side.code, side.stderr).toBe(0);
    expect(await count(db, `"${`${weird}"; DROP TABLE users; --`.replaceAll('"', '""')}"`)).toBe(3);
    await intact();
  });
});
