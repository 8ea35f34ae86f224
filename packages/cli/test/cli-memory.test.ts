import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
import { BIN, runCli } from './run-cli.js';

/**
 * BACKUP_MEMORY_LIMIT / --memory-limit: under 128 MiB a backup and a restore use one connection
 * (counted by the server: pg_stat_database.sessions) and 2 MiB table entries (the manifest's
 * partBytes); a value that is no size, or too small, is a usage error naming the setting.
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

/** The database section's partBytes, read from the newest archive's manifest with tar. */
async function partBytes(dir: string): Promise<number> {
  const archives = (await fs.readdir(dir)).filter((f) => f.endsWith('.tar.gz')).sort();
  const manifest = JSON.parse(
    execFileSync('tar', ['-xzOf', join(dir, archives.at(-1)!), 'manifest.json'], {
      encoding: 'utf8',
    }),
  ) as { sources: { summary?: { partBytes?: number } }[] };
  return manifest.sources.find((s) => s.summary?.partBytes)!.summary!.partBytes!;
}

beforeAll(async () => {
  await server.start();
  db = await createDatabase(server, 'climem');
  await sql(
    server,
    db,
    `CREATE TABLE a (id int PRIMARY KEY, body text);
     CREATE TABLE b (id int PRIMARY KEY, body text);
     CREATE TABLE c (id int PRIMARY KEY, body text);
     INSERT INTO a SELECT g, md5(g::text) FROM generate_series(1, 5000) g;
     INSERT INTO b SELECT * FROM a; INSERT INTO c SELECT * FROM a;`,
  );
  work = await fs.mkdtemp(join(tmpdir(), 'lifeboat-climem-'));
  env = {
    DATABASE_URL: `postgres://postgres:${encodeURIComponent(server.password!)}@127.0.0.1:${server.port}/${db}`,
    BACKUP_DIR: join(work, 'backups'),
  };
});
afterAll(async () => {
  if (work) await fs.rm(work, { recursive: true, force: true });
});

describe('BACKUP_MEMORY_LIMIT and --memory-limit', () => {
  it('a backup under 64MiB uses one connection and 2 MiB entries; without it, two and 3 MiB', async () => {
    const used: number[] = [];
    const parts: number[] = [];
    for (const [args, extraEnv] of [
      [[], {}],
      [[], { BACKUP_MEMORY_LIMIT: '64MiB' }],
      [['--memory-limit', '100M'], {}],
    ] as const) {
      const before = await settledSessions(db, -1);
      const result = await runCli([...args, 'backup', '--json'], { ...env, ...extraEnv });
      expect(result.code, result.stderr).toBe(0);
      used.push((await settledSessions(db, before)) - before);
      parts.push(await partBytes(env.BACKUP_DIR!));
    }
    // The main connection, plus one worker by default.
    expect(used[0]! - used[1]!).toBe(1);
    expect(used[2]).toBe(used[1]);
    expect(parts).toEqual([3 * 1024 * 1024, 2 * 1024 * 1024, 2 * 1024 * 1024]);
  });

  it("a backup and a restore leave Node's fetch (undici, ~9 MiB) unloaded", async () => {
    // pg's Cloudflare probe constructed a Response at load time (tsup.config.ts: pg-node-only).
    const probe = join(work, 'modules.cjs');
    const out = join(work, 'modules.txt');
    await fs.writeFile(
      probe,
      `process.on('exit', () => require('fs').appendFileSync(${JSON.stringify(out)}, process.moduleLoadList.join('\\n') + '\\n'));`,
    );
    const target = uniqueName('climem_u');
    trackDatabase(server, target);
    for (const args of [
      ['backup', '--json'],
      ['restore', 'latest', '--only', 'database', '--target-database', target, '--json'],
    ]) {
      const result = await runCli(args, { ...env, NODE_OPTIONS: `--require ${probe}` });
      expect(result.code, result.stderr).toBe(0);
    }
    const loaded = await fs.readFile(out, 'utf8');
    expect(loaded).toContain('NativeModule net');
    expect(loaded).not.toContain('undici');
  });

  it('a restore under the limit loads over one connection, unless --jobs says otherwise', async () => {
    for (const [jobs, args] of [
      [1, []],
      [2, ['--jobs', '2']],
    ] as const) {
      const target = uniqueName('climem_r');
      trackDatabase(server, target);
      const result = await runCli(
        [...args, 'restore', 'latest', '--only', 'database', '--target-database', target, '--json'],
        { ...env, BACKUP_MEMORY_LIMIT: '64MiB' },
      );
      expect(result.code, result.stderr).toBe(0);
      expect(await settledSessions(target, 0)).toBe(jobs);
      const rows = await sql<{ n: string }>(server, target, 'SELECT count(*) AS n FROM c');
      expect(Number(rows[0]!.n)).toBe(5000);
    }
  });

  it('with a limit the command runs in a child with a fixed malloc threshold; without, in one process', async () => {
    // Each process of the run writes its pid, parent and allocator setting when it exits.
    const probe = join(work, 'malloc.cjs');
    const out = join(work, 'malloc.txt');
    await fs.writeFile(
      probe,
      `process.on('exit', () => require('fs').appendFileSync(${JSON.stringify(out)}, [process.pid, process.ppid, process.env.MALLOC_MMAP_THRESHOLD_ ?? '-', process.env.MALLOC_ARENA_MAX ?? '-'].join(' ') + '\\n'));`,
    );
    const runs: string[][][] = [];
    for (const extra of [{}, { BACKUP_MEMORY_LIMIT: '64MiB' }, { MEMORY_FLAG: '1' }] as Record<
      string,
      string
    >[]) {
      await fs.rm(out, { force: true });
      const flag = 'MEMORY_FLAG' in extra ? ['--memory-limit', '100M'] : [];
      const result = await runCli([...flag, 'list', '--json'], {
        ...env,
        ...extra,
        NODE_OPTIONS: `--require ${probe}`,
      });
      expect(result.code, result.stderr).toBe(0);
      expect(Array.isArray(JSON.parse(result.stdout))).toBe(true);
      runs.push(
        (await fs.readFile(out, 'utf8'))
          .trim()
          .split('\n')
          .map((l) => l.split(' ')),
      );
    }
    expect(runs[0]).toEqual([[expect.any(String), expect.any(String), '-', '-']]);
    for (const run of runs.slice(1)) {
      expect(run).toHaveLength(2);
      const [child, parent] = run as [string[], string[]];
      // The child ends first and names the waiting process as its parent.
      expect(child[1]).toBe(parent[0]);
      expect(child.slice(2)).toEqual(['131072', '2']);
      expect(parent.slice(2)).toEqual(['-', '-']);
    }
    // Set by the user: respected, and nothing is started twice.
    await fs.rm(out, { force: true });
    const own = await runCli(['list', '--json'], {
      ...env,
      BACKUP_MEMORY_LIMIT: '64MiB',
      MALLOC_ARENA_MAX: '4',
      NODE_OPTIONS: `--require ${probe}`,
    });
    expect(own.code, own.stderr).toBe(0);
    expect((await fs.readFile(out, 'utf8')).trim().split('\n')).toHaveLength(1);
  });

  it('under a limit, SIGTERM or Ctrl-C reaches the command once: it stops cleanly (143, 130)', async () => {
    for (const [signal, code, both] of [
      ['SIGTERM', 143, false],
      ['SIGINT', 130, true],
    ] as const) {
      const child = spawn(process.execPath, [BIN, 'run'], {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '/tmp',
          ...env,
          BACKUP_MEMORY_LIMIT: '64MiB',
          SCHEDULE: '0 2 * * *',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.stdout.on('data', () => {});
      const exited = new Promise<number | null>((resolve) =>
        child.on('close', (c, s) => resolve(c ?? (s ? -1 : null))),
      );
      // The command proper: the waiting process's child, once the scheduler says it is up.
      let command: number | undefined;
      for (let i = 0; i < 300 && !command; i++) {
        await new Promise((r) => setTimeout(r, 100));
        if (!/next run|schedul/i.test(stderr)) continue;
        const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim();
        command = kids ? Number(kids.split(/\s+/)[0]) : undefined;
      }
      expect(command, stderr).toBeGreaterThan(0);
      // Ctrl-C on a terminal: the whole group gets it, the command twice (once passed on).
      if (both) process.kill(command!, signal);
      child.kill(signal);
      expect(await exited, stderr).toBe(code);
      expect(stderr.trim().split('\n').at(-1)).toBe(
        `lifeboat: run cancelled by ${signal}: the schedule stopped; no backup was running`,
      );
    }
  }, 60_000);

  it('refuses a limit that is no size or too small, naming the setting (exit 2, nothing stored)', async () => {
    for (const [args, extraEnv, named] of [
      [['--memory-limit', 'lots', 'backup'], {}, '--memory-limit'],
      [['backup'], { BACKUP_MEMORY_LIMIT: '16MiB' }, 'BACKUP_MEMORY_LIMIT'],
      [['backup'], { BACKUP_MEMORY_LIMIT: '64 parsecs' }, 'BACKUP_MEMORY_LIMIT'],
    ] as const) {
      const before = await fs.readdir(env.BACKUP_DIR!);
      const result = await runCli([...args, '--json'], { ...env, ...extraEnv });
      expect(result.code).toBe(2);
      expect(result.stdout).toContain(named);
      expect(result.stdout).toMatch(/CONFIG_INVALID/);
      expect(await fs.readdir(env.BACKUP_DIR!)).toEqual(before);
    }
  });
});
