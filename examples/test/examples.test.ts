import { spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM helpers shared with the demo
import { loadDataset } from '../lib/dataset.mjs';
// @ts-expect-error plain ESM helpers shared with the demo
import { startEmbeddedPostgres } from '../lib/servers.mjs';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

function run(
  script: string,
  args: string[],
  env: Record<string, string>,
  until?: (out: string) => boolean,
  watch: 'stdout' | 'stderr' = 'stdout',
) {
  const child = spawn(process.execPath, [script, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  const seen = until
    ? new Promise<void>((resolve, reject) => {
        const watched = () => (watch === 'stdout' ? out : err);
        const timer = setInterval(() => {
          if (until(watched())) {
            clearInterval(timer);
            resolve();
          }
        }, 50);
        exited.then(() => {
          clearInterval(timer);
          if (!until(watched()))
            reject(new Error(`exited before expected output:\n${out}\n${err}`));
        });
      })
    : Promise.resolve();
  return { child, exited, seen, output: () => `${out}\n${err}` };
}

let work: string;
let fileEnv: Record<string, string>;
beforeAll(async () => {
  work = await fs.mkdtemp(join(tmpdir(), 'lifeboat-examples-'));
  await fs.writeFile(join(work, '.env.production'), 'A=1\n');
  fileEnv = { CONFIG_FILES: join(work, '.env.production') };
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

describe('examples', () => {
  it('standalone: `lifeboat run` on its cron schedule from environment variables, stops on SIGTERM', async () => {
    const dir = join(work, 'standalone');
    const p = run(
      here('../standalone/runner.mjs'),
      [],
      {
        ...fileEnv,
        BACKUP_DIR: dir,
        SCHEDULE: '* * * * * *',
        BACKUP_KEEP_LAST: '50',
        LOG_FORMAT: 'json',
      },
      (out) => out.split('"event":"backup:succeeded"').length > 2,
      'stderr',
    );
    await p.seen;
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(143);
    const archives = (await fs.readdir(dir)).filter((n) => n.endsWith('.tar.gz'));
    expect(archives.length).toBeGreaterThanOrEqual(2);
    expect(p.output()).toContain('lifeboat: run cancelled by SIGTERM: the schedule stopped');
  });

  it('embed-http: /healthz is alive from the start, /health reflects real backups, /backups lists them, /metrics counts them', async () => {
    const { startServer } = await import(here('../embed-http/server.mjs'));
    const env = { ...fileEnv, BACKUP_DIR: join(work, 'http'), HEALTH_MIN_FREE_BYTES: '1' };
    const server = await startServer({ env });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      // A liveness probe must pass on a fresh start: no backup yet is not a dead process.
      const live = await fetch(`${base}/healthz`);
      expect(live.status).toBe(200);
      expect((await live.json()).alive).toBe(true);
      const before = await fetch(`${base}/health`);
      expect(before.status).toBe(503);
      expect((await before.json()).status).toBe('CRITICAL');
      const created = await fetch(`${base}/backups`, { method: 'POST' });
      expect(created.status).toBe(201);
      const after = await fetch(`${base}/health`);
      expect(after.status).toBe(200);
      expect((await after.json()).status).toBe('OK');
      const list = await (await fetch(`${base}/backups`)).json();
      expect(list).toHaveLength(1);
      expect(list[0].file).toMatch(/^critical_backup_.*\.tar\.gz$/);
      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.status).toBe(200);
      expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await metrics.text();
      expect(text).toContain('\nlifeboat_archives 1\n');
      expect(text).toContain(`lifeboat_last_backup_size_bytes ${list[0].bytes}\n`);
      expect(text).toContain('lifeboat_last_run_success{kind="backup"} 1\n');
    } finally {
      await server.close();
    }
  });

  describe('with a database', () => {
    let pg: Awaited<ReturnType<typeof startEmbeddedPostgres>>;
    beforeAll(async () => {
      pg = await startEmbeddedPostgres();
      await pg.createDatabase('hub');
      const client = pg.client('hub');
      await client.connect();
      await loadDataset(client, 0.05);
      await client.end();
    }, 120_000);
    afterAll(async () => {
      await pg?.stop();
    });

    it('custom-script: backs up two tables to a folder and restores users side by side', async () => {
      const dir = join(work, 'manual');
      const p = run(here('../custom-script/fix-users.mjs'), [dir], { DATABASE_URL: pg.url('hub') });
      expect(await p.exited, p.output()).toBe(0);
      const files = (await fs.readdir(dir)).filter((n) => n.startsWith('manual_users_'));
      expect(files).toHaveLength(1);
      const client = pg.client('hub');
      await client.connect();
      try {
        const diff = await client.query(
          'SELECT count(*)::int AS n FROM (SELECT * FROM users_restored EXCEPT SELECT * FROM users) d',
        );
        expect(diff.rows[0].n).toBe(0);
        const counts = await client.query(
          'SELECT (SELECT count(*) FROM users)::int AS a, (SELECT count(*) FROM users_restored)::int AS b',
        );
        expect(counts.rows[0].a).toBeGreaterThan(0);
        expect(counts.rows[0].b).toBe(counts.rows[0].a);
      } finally {
        await client.end();
      }
    });
  });
});
