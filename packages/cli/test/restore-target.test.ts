import { spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createDatabase,
  servers,
  sql,
  trackDatabase,
  uniqueName,
} from '@lifeboat/test-support/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from './run-cli.js';

/** The built CLI against a real PostgreSQL, a real backup folder and real config files. */
const server = servers[0]!;
let db: string;
let work: string;
let env: Record<string, string>;
let url: string;

const emails = async (database: string) =>
  (await sql<{ email: string }>(server, database, 'SELECT email FROM users ORDER BY id')).map(
    (r) => r.email,
  );
const databaseExists = async (name: string) =>
  (await sql(server, 'postgres', 'SELECT 1 FROM pg_database WHERE datname = $1', [name])).length >
  0;
const firstLine = (text: string) => text.split('\n')[0] ?? '';

beforeAll(async () => {
  await server.start();
  db = await createDatabase(server, 'clitarget');
  await sql(
    server,
    db,
    `CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL);
     INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 20) g;`,
  );
  work = await fs.mkdtemp(join(tmpdir(), 'lifeboat-clitarget-'));
  await fs.writeFile(join(work, 'app.env'), 'LIVE=1\n');
  const password = server.password ? `:${encodeURIComponent(server.password)}` : '';
  url = `postgres://${server.user}${password}@${server.host}:${server.port}/${db}`;
  env = {
    DATABASE_URL: url,
    BACKUP_DIR: join(work, 'backups'),
    CONFIG_FILES: join(work, 'app.env'),
  };
  const backup = await runCli(['backup', '--json'], env);
  expect(backup.code, backup.stderr).toBe(0);
  // Production moves on after the backup: every refused restore must leave this as it is.
  await sql(server, db, "UPDATE users SET email = 'live' WHERE id = 1");
}, 120_000);
afterAll(async () => {
  if (work) await fs.rm(work, { recursive: true, force: true });
});

describe('a database restore writes only where it is told', () => {
  it('refuses without a target, naming the configured database, not suggesting --clean', async () => {
    for (const args of [
      ['restore', 'latest', '--clean', '--json'],
      ['restore', 'latest', '--json'],
      ['restore', 'latest', '--tables', 'users', '--json'],
    ]) {
      const r = await runCli(args, env);
      expect(r.code, args.join(' ')).toBe(1);
      const { error } = JSON.parse(r.stdout);
      expect(error.code).toBe('TARGET_REQUIRED');
      expect(error.message).toContain(`${server.host}:${server.port}/${db}`);
      expect(`${error.message} ${error.hint}`).not.toContain('--clean');
      expect(error.hint).toContain('--in-place');
      expect(r.stdout + r.stderr).not.toContain(server.password ?? '\0');
    }
    expect((await emails(db))[0]).toBe('live');
    expect(await fs.readFile(join(work, 'app.env'), 'utf8')).toBe('LIVE=1\n');
  });

  it('in place into a non-empty database: refused without --clean, and --clean needs --yes off a terminal', async () => {
    const plain = await runCli(['restore', 'latest', '--in-place', '--only', 'database'], env);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain('TARGET_NOT_EMPTY');
    expect(plain.stderr).toContain('public.users');
    expect(plain.stderr).not.toMatch(/→ Pass --clean/);

    const clean = await runCli(
      ['restore', 'latest', '--in-place', '--clean', '--only', 'database'],
      env,
    );
    expect(clean.code).toBe(1);
    // The first line names the target, without its password.
    expect(firstLine(clean.stderr)).toContain(
      `→ postgres://${server.user}@${server.host}:${server.port}/${db}`,
    );
    expect(firstLine(clean.stderr)).toContain('in place');
    expect(clean.stderr).toContain('CONFIRMATION_REQUIRED');
    expect(clean.stderr).toContain('--yes');
    expect((await emails(db))[0]).toBe('live');
    expect(await fs.readFile(join(work, 'app.env'), 'utf8')).toBe('LIVE=1\n');

    const yes = await runCli(
      [
        'restore',
        'latest',
        '--target-database',
        db,
        '--clean',
        '--yes',
        '--only',
        'database',
        '--json',
      ],
      env,
    );
    expect(yes.code, yes.stderr).toBe(0);
    expect(firstLine(yes.stderr)).toContain(`/${db} (in place`);
    const doc = JSON.parse(yes.stdout);
    expect(doc.targets).toMatchObject([{ section: 'database', inPlace: true }]);
    expect(doc.sections.map((s: { section: string }) => s.section)).toEqual(['database']);
    expect((await emails(db))[0]).toBe('u1');
    await sql(server, db, "UPDATE users SET email = 'live' WHERE id = 1");
  });

  it('on a terminal, --clean asks for the database name to be typed', async () => {
    const hasScript = await new Promise<boolean>((resolve) => {
      const c = spawn('script', ['--version'], { stdio: 'ignore' });
      c.on('error', () => resolve(false));
      c.on('close', (code) => resolve(code === 0));
    });
    if (!hasScript) return;
    const inTerminal = (answer: string) =>
      new Promise<{ code: number; out: string }>((resolve, reject) => {
        const command = [process.execPath, BIN, 'restore', 'latest', '--in-place', '--clean']
          .concat(['--only', 'database'])
          .map((a) => `'${a}'`)
          .join(' ');
        const child = spawn('script', ['-qfec', command, '/dev/null'], {
          env: {
            PATH: process.env.PATH ?? '',
            HOME: process.env.HOME ?? '/tmp',
            TERM: 'xterm',
            ...env,
          },
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
          if (String(d).includes('to go on')) child.stdin.write(`${answer}\n`);
        });
        child.on('error', reject);
        child.on('close', (code) => resolve({ code: code ?? -1, out }));
      });
    const wrong = await inTerminal('yes');
    expect(wrong.out).toContain(`Type "${db}" to go on`);
    expect(wrong.out).toContain('CONFIRMATION_REQUIRED');
    expect(wrong.code).not.toBe(0);
    expect((await emails(db))[0]).toBe('live');
    const right = await inTerminal(db);
    expect(right.code, right.out).toBe(0);
    expect((await emails(db))[0]).toBe('u1');
    await sql(server, db, "UPDATE users SET email = 'live' WHERE id = 1");
  }, 120_000);

  it('the emergency: the database was lost, one command restores it in place', async () => {
    const lost = await createDatabase(server, 'clilost');
    await sql(
      server,
      lost,
      'CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL); INSERT INTO users VALUES (1, $$x$$)',
    );
    const lostEnv = {
      ...env,
      DATABASE_URL: url.replace(`/${db}`, `/${lost}`),
      BACKUP_DIR: join(work, 'lost'),
    };
    expect((await runCli(['backup'], lostEnv)).code).toBe(0);
    await sql(server, 'postgres', `DROP DATABASE ${lost} WITH (FORCE)`);
    const r = await runCli(['restore', 'latest', '--in-place', '--only', 'database'], lostEnv);
    expect(r.code, r.stderr).toBe(0);
    expect(firstLine(r.stderr)).toContain(`/${lost} (in place`);
    expect(await emails(lost)).toEqual(['x']);
  });
});

describe('every precondition is checked before anything is written', () => {
  it('--tables restores the database section only: config files are not touched', async () => {
    const r = await runCli(
      [
        'restore',
        'latest',
        '--target-database',
        db,
        '--tables',
        'users',
        '--as-suffix',
        '_restored',
        '--json',
      ],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.sections.map((s: { section: string }) => s.section)).toEqual(['database']);
    expect(await emails(db)).toContain('live');
    expect((await sql(server, db, 'SELECT count(*)::int AS n FROM users_restored'))[0]!.n).toBe(20);
    expect(await fs.readFile(join(work, 'app.env'), 'utf8')).toBe('LIVE=1\n');
  });

  it('a config file in the way refuses the whole restore before the database is created', async () => {
    const target = uniqueName('clinew');
    trackDatabase(server, target);
    const r = await runCli(['restore', 'latest', '--target-database', target, '--json'], env);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.error.code).toBe('FILE_EXISTS');
    expect(doc.written).toEqual([]);
    expect(await databaseExists(target)).toBe(false);
    expect(await fs.readFile(join(work, 'app.env'), 'utf8')).toBe('LIVE=1\n');

    const ok = await runCli(
      ['restore', 'latest', '--target-database', target, '--overwrite', '--json'],
      env,
    );
    expect(ok.code, ok.stderr).toBe(0);
    expect(
      JSON.parse(ok.stdout)
        .sections.map((s: { section: string }) => s.section)
        .sort(),
    ).toEqual(['config', 'database']);
    expect(await emails(target)).toContain('u1');
    expect(await fs.readFile(join(work, 'app.env.bak'), 'utf8')).toBe('LIVE=1\n');
  });
});

describe('restore-time choices from the command line', () => {
  it('--no-owner, --no-acl and a filter file shape the restored database; a bad filter file exits before writing', async () => {
    const target = uniqueName('clichoice');
    trackDatabase(server, target);
    await fs.writeFile(
      join(work, 'choices.filter'),
      '# structure only\nexclude table_data public.users\n',
    );
    const r = await runCli(
      [
        'restore',
        'latest',
        '--only',
        'database',
        '--target-database',
        target,
        '--no-owner',
        '--no-acl',
        '--filter',
        join(work, 'choices.filter'),
        '--json',
      ],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    // The table is there, without its rows (a full restore would bring 20).
    expect(await emails(target)).toEqual([]);

    const missing = uniqueName('clichoice_bad');
    await fs.writeFile(join(work, 'bad.filter'), 'include everything\n');
    const bad = await runCli(
      [
        'restore',
        'latest',
        '--only',
        'database',
        '--target-database',
        missing,
        '--filter',
        join(work, 'bad.filter'),
        '--json',
      ],
      env,
    );
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout).error).toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('line 1'),
    });
    expect(await databaseExists(missing)).toBe(false);
  }, 120_000);

  it('--no-analyze leaves the planner statistics out; without it the restored tables are analysed (15) or imported (18)', async () => {
    const analysed = async (database: string) =>
      (
        await sql<{ stats: string }>(
          server,
          database,
          "SELECT count(*) AS stats FROM pg_stats WHERE schemaname = 'public' AND tablename = 'users'",
        )
      ).map((r) => Number(r.stats))[0];
    const runs: Record<string, number | undefined> = {};
    for (const flags of [['--no-analyze'], []]) {
      const target = uniqueName('clistats');
      trackDatabase(server, target);
      const r = await runCli(
        ['restore', 'latest', '--only', 'database', '--target-database', target, ...flags],
        env,
      );
      expect(r.code, r.stderr).toBe(0);
      runs[flags.join('') || 'default'] = await analysed(target);
    }
    // The source was never analysed: an 18 target imports nothing, a 15 one runs ANALYZE.
    expect(runs).toEqual({ '--no-analyze': 0, default: server.name.includes('15') ? 2 : 0 });
  }, 120_000);

  it('--schema-only makes empty tables, --data-only fills them; refused together or with --clean (exit 2)', async () => {
    const target = uniqueName('clisplit');
    trackDatabase(server, target);
    const into = ['restore', 'latest', '--only', 'database', '--target-database', target];
    const schema = await runCli([...into, '--schema-only', '--json'], env);
    expect(schema.code, schema.stderr).toBe(0);
    expect(await emails(target)).toEqual([]);
    const data = await runCli([...into, '--data-only', '--json'], env);
    expect(data.code, data.stderr).toBe(0);
    expect(await emails(target)).toHaveLength(20);
    expect((await emails(target))[0]).toBe('u1');
    // Again: the tables hold rows now, so it is refused before writing (not appended).
    const again = await runCli([...into, '--data-only', '--json'], env);
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stdout).error.code).toBe('TARGET_NOT_EMPTY');
    expect(await emails(target)).toHaveLength(20);
    for (const flags of [
      ['--schema-only', '--data-only'],
      ['--data-only', '--clean', '--yes'],
    ]) {
      const r = await runCli([...into, ...flags, '--json'], env);
      expect(r.code, flags.join(' ')).toBe(2);
      expect(JSON.parse(r.stdout).error.code).toBe('CONFIG_INVALID');
    }
  }, 120_000);
});
