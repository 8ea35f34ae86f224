import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Receiver, startReceiver } from '@lifeboat/test-support/http';
import { createDatabase, servers, sql } from '@lifeboat/test-support/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from './run-cli.js';

/**
 * `lifeboat run --schedule`: the long-running mode, as a real process against a real database.
 * A backup takes longer than the one-second schedule, so runs are due while one is going: they
 * are skipped, never run twice. SIGTERM cancels the backup under way and exits 143 leaving no
 * partial archive or lock; the health port answers liveness apart from backup health.
 */
const server = servers[0]!;
let work: string;
let env: Record<string, string>;
let hb: Receiver;

beforeAll(async () => {
  await server.start();
  const db = await createDatabase(server, 'runsched');
  // Enough rows that one backup at gzip level 9 on one connection outlasts a second even on an
  // idle machine (120,000 rows took 0.8 s there, and 400,000 took 0.7 s once backups got faster
  // on 2026-12-06: no run was ever due while one was going). 1,200,000 take about 2 s.
  await sql(
    server,
    db,
    `CREATE TABLE big (id int PRIMARY KEY, body text);
     INSERT INTO big SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, 1200000) g;`,
  );
  const auth = server.password ? `:${encodeURIComponent(server.password)}` : '';
  work = await fs.mkdtemp(join(tmpdir(), 'lifeboat-run-'));
  hb = await startReceiver();
  env = {
    DATABASE_URL: `postgres://${server.user}${auth}@${server.host}:${server.port}/${db}`,
    BACKUP_COMPRESSION_LEVEL: '9',
    BACKUP_JOBS: '1',
    BACKUP_KEEP_LAST: '50',
  };
}, 120_000);
afterAll(async () => {
  // A failed assertion leaves its `lifeboat run` going (it never exits by itself): stop it.
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  await hb?.close();
  if (work) await fs.rm(work, { recursive: true, force: true });
});

interface Running {
  child: ChildProcess;
  stderr: () => string;
  stdout: () => string;
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];

function start(args: string[], extra: Record<string, string>): Running {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdout!.on('data', (d) => (stdout += d));
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code, sig) => resolve(code ?? (sig ? -1 : null))),
  );
  return { child, stderr: () => stderr, stdout: () => stdout, exited };
}

async function until(what: string, r: Running, ok: () => boolean | Promise<boolean>, secs = 90) {
  for (let i = 0; i < secs * 10; i++) {
    if (await ok()) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`timed out waiting for ${what}:\n${r.stderr()}`);
}

const healthPort = (r: Running) =>
  Number(/health endpoints on http:\/\/[^:]+:(\d+)/.exec(r.stderr())?.[1]);
const count = (text: string, needle: string) => text.split(needle).length - 1;
const names = async (dir: string) => fs.readdir(dir).catch(() => [] as string[]);

describe('lifeboat run --schedule', () => {
  it('backs up on schedule, skips a run due while one is going, serves health and metrics, and stops on SIGTERM (143) with nothing left', async () => {
    const dir = join(work, 'scheduled');
    const logFile = join(work, 'scheduled.log');
    const metricsFile = join(work, 'lifeboat.prom');
    const r = start(['run', '--schedule', '* * * * * *', '--health-port', '0'], {
      ...env,
      BACKUP_DIR: dir,
      LOG_FILE: logFile,
      METRICS_FILE: metricsFile,
      HEARTBEAT_URL: `${hb.url}/ping/run-token`,
    });
    // "stored" is printed when the archive is stored; the run (prune, history, metrics) ends
    // after it: wait for the scheduler to count two finished runs before reading what they left.
    await until('two finished runs and a skipped one', r, async () => {
      const e = r.stderr();
      if (count(e, '\nstored ') < 2 || !e.includes('warning RUN_SKIPPED:')) return false;
      const live = await fetch(`http://127.0.0.1:${healthPort(r)}/healthz`);
      return ((await live.json()) as { runs: number }).runs >= 2;
    });
    const base = `http://127.0.0.1:${healthPort(r)}`;
    const live = await fetch(`${base}/healthz`);
    expect(live.status).toBe(200);
    const liveDoc = (await live.json()) as { runs: number; skipped: number };
    expect(liveDoc).toMatchObject({ alive: true, schedule: '* * * * * *' });
    expect(liveDoc.runs).toBeGreaterThanOrEqual(2);
    expect(liveDoc.skipped).toBeGreaterThanOrEqual(1);
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { status: string }).status).toBe('OK');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    // The archives stored so far (the schedule goes on while this reads): at least the two runs.
    expect(Number(/\nlifeboat_archives (\d+)\n/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
    // METRICS_FILE was rewritten after a run, while the process keeps running.
    expect(await fs.readFile(metricsFile, 'utf8')).toMatch(/\nlifeboat_archives \d+\n/);
    // Heartbeats as a normal backup sends them: a start and a success per stored backup.
    const pings = hb.requests.map((q) => new URL(q.url, 'http://x').pathname);
    expect(count(pings.join(' '), '/ping/run-token/start')).toBeGreaterThanOrEqual(2);
    expect(pings.filter((p) => p === '/ping/run-token').length).toBeGreaterThanOrEqual(2);

    // SIGTERM while a backup is copying: cancelled, nothing of it left.
    await until('a backup under way', r, async () => {
      for (const n of (await names(dir)).filter((n) => n.endsWith('.partial'))) {
        const size = await fs
          .stat(join(dir, n))
          .then((s) => s.size)
          .catch(() => 0);
        if (size > 0) return true;
      }
      return false;
    });
    r.child.kill('SIGTERM');
    expect(await r.exited, r.stderr()).toBe(143);
    expect(r.stderr().trim().split('\n').at(-1)).toBe(
      'lifeboat: run cancelled by SIGTERM: the schedule stopped; the backup under way was cancelled and nothing of it stored (partial archive and lock removed)',
    );
    const left = await names(dir);
    expect(left.filter((n) => n.endsWith('.partial'))).toEqual([]);
    await expect(fs.stat(join(dir, '.lifeboat', 'lock'))).rejects.toThrow();
    const stored = left.filter((n) => n.endsWith('.tar.gz'));
    expect(stored.length).toBe(count(r.stderr(), '\nstored '));

    // Never two at once: in the log every backup ends before the next starts.
    const events = (await fs.readFile(logFile, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((l) => /^backup:(started|succeeded|failed)$/.test(l.event))
      .map((l) => l.event as string);
    for (let i = 0; i < events.length; i++)
      expect(events[i], events.join(' ')).toMatch(
        i % 2 === 0 ? /^backup:started$/ : /^backup:(succeeded|failed)$/,
      );
    const status = await runCli(['status', '--json'], { BACKUP_DIR: dir });
    const runs = JSON.parse(status.stdout).recentRuns as { ok: boolean; cancelled?: boolean }[];
    // status shows the 10 latest runs: the cancelled one (newest) and the stored ones before it
    // (a fast machine stores more than nine within the test).
    expect(runs[0]?.cancelled).toBe(true);
    expect(runs.filter((x) => x.cancelled)).toHaveLength(1);
    expect(runs.filter((x) => x.ok)).toHaveLength(Math.min(stored.length, 9));
  }, 180_000);

  it('a fresh start on an empty folder: /healthz 200 (alive) while /health is 503 (no backup yet); SIGINT exits 130', async () => {
    const dir = join(work, 'fresh');
    await fs.mkdir(dir);
    const r = start(['run', '--health-port', '0'], {
      ...env,
      BACKUP_DIR: dir,
      SCHEDULE: '0 2 * * *',
    });
    await until('the health port', r, () => healthPort(r) > 0, 60);
    const base = `http://127.0.0.1:${healthPort(r)}`;
    const live = await fetch(`${base}/healthz`);
    expect(live.status).toBe(200);
    expect(await live.json()).toMatchObject({ alive: true, runs: 0, running: false });
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(503);
    const report = (await health.json()) as { status: string; checks: unknown[] };
    expect(report.status).toBe('CRITICAL');
    expect(report.checks).toContainEqual(
      expect.objectContaining({ name: 'last-backup', status: 'critical' }),
    );
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    r.child.kill('SIGINT');
    expect(await r.exited, r.stderr()).toBe(130);
    expect(r.stderr().trim().split('\n').at(-1)).toBe(
      'lifeboat: run cancelled by SIGINT: the schedule stopped; no backup was running',
    );
    // Nothing was backed up (the health check's storage probe leaves only .lifeboat/).
    expect((await names(dir)).filter((n) => !n.startsWith('.lifeboat'))).toEqual([]);
  }, 120_000);

  it('usage errors exit 2: no schedule, a bad one (named as given), --json', async () => {
    const none = await runCli(['run'], { ...env, BACKUP_DIR: join(work, 'none') });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('run needs a schedule: --schedule or SCHEDULE');
    const bad = await runCli(['run', '--schedule', 'daily'], {
      ...env,
      BACKUP_DIR: join(work, 'none'),
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--schedule must be a cron expression such as "0 2 * * *"');
    const badEnv = await runCli(['run'], { ...env, SCHEDULE: '61 * * * *' });
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toContain('SCHEDULE must be a cron expression');
    const json = await runCli(['--json', 'run', '--schedule', '0 2 * * *'], env);
    expect(json.code).toBe(2);
    expect(json.stderr).toContain('--json does not apply to run');
    await expect(fs.stat(join(work, 'none'))).rejects.toThrow();
  }, 60_000);
});
