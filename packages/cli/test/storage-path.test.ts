import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const work = await fs.mkdtemp(join(tmpdir(), 'lifeboat-cli-path-'));
afterAll(() => fs.rm(work, { recursive: true, force: true }));
await fs.writeFile(join(work, '.env.production'), 'A=1\n', { mode: 0o600 });
const base = { CONFIG_FILES: join(work, '.env.production') };
// procfs answers ENOENT for a folder it cannot hold: Node's recursive mkdir spun there forever.
const PROC = `/proc/lifeboat-${process.pid}`;

describe('a bad BACKUP_DIR fails every command at once, naming the folder', () => {
  it('backup fails with STORAGE_FAILED; list and status say it does not exist; health is CRITICAL', async () => {
    const env = { ...base, BACKUP_DIR: PROC };
    const backup = await runCli(['backup', '--json'], env);
    expect(backup.code, backup.stderr).toBe(1);
    const failed = JSON.parse(backup.stdout).error;
    expect(failed.code).toBe('STORAGE_FAILED');
    expect(failed.message).toContain(`"${PROC}"`);

    for (const command of ['list', 'status']) {
      const r = await runCli([command, '--json'], env);
      expect(r.code, `${command}: ${r.stderr}`).toBe(1);
      expect(JSON.parse(r.stdout).error).toMatchObject({
        code: 'STORAGE_NOT_FOUND',
        message: expect.stringContaining(`"${PROC}" does not exist`),
      });
    }

    const health = await runCli(['health', '--json'], env);
    expect(health.code).toBe(2);
    const report = JSON.parse(health.stdout);
    expect(report.status).toBe('CRITICAL');
    expect(report.checks.find((c: { name: string }) => c.name === 'storage')).toMatchObject({
      status: 'critical',
      message: expect.stringContaining(`"${PROC}" does not exist`),
    });
  }, 60_000);

  it('list, status and health never create a missing folder; backup does', async () => {
    const dir = join(work, 'not-yet', 'backups');
    const env = { ...base, BACKUP_DIR: dir };
    for (const command of ['list', 'status', 'health']) {
      const r = await runCli([command], env);
      expect(r.code, `${command}: ${r.stdout}${r.stderr}`).toBe(command === 'health' ? 2 : 1);
      expect(`${r.stdout}${r.stderr}`).toContain(`"${dir}" does not exist`);
      expect(existsSync(join(work, 'not-yet')), command).toBe(false);
    }
    const backup = await runCli(['backup'], env);
    expect(backup.code, backup.stderr).toBe(0);
    const list = await runCli(['list', '--json'], env);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toHaveLength(1);
  }, 60_000);
});
