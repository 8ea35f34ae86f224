import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, embeddedServer, servers, sql } from '@lifeboat/test-support/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

/** Settings as a user gives them: relative paths, libpq's variables, mistakes. */
const server = servers[0]!;
let db: string;
let work: string;
beforeAll(async () => {
  await server.start();
  db = await createDatabase(server, 'config');
  await sql(server, db, 'CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 100);');
  work = await fs.mkdtemp(join(tmpdir(), 'lifeboat-config-'));
  await fs.mkdir(join(work, 'ssl'));
  await fs.writeFile(join(work, 'ssl', 'server.key'), 'key\n', { mode: 0o600 });
  await fs.writeFile(join(work, '.env.production'), 'A=1\n');
}, 120_000);
afterAll(async () => {
  if (work) await fs.rm(work, { recursive: true, force: true });
});

const auth = (s: typeof server) => (s.password ? `:${encodeURIComponent(s.password)}` : '');
const urlOf = (s: typeof server, database: string) =>
  `postgres://${s.user}${auth(s)}@${s.host}:${s.port}/${database}`;

describe('relative paths', () => {
  it('resolve against the directory the user ran from (INIT_CWD under pnpm)', async () => {
    const r = await runCli(
      ['backup', '--json'],
      {
        INIT_CWD: work,
        BACKUP_DIR: 'backups',
        CONFIG_FILES: '.env.production,?nginx.local.conf',
        SSL_DIR: './ssl',
        LOG_FILE: 'logs/lifeboat.log',
      },
      // pnpm runs the script from the workspace root, not from the user's folder.
      { cwd: tmpdir() },
    );
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    await expect(fs.stat(join(work, 'backups', doc.file))).resolves.toBeTruthy();
    await expect(fs.stat(join(work, 'logs', 'lifeboat.log'))).resolves.toBeTruthy();
    // The optional file is missing: a warning, not a failure.
    expect(r.stderr).toMatch(/warning FILE_MISSING: .*nginx\.local\.conf/);
    const files = (
      await runCli(['verify', doc.id, '--json'], { BACKUP_DIR: join(work, 'backups') })
    ).stdout;
    expect(JSON.parse(files).ok).toBe(true);
    expect(doc.files).toBe(2); // .env.production and ssl/server.key
  });
});

describe('missing config files', () => {
  it('are all found before the database is dumped', async () => {
    const r = await runCli(['backup'], {
      DATABASE_URL: urlOf(server, db),
      BACKUP_DIR: join(work, 'early'),
      CONFIG_FILES: `${join(work, 'nope.conf')},${join(work, '.env.production')},${join(work, 'gone.conf')}`,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error FILE_MISSING: .*nope\.conf.*gone\.conf/);
    // Not a row was copied: the plain progress lines name each table as it is done.
    expect(r.stderr).not.toMatch(/table public\.t/);
  });
});

describe('errors name what the user set', () => {
  it('a flag by its flag, a variable by its name, a config key in its file, all at once', async () => {
    const flag = await runCli(['--jobs', '0', 'list'], { BACKUP_DIR: join(work, 'b') });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('--jobs must be a number of connections from 1 to 32');

    const config = join(work, 'lifeboat.config.json');
    await fs.writeFile(
      config,
      JSON.stringify({ backupDir: join(work, 'b'), retentionDays: 0, smtpPort: 'x', colour: 1 }),
    );
    const file = await runCli(['--config', config, 'backup'], { CONFIG_FILES: config });
    expect(file.code).toBe(2);
    expect(file.stderr).toContain('unknown setting "colour"');
    expect(file.stderr).toContain('"retentionDays" in');
    expect(file.stderr).toContain('"smtpPort" in');
    expect(file.stderr).not.toMatch(/retention\.days|"code":|\[\s*\{/);

    const zero = await runCli(['backup'], { BACKUP_RETENTION_DAYS: '0', CONFIG_FILES: config });
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain('BACKUP_RETENTION_DAYS must be 1 or more');
    expect(zero.stderr).not.toMatch(/retention\.days|"origin"/);
  });

  it('a bad retention setting does not stop list, status, verify or restore', async () => {
    const dir = join(work, 'retention');
    const made = await runCli(['backup'], {
      BACKUP_DIR: dir,
      CONFIG_FILES: join(work, '.env.production'),
    });
    expect(made.code, made.stderr).toBe(0);
    const env = { BACKUP_DIR: dir, BACKUP_RETENTION_DAYS: 'thirty' };
    for (const args of [['list'], ['status'], ['verify']]) {
      const r = await runCli(args, env);
      expect(r.code, `${args}: ${r.stdout} ${r.stderr}`).toBe(0);
      expect(r.stderr).toMatch(/warning SETTING_IGNORED: BACKUP_RETENTION_DAYS/);
    }
    const restore = await runCli(
      ['restore', 'latest', '--only', 'config', '--config-dir', join(work, 'restored')],
      { ...env, CONFIG_FILES: join(work, '.env.production') },
    );
    expect(restore.code, restore.stderr).toBe(0);
    const backup = await runCli(['backup'], {
      ...env,
      CONFIG_FILES: join(work, '.env.production'),
    });
    expect(backup.code).toBe(2);
    expect(backup.stderr).toContain('BACKUP_RETENTION_DAYS');
  });
});

describe("libpq's variables", () => {
  it('PGHOST, PGPORT, PGUSER, PGDATABASE and PGPASSFILE when DATABASE_URL/POSTGRES_* are unset', async () => {
    await embeddedServer.start();
    const pgdb = await createDatabase(embeddedServer, 'libpq');
    await sql(
      embeddedServer,
      pgdb,
      'CREATE TABLE libpq_t (id int); INSERT INTO libpq_t VALUES (1);',
    );
    const passfile = join(work, 'pgpass');
    await fs.writeFile(
      passfile,
      `${embeddedServer.host}:${embeddedServer.port}:*:${embeddedServer.user}:${embeddedServer.password}\n`,
      { mode: 0o600 },
    );
    const r = await runCli(['backup', '--json'], {
      PGHOST: embeddedServer.host,
      PGPORT: String(embeddedServer.port),
      PGUSER: embeddedServer.user,
      PGDATABASE: pgdb,
      PGPASSFILE: passfile,
      BACKUP_DIR: join(work, 'libpq'),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).tables).toContainEqual(
      expect.objectContaining({ name: 'public.libpq_t', rows: 1 }),
    );
    expect(`${r.stdout}${r.stderr}`).not.toContain(embeddedServer.password!);

    const bad = await runCli(['list'], { PGPORT: 'five', BACKUP_DIR: join(work, 'libpq') });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('PGPORT');
  }, 120_000);

  it('health with nothing to check is a WARNING, not OK; --alert without a notifier says so', async () => {
    const r = await runCli(['health', '--alert'], {
      BACKUP_DIR: join(work, 'libpq'),
      HEALTH_MIN_FREE_BYTES: '1',
    });
    expect(r.code).toBeGreaterThanOrEqual(1);
    expect(r.stdout).toMatch(/database\s+WARNING\s+nothing configured to back up/);
    expect(r.stderr).toContain('no notifier is configured');
  });

  it('each health check keeps its name whatever its outcome: database up and down, mail up and down', async () => {
    const names = async (url: string, smtpPort: number) => {
      const r = await runCli(['health', '--json'], {
        DATABASE_URL: url,
        BACKUP_DIR: join(work, 'libpq'),
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: String(smtpPort),
        ADMIN_EMAIL: 'ops@example.com',
        HEALTH_MIN_FREE_BYTES: '1',
      });
      const report = JSON.parse(r.stdout) as { checks: { name: string; status: string }[] };
      return report.checks.map((c) => `${c.name} ${c.status === 'ok' ? 'ok' : 'failed'}`);
    };
    // Nothing listens on port 1: the database and the mail server are down.
    const down = await names(`postgres://postgres@127.0.0.1:1/${db}`, 1);
    expect(down).toContain('database failed');
    expect(down).toContain('mail failed');
    const up = await names(urlOf(server, db), 1);
    expect(up).toContain('database ok');
    // The same names, only the outcome differs (before: `postgres` when the database was down).
    const checkNames = (list: string[]) => list.map((l) => l.split(' ')[0]).sort();
    expect(checkNames(down)).toEqual(checkNames(up));
  }, 60_000);
});
