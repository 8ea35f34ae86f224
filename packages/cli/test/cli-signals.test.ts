import { spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, servers, sql } from '@lifeboat/test-support/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from './run-cli.js';

/**
 * Ctrl-C, SIGTERM and SIGKILL sent to a real `lifeboat backup` of a real database while it copies
 * a table. The first two abort through the engine: the partial archive and the lock go at once,
 * the history says `cancelled`, one line says so, the exit code is the shell's (130, 143). A
 * killed process cannot clean up, but what it logged so far is in LOG_FILE.
 */
const server = servers[0]!;
let db: string;
let work: string;
let env: Record<string, string>;

beforeAll(async () => {
  await server.start();
  db = await createDatabase(server, 'signals');
  // ~100 MB of CSV at gzip level 9 on one connection: several seconds of COPY.
  await sql(
    server,
    db,
    `CREATE TABLE big (id int PRIMARY KEY, body text);
     INSERT INTO big SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, 400000) g;`,
  );
  const auth = server.password ? `:${encodeURIComponent(server.password)}` : '';
  work = await fs.mkdtemp(join(tmpdir(), 'lifeboat-signals-'));
  env = {
    DATABASE_URL: `postgres://${server.user}${auth}@${server.host}:${server.port}/${db}`,
    BACKUP_COMPRESSION_LEVEL: '9',
    BACKUP_JOBS: '1',
  };
}, 120_000);
afterAll(async () => {
  if (work) await fs.rm(work, { recursive: true, force: true });
});

const partials = async (dir: string) =>
  (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.partial'));

/** Starts a backup, waits until its partial archive holds data (COPY under way), signals it. */
async function interrupt(signal: NodeJS.Signals, name: string) {
  const dir = join(work, name);
  const logFile = join(work, `${name}.log`);
  const child = spawn(process.execPath, [BIN, 'backup'], {
    env: { PATH: process.env.PATH ?? '', ...env, BACKUP_DIR: dir, LOG_FILE: logFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.on('data', (d) => (stdout += d));
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code, sig) => resolve(code ?? (sig ? -1 : null))),
  );
  let copying = false;
  for (let i = 0; i < 600 && !copying; i++) {
    await new Promise((r) => setTimeout(r, 100));
    for (const p of await partials(dir)) {
      const size = await fs
        .stat(join(dir, p))
        .then((s) => s.size)
        .catch(() => 0);
      if (size > 64 * 1024) copying = true;
    }
  }
  expect(copying, `no partial archive grew: ${stderr}`).toBe(true);
  // Written as it happens: the log already says the backup started, before the process ends.
  const logSoFar = await fs.readFile(logFile, 'utf8');
  expect(logSoFar).toContain('"event":"backup:started"');
  child.kill(signal);
  const code = await exited;
  return { code, stderr, stdout, dir, logFile };
}

describe('a backup interrupted mid-COPY', () => {
  it.each([
    { signal: 'SIGINT' as const, exit: 130 },
    { signal: 'SIGTERM' as const, exit: 143 },
  ])(
    '$signal: partial archive and lock removed, history says cancelled, one line, exit $exit',
    async ({ signal, exit }) => {
      const r = await interrupt(signal, signal.toLowerCase());
      expect(r.code, r.stderr).toBe(exit);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines.at(-1)).toBe(
        `lifeboat: backup cancelled by ${signal}: nothing was stored (partial archive and lock removed)`,
      );
      expect(r.stderr).not.toMatch(/error |at .*\.js:\d+/);
      expect(await partials(r.dir)).toEqual([]);
      expect((await fs.readdir(r.dir)).filter((n) => n.includes('.tar.gz'))).toEqual([]);
      await expect(fs.stat(join(r.dir, '.lifeboat', 'lock'))).rejects.toThrow();

      const status = await runCli(['status', '--json'], { BACKUP_DIR: r.dir });
      expect(status.code, status.stderr).toBe(0);
      const runs = JSON.parse(status.stdout).recentRuns;
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ kind: 'backup', ok: false, cancelled: true });
      expect(runs[0].error).toEqual({ code: 'ABORTED', message: `Cancelled by ${signal}` });
      const plain = await runCli(['status'], { BACKUP_DIR: r.dir });
      expect(plain.stdout).toMatch(/backup\s+cancelled/);

      const log = await fs.readFile(r.logFile, 'utf8');
      expect(log).toContain(`"signal":"${signal}"`);
    },
    120_000,
  );

  it('SIGKILL: the log written so far is kept', async () => {
    const r = await interrupt('SIGKILL', 'sigkill');
    expect(r.code).toBe(-1);
    const events = (await fs.readFile(r.logFile, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).event);
    expect(events).toContain('backup:started');
  }, 120_000);
});
