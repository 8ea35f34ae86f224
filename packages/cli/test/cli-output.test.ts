import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { progressLine } from '../src/progress.js';
import { runCli } from './run-cli.js';

/** What a pipe, cron and a log collector get: plain lines, silence, JSON lines when asked. */
let work: string;
let env: Record<string, string>;
beforeAll(async () => {
  work = await fs.mkdtemp(join(tmpdir(), 'lifeboat-output-'));
  const file = join(work, 'app.conf');
  await fs.writeFile(file, 'listen 80;\n');
  env = { BACKUP_DIR: join(work, 'backups'), CONFIG_FILES: file };
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

describe('output on pipes', () => {
  it('--quiet prints nothing on success, and the failure on standard error', async () => {
    const ok = await runCli(['--quiet', 'backup'], env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe('');
    expect(ok.stderr).toBe('');
    const listed = await runCli(['list', '--json', '--quiet'], env);
    expect(JSON.parse(listed.stdout)).toHaveLength(1);
    expect(listed.stderr).toBe('');

    const failed = await runCli(['--quiet', 'backup'], {
      ...env,
      CONFIG_FILES: join(work, 'missing.conf'),
    });
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe('');
    expect(failed.stderr).toMatch(/^error \w+: .*missing\.conf/m);
  });

  it('LOG_FORMAT=json puts JSON lines on standard error; LOG_FILE always has them', async () => {
    const logFile = join(work, 'lifeboat.log');
    const r = await runCli(['backup'], { ...env, LOG_FORMAT: 'json', LOG_FILE: logFile });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.event)).toEqual(
      expect.arrayContaining(['backup:started', 'backup:succeeded']),
    );
    const plain = await runCli(['backup'], { ...env, LOG_FILE: logFile });
    expect(plain.stderr).not.toContain('{');
    const logged = (await fs.readFile(logFile, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).event);
    expect(logged.filter((e) => e === 'backup:succeeded')).toHaveLength(2);
  });

  it('no colour on a pipe; FORCE_COLOR colours it, NO_COLOR wins over nothing', async () => {
    const bad = { ...env, CONFIG_FILES: join(work, 'missing.conf') };
    const plain = await runCli(['backup'], bad);
    expect(plain.stderr).toMatch(/^error /m);
    expect(plain.stderr).not.toContain('\x1b[');
    const forced = await runCli(['backup'], { ...bad, FORCE_COLOR: '1' });
    expect(forced.stderr).toContain('\x1b[31merror ');
    const off = await runCli(['backup'], { ...bad, FORCE_COLOR: '0', NO_COLOR: '1' });
    expect(off.stderr).not.toContain('\x1b[');
  });
});

describe('the live progress line', () => {
  it('labels its numbers and never says 100% before the end', () => {
    const line = progressLine({
      bytes: 900 * 1024 ** 2,
      total: 873 * 1024 ** 2,
      rows: 1234567,
      item: 'public.messages',
      secs: 10,
    });
    expect(line).toMatch(
      /^copied 900\.0 MiB of ~900\.0 MiB \(99%\) {2}rate 90\.0 MiB\/s {2}rows 1,234,567 {2}public\.messages$/,
    );
    const early = progressLine({ bytes: 100, total: 400, rows: undefined, item: 'a', secs: 1 });
    expect(early).toBe('copied 100 B of ~400 B (25%)  rate 100 B/s  ETA 3.0 s  a');
  });
});
