import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AuditFinding,
  audit,
  createEngine,
  type EngineConfig,
  memoryStorage,
  type RetentionPolicy,
} from '@lifeboat/core';
import { localStorage } from '@lifeboat/storage-local';
import { fileSource } from '@lifeboat/test-support/sources';
import { afterAll, describe, expect, it } from 'vitest';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'lifeboat-audit-'));
  dirs.push(d);
  return d;
};

const find = (findings: AuditFinding[], name: string) => {
  const all = findings.filter((f) => f.check === name);
  if (all.length !== 1) throw new Error(`expected one "${name}": ${JSON.stringify(findings)}`);
  return all[0]!;
};

function engineOn(over: Partial<EngineConfig> & Pick<EngineConfig, 'storage'>) {
  return createEngine({
    sources: [fileSource({ '.env.production': 'DB_PASSWORD=x' }).source],
    now: () => new Date('2026-03-01T02:00:00Z'),
    ...over,
  });
}

describe('audit', () => {
  it('finds a backup folder and archives readable by others; fixed modes are ok', async () => {
    const dir = join(tempDir(), 'backups');
    const engine = engineOn({ storage: localStorage({ dir }) });
    const result = await engine.backup();
    chmodSync(dir, 0o755);
    chmodSync(join(dir, result.file), 0o644);
    let findings = await audit(engine.context, { localDir: dir });
    expect(find(findings, 'folder-permissions')).toMatchObject({
      status: 'finding',
      message: `${dir} has mode 755: others can read the archives`,
      fix: `chmod 700 ${dir}`,
    });
    expect(find(findings, 'archive-permissions')).toMatchObject({
      status: 'finding',
      message: `1 file(s) readable by others: ${result.file}`,
    });
    chmodSync(dir, 0o700);
    chmodSync(join(dir, result.file), 0o600);
    findings = await audit(engine.context, { localDir: dir });
    expect(find(findings, 'folder-permissions').status).toBe('ok');
    expect(find(findings, 'archive-permissions').status).toBe('ok');
    // Lifeboat itself writes private files.
    expect(readdirSync(dir).length).toBeGreaterThan(0);
  });

  it('a folder that cannot be inspected is a finding', async () => {
    const engine = engineOn({ storage: memoryStorage() });
    const findings = await audit(engine.context, { localDir: join(tempDir(), 'missing') });
    expect(find(findings, 'folder-permissions')).toMatchObject({
      status: 'finding',
      message: expect.stringContaining('cannot inspect'),
    });
  });

  it('finds secrets in logs (patterns, known values, rotated files); a clean log is ok', async () => {
    const logs = tempDir();
    const engine = engineOn({ storage: memoryStorage() });
    const log = (name: string, text: string) => writeFileSync(join(logs, name), text);
    const run = async (file: string, secrets: string[] = []) =>
      find(
        await audit(engine.context, { logFiles: [join(logs, file)], secrets }),
        'secrets-in-logs',
      );

    log(
      'clean.log',
      '[2026-03-01 02:00] backup ok: 3 tables\nconnected to postgres://app:***@db/app\n',
    );
    expect(await run('clean.log', ['Sup3rS3cret'])).toMatchObject({
      status: 'ok',
      message: `no secret in 1 log file(s) for ${join(logs, 'clean.log')}`,
    });

    log('url.log', 'info\nERROR connecting to postgres://app:Sup3rS3cret@db:5432/app\n');
    const url = await run('url.log');
    expect(url.status).toBe('finding');
    expect(url.message).toBe(`secrets found in url.log (in ${logs})`);
    // A finding names the file, never the secret.
    expect(JSON.stringify(url)).not.toContain('Sup3rS3cret');

    log('known.log', 'SMTP login as backup with Hunter22Pass\n');
    expect((await run('known.log')).status).toBe('ok');
    expect((await run('known.log', ['Hunter22Pass'])).status).toBe('finding');

    log('key.log', 'identity AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ\n');
    expect((await run('key.log')).status).toBe('finding');
    log('env.log', 'loaded PASSWORD=hunter2 from the environment\n');
    expect((await run('env.log')).status).toBe('finding');

    // Rotated siblings are searched too.
    log('app.log', 'all fine\n');
    log('app.log.20260228', `${'fine\n'.repeat(1000)}password: hunter2\n`);
    log('app.logger', 'password: hunter2\n');
    const rotated = await run('app.log');
    expect(rotated).toMatchObject({
      status: 'finding',
      message: `secrets found in app.log.20260228 (in ${logs})`,
    });
  });

  it('a log that cannot be read is a finding, not a crash', async () => {
    const logs = tempDir();
    mkdirSync(join(logs, 'odd.log'));
    const engine = engineOn({ storage: memoryStorage() });
    const findings = await audit(engine.context, { logFiles: [join(logs, 'odd.log')] });
    expect(find(findings, 'secrets-in-logs')).toMatchObject({
      status: 'finding',
      message: expect.stringContaining('cannot read odd.log'),
    });
  });

  it('finds unencrypted archives that hold config files', async () => {
    const storage = memoryStorage();
    const engine = engineOn({ storage });
    const result = await engine.backup();
    expect(result.files).toBe(1);
    const findings = await audit(engine.context);
    expect(find(findings, 'unencrypted-secrets')).toMatchObject({
      status: 'finding',
      message: `1 unencrypted archive(s) hold config files (.env, private keys): ${result.id}`,
    });
  });

  it('archives without config files are not a secrets finding', async () => {
    const engine = createEngine({
      sources: [fileSource({ 'users.csv': 'id\n1\n' }, 'database').source],
      storage: memoryStorage(),
    });
    await engine.backup();
    const findings = await audit(engine.context);
    expect(find(findings, 'unencrypted-secrets')).toMatchObject({
      status: 'ok',
      message: 'no config files are backed up',
    });
  });

  it('finds a retention policy that keeps only the newest archive', async () => {
    const verdict = async (retention: RetentionPolicy) => {
      const engine = engineOn({ storage: memoryStorage(), retention });
      await engine.backup();
      return find(await audit(engine.context), 'retention');
    };
    for (const unsafe of [
      { days: 1 },
      { keepLast: 1 },
      { keepDaily: 1 },
      { days: 1, keepLast: 1 },
    ]) {
      const f = await verdict(unsafe);
      expect(f.status, JSON.stringify(unsafe)).toBe('finding');
      expect(f.message).toContain('would delete every archive but the newest');
    }
    expect(await verdict({})).toMatchObject({
      status: 'finding',
      message: expect.stringContaining('no retention rule is set'),
    });
    for (const safe of [
      { days: 30 },
      { days: 2 },
      { keepLast: 2 },
      { days: 1, keepWeekly: 4 },
      { keepMonthly: 12 },
    ]) {
      const f = await verdict(safe);
      expect(f.status, JSON.stringify(safe)).toBe('ok');
    }
    expect((await verdict({ days: 30 })).message).toContain('keeps 30 archive(s)');
    expect((await verdict({ keepDaily: 7, keepWeekly: 4, keepMonthly: 12 })).message).toMatch(
      /keeps (2[0-3]) archive\(s\)/,
    );
  });
});
