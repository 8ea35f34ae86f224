import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

let work: string;
let env: Record<string, string>;
beforeEach(async () => {
  work = await fs.mkdtemp(join(tmpdir(), 'lifeboat-cli-'));
  await fs.mkdir(join(work, 'app', 'ssl'), { recursive: true });
  await fs.writeFile(join(work, 'app', '.env.production'), 'SECRET=top-secret-value-123\n', {
    mode: 0o600,
  });
  await fs.writeFile(join(work, 'app', 'nginx.prod.conf'), 'server {}\n');
  await fs.writeFile(join(work, 'app', 'ssl', 'privkey.pem'), 'KEY\n', { mode: 0o600 });
  env = {
    BACKUP_DIR: join(work, 'backups'),
    CONFIG_FILES: `${join(work, 'app', '.env.production')},${join(work, 'app', 'nginx.prod.conf')}`,
    SSL_DIR: join(work, 'app', 'ssl'),
  };
});
afterEach(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

describe('lifeboat CLI with config files', () => {
  it('backup --json prints one JSON document with the contract fields; logs stay on stderr', async () => {
    const r = await runCli(['backup', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({
      id: expect.stringMatching(/^critical_backup_\d{8}_\d{6}$/),
      bytes: expect.any(Number),
      durationMs: expect.any(Number),
      tables: [],
    });
    expect(doc.file).toBe(`${doc.id}.tar.gz`);
    expect(doc.files).toBe(3);
    await expect(fs.stat(join(env.BACKUP_DIR!, doc.file))).resolves.toBeTruthy();
  });

  it('list, verify and restore --only config --config-dir work, with exit codes', async () => {
    const b = JSON.parse((await runCli(['backup', '--json'], env)).stdout);
    const list = await runCli(['list', '--json'], env);
    expect(list.code).toBe(0);
    const archives = JSON.parse(list.stdout);
    expect(archives).toHaveLength(1);
    expect(archives[0]).toMatchObject({
      id: b.id,
      file: b.file,
      bytes: b.bytes,
      createdAt: expect.any(String),
    });

    const verify = await runCli(['verify', b.file, '--json'], env);
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, problems: [] });

    const out = join(work, 'restored');
    const restore = await runCli(
      ['restore', 'latest', '--only', 'config', '--config-dir', out, '--json'],
      env,
    );
    expect(restore.code, restore.stderr).toBe(0);
    expect(await fs.readFile(join(out, '.env.production'), 'utf8')).toBe(
      'SECRET=top-secret-value-123\n',
    );
    expect((await fs.stat(join(out, 'ssl', 'privkey.pem'))).mode & 0o777).toBe(0o600);

    // A second restore into the same folder is refused (exit 1) and says how to proceed.
    const again = await runCli(['restore', 'latest', '--only', 'config', '--config-dir', out], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('FILE_EXISTS');
    expect(again.stderr).toContain('--overwrite');
  });

  it('verify exits 1 and names the problem for a damaged archive', async () => {
    const b = JSON.parse((await runCli(['backup', '--json'], env)).stdout);
    const path = join(env.BACKUP_DIR!, b.file);
    const bytes = await fs.readFile(path);
    await fs.chmod(path, 0o600);
    await fs.writeFile(path, bytes.subarray(0, bytes.length - 200));
    const r = await runCli(['verify', 'latest', '--json'], env);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.ok).toBe(false);
    expect(doc.problems[0].code).toMatch(/ARCHIVE_TRUNCATED|ARCHIVE_CORRUPT/);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it('a failed restore drill makes health CRITICAL and status say so (issue 14 item 14)', async () => {
    const b = JSON.parse((await runCli(['backup', '--json'], env)).stdout);
    const quiet = { ...env, HEALTH_MIN_FREE_BYTES: '1' };
    expect((await runCli(['health', '--json'], quiet)).code).toBe(0);
    const path = join(env.BACKUP_DIR!, b.file);
    const bytes = await fs.readFile(path);
    await fs.writeFile(path, bytes.subarray(0, bytes.length - 200));
    expect((await runCli(['verify', 'latest', '--deep', '--json'], env)).code).toBe(1);
    const health = await runCli(['health', '--json'], quiet);
    expect(health.code).toBe(2);
    expect(
      JSON.parse(health.stdout).checks.find((c: { name: string }) => c.name === 'restore-drill'),
    ).toMatchObject({ status: 'critical', details: { code: 'DRILL_FAILED' } });
    expect((await runCli(['status'], env)).stdout).toMatch(/drill: +DRILL_FAILED/);
    // The drill age limit is a setting like the others.
    const bad = await runCli(['health'], { ...quiet, HEALTH_MAX_DRILL_AGE_DAYS: 'a month' });
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain('HEALTH_MAX_DRILL_AGE_DAYS');
  });

  it('rejects an unknown config-file key by name, and a bad value by setting', async () => {
    const config = join(work, 'lifeboat.config.json');
    await fs.writeFile(config, JSON.stringify({ backupDir: env.BACKUP_DIR, retentionDayz: 7 }));
    const r = await runCli(['--config', config, 'list', '--json'], {});
    // A usage error (bad setting), not a failed operation: exit 2.
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error.code).toBe('CONFIG_INVALID');
    expect(r.stderr).toContain('retentionDayz');
    expect(r.stderr).toContain('retentionDays');

    const bad = await runCli(['backup'], { ...env, BACKUP_RETENTION_DAYS: 'thirty' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('BACKUP_RETENTION_DAYS');
  });

  it('flags win over env, env over the config file; NAME_FILE variants are read', async () => {
    const config = join(work, 'lifeboat.config.json');
    await fs.writeFile(
      config,
      JSON.stringify({
        backupDir: join(work, 'from-file'),
        backupPrefix: 'fromfile',
        configFiles: [join(work, 'app', 'nginx.prod.conf')],
      }),
    );
    const prefixFile = join(work, 'prefix.txt');
    await fs.writeFile(prefixFile, 'fromenvfile\n');
    const r = await runCli(['--config', config, 'backup', '--json'], {
      BACKUP_PREFIX_FILE: prefixFile,
    });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.id.startsWith('fromenvfile_')).toBe(true);
    await expect(fs.stat(join(work, 'from-file', doc.file))).resolves.toBeTruthy();
  });

  it('says what to set when nothing is configured', async () => {
    const r = await runCli(['backup'], { BACKUP_DIR: join(work, 'b') });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('DATABASE_URL');
    expect(r.stderr).toContain('CONFIG_FILES');
  });

  it('health exits 2 with no backup, 0 after one; status and report give JSON', async () => {
    const none = await runCli(['health', '--json'], { ...env, HEALTH_MIN_FREE_BYTES: '1' });
    expect(none.code).toBe(2);
    expect(JSON.parse(none.stdout).status).toBe('CRITICAL');
    await runCli(['backup', '--json'], env);
    const ok = await runCli(['health', '--json'], { ...env, HEALTH_MIN_FREE_BYTES: '1' });
    expect(ok.code, ok.stdout).toBe(0);
    const report = JSON.parse(ok.stdout);
    expect(report.status).toBe('OK');
    expect(report.checks.map((c: { name: string }) => c.name)).toEqual(
      expect.arrayContaining(['storage', 'free-space', 'last-backup']),
    );
    const status = JSON.parse((await runCli(['status', '--json'], env)).stdout);
    expect(status.archives.count).toBe(1);
    expect(status.successRate.rate).toBe(1);
    const trend = JSON.parse((await runCli(['report', '--days', '3', '--json'], env)).stdout);
    expect(trend).toHaveLength(3);
    expect(trend[2].runs).toBe(1);
  });

  it('prune --dry-run lists, prune deletes, never the newest', async () => {
    const dir = env.BACKUP_DIR!;
    await fs.mkdir(join(dir, '.lifeboat', 'index'), { recursive: true, mode: 0o700 });
    for (const d of ['20200101', '20200102']) {
      const file = `critical_backup_${d}_000000.tar.gz`;
      await fs.writeFile(join(dir, file), 'x', { mode: 0o600 });
      // The index record a backup leaves beside its archive: without it a file does not count.
      await fs.writeFile(join(dir, '.lifeboat', 'index', `${file}.json`), '{}', { mode: 0o600 });
    }
    // Another tool's file named in 2099: never the newest, never deleted (issue 14 item 8).
    const future = 'critical_backup_20990101_000000.tar.gz';
    await fs.writeFile(join(dir, future), 'x', { mode: 0o600 });
    const listed = await runCli(['list', '--json'], env);
    expect(listed.stderr).toContain('ARCHIVE_IN_FUTURE');
    expect(
      JSON.parse(listed.stdout).map((a: { id: string; untrusted?: { code: string } }) => [
        a.id,
        a.untrusted?.code ?? 'counted',
      ]),
    ).toEqual([
      ['critical_backup_20990101_000000', 'ARCHIVE_IN_FUTURE'],
      ['critical_backup_20200102_000000', 'counted'],
      ['critical_backup_20200101_000000', 'counted'],
    ]);
    expect((await runCli(['list'], env)).stdout).toMatch(
      /critical_backup_20990101_000000 .* no: named in the future/,
    );
    const dry = await runCli(['prune', '--dry-run', '--json'], env);
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.stdout);
    expect(plan.remove.map((r: { id: string }) => r.id)).toEqual([
      'critical_backup_20200101_000000',
    ]);
    expect(plan.keep[0].id).toBe('critical_backup_20200102_000000');
    expect(plan.keep[0].reasons[0]).toContain('newest');
    expect(plan.untrusted.map((u: { file: string }) => u.file)).toEqual([future]);
    expect((await fs.readdir(dir)).filter((n) => n.endsWith('.tar.gz'))).toHaveLength(3);
    const real = await runCli(['prune', '--json'], env);
    expect(JSON.parse(real.stdout).deleted).toEqual(['critical_backup_20200101_000000.tar.gz']);
    expect((await fs.readdir(dir)).filter((n) => n.endsWith('.tar.gz')).sort()).toEqual([
      'critical_backup_20200102_000000.tar.gz',
      future,
    ]);
    await fs.rm(join(dir, future));
  });

  it('never shows a secret in any output or log', async () => {
    const secret = 'S3cr3t-Pa55w0rd!';
    const logFile = join(work, 'logs', 'lifeboat.log');
    const secretEnv = {
      ...env,
      DATABASE_URL: `postgres://postgres:${secret}@127.0.0.1:1/nowhere`,
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: '1',
      SMTP_PASS: secret,
      SMTP_USER: 'u',
      ADMIN_EMAIL: 'a@example.com',
      LOG_FILE: logFile,
    };
    const outputs: string[] = [];
    for (const args of [
      ['backup'],
      ['backup', '--json'],
      ['list', '--json'],
      ['health', '--json'],
      ['status'],
      ['notify-test', '--json'],
      ['verify', '--json'],
    ]) {
      const r = await runCli(args, secretEnv);
      outputs.push(r.stdout, r.stderr);
    }
    outputs.push(await fs.readFile(logFile, 'utf8').catch(() => ''));
    const all = outputs.join('\n');
    expect(all.length).toBeGreaterThan(100);
    expect(all).not.toContain(secret);
    expect(all).not.toContain(encodeURIComponent(secret));
  });

  it('--help explains every command with examples', async () => {
    const r = await runCli(['--help'], {});
    expect(r.code).toBe(0);
    for (const c of [
      'backup',
      'list',
      'verify',
      'restore',
      'prune',
      'status',
      'health',
      'report',
      'audit',
      'notify-test',
    ])
      expect(r.stdout).toContain(c);
    expect(r.stdout).toContain('BACKUP_ENCRYPTION_RECIPIENTS');
    const restore = await runCli(['restore', '--help'], {});
    expect(restore.stdout).toContain('--as-suffix');
    expect(restore.stdout).toContain('Examples');
  });
});
