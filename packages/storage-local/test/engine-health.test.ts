import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  createEngine,
  type EngineConfig,
  type HealthCheck,
  type HealthReport,
  memoryStorage,
  type NotificationEvent,
  type Notifier,
  recordRun,
  type Source,
  type Storage,
} from '@lifeboat/core';
import { putIndexedArchive } from '@lifeboat/core/testing';
import { localStorage } from '@lifeboat/storage-local';
import { fileSource } from '@lifeboat/test-support/sources';
import { afterAll, describe, expect, it } from 'vitest';

const dirs: string[] = [];
const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const c of cleanups) c();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'lifeboat-health-'));
  dirs.push(d);
  return d;
};

const HOUR = 3600_000;

/** A clock the test moves. */
function clock(start = '2026-03-10T02:00:00Z') {
  let t = Date.parse(start);
  return {
    now: () => new Date(t),
    advance: (ms: number) => {
      t += ms;
    },
  };
}

/** A source that fails on demand, like a database that was stopped. */
function switchableSource() {
  const state = { fail: false };
  const source: Source = {
    ...fileSource({}).source,
    id: 'switchable',
    async backup(ctx) {
      if (state.fail) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      await ctx.emit({
        path: 'a.txt',
        type: 'file',
        size: 5,
        body: () => Readable.from(['alpha']),
      });
      return { files: 1 };
    },
  };
  return { source, state };
}

function recordingNotifier(id = 'recorder', health?: () => Promise<HealthCheck[]>) {
  const events: NotificationEvent[] = [];
  const notifier: Notifier = {
    id,
    describe: () => id,
    async notify(event) {
      events.push(event);
    },
    ...(health ? { health } : {}),
  };
  return { notifier, events };
}

const check = (report: HealthReport, name: string) => {
  const found = report.checks.find((c) => c.name === name);
  if (!found) throw new Error(`no "${name}" check in ${JSON.stringify(report.checks)}`);
  return found;
};

function engineFor(storage: Storage, over: Partial<EngineConfig> = {}) {
  const c = clock();
  const s = switchableSource();
  const engine = createEngine({
    sources: [s.source],
    storage,
    now: c.now,
    health: { maxAgeHours: 25, minFreeBytes: 0 },
    ...over,
  });
  return { engine, clock: c, state: s.state };
}

/**
 * A real folder nobody can write to: read-only for a normal user; for root (who ignores modes)
 * an immutable folder (`chattr +i`), or a kernel folder that refuses new entries.
 */
function unwritableDir(): string {
  const d = tempDir();
  const inner = join(d, 'ro');
  mkdirSync(inner, { mode: 0o500 });
  if (process.getuid?.() !== 0) return inner;
  try {
    execFileSync('chattr', ['+i', inner], { stdio: 'ignore' });
    cleanups.push(() => execFileSync('chattr', ['-i', inner], { stdio: 'ignore' }));
    return inner;
  } catch {}
  for (const candidate of ['/sys/power', '/sys/kernel', '/sys/class']) {
    try {
      mkdirSync(join(candidate, `.lifeboat-probe-${process.pid}`));
      rmSync(join(candidate, `.lifeboat-probe-${process.pid}`), { recursive: true });
    } catch (error) {
      // Refused outright (not "missing", which some kernels answer for folders that exist).
      if (['EACCES', 'EPERM', 'EROFS'].includes((error as NodeJS.ErrnoException).code ?? ''))
        return candidate;
    }
  }
  throw new Error('found no folder that cannot be written to on this machine');
}

describe('health', () => {
  it('CRITICAL without any backup, OK after a fresh one, CRITICAL once it is older than maxAgeHours', async () => {
    const { engine, clock } = engineFor(localStorage({ dir: tempDir() }));
    const alerts: HealthReport[] = [];
    engine.events.on('health:alert', (r) => alerts.push(r));

    let report = await engine.health();
    expect(report.status).toBe('CRITICAL');
    expect(check(report, 'last-backup')).toMatchObject({
      status: 'critical',
      message: expect.stringMatching(/^No successful backup exists/),
    });
    expect(check(report, 'storage').status).toBe('ok');
    expect(alerts).toHaveLength(1);

    await engine.backup();
    clock.advance(HOUR);
    report = await engine.health();
    expect(report.status, JSON.stringify(report)).toBe('OK');
    expect(check(report, 'last-backup')).toMatchObject({
      status: 'ok',
      message: 'Last success 1.0 h ago (limit 25 h)',
    });
    expect(report.checkedAt).toBe('2026-03-10T03:00:00.000Z');
    expect(alerts).toHaveLength(1);

    clock.advance(23.5 * HOUR);
    expect((await engine.health()).status).toBe('OK');
    clock.advance(2 * HOUR);
    report = await engine.health();
    expect(report.status).toBe('CRITICAL');
    expect(check(report, 'last-backup')).toMatchObject({
      status: 'critical',
      message: 'Last success 26.5 h ago (limit 25 h)',
      details: { lastSuccessAt: '2026-03-10T02:00:00.000Z', ageHours: 26.5 },
    });
    expect(alerts).toHaveLength(2);
    // The probe the storage check wrote is gone.
    expect((await localStorageKeys(engine)).filter((k) => k.includes('health-probe'))).toEqual([]);
  });

  it('WARNING when the last run failed but the last success is recent; OK again after a success', async () => {
    const { engine, clock, state } = engineFor(memoryStorage());
    await engine.backup();
    clock.advance(2 * HOUR);
    state.fail = true;
    await expect(engine.backup()).rejects.toMatchObject({ code: 'SOURCE_FAILED' });
    let report = await engine.health();
    expect(report.status).toBe('WARNING');
    expect(check(report, 'last-backup').message).toBe(
      'Last success 2.0 h ago (limit 25 h); the last run (2026-03-10T04:00:00.000Z) failed: SOURCE_FAILED',
    );
    state.fail = false;
    clock.advance(HOUR);
    await engine.backup();
    report = await engine.health();
    expect(report.status).toBe('OK');
  });

  it('CRITICAL when the storage cannot be reached (its folder’s parent is a file)', async () => {
    const base = tempDir();
    writeFileSync(join(base, 'mnt'), 'not a folder');
    const dir = join(base, 'mnt', 'backups');
    const { engine } = engineFor(localStorage({ dir }));
    const report = await engine.health();
    expect(report.status).toBe('CRITICAL');
    const storage = check(report, 'storage');
    expect(storage.status).toBe('critical');
    expect(storage.message).toContain(dir);
    expect(storage.message).toMatch(/ENOTDIR|not a directory/);
  });

  it('CRITICAL when the storage is reachable but not writable', async () => {
    const dir = unwritableDir();
    const { engine } = engineFor(localStorage({ dir }));
    const report = await engine.health();
    expect(report.status).toBe('CRITICAL');
    const storage = check(report, 'storage');
    expect(storage.status).toBe('critical');
    expect(storage.message).toMatch(/^(PERMISSION_DENIED|NOT_FOUND|STORAGE_FAILED): Cannot /);
    expect(storage.message).toContain(dir);
    expect(existsSync(join(dir, '.lifeboat'))).toBe(false);
  });

  it('free space below minFreeBytes is a WARNING, below a quarter of it CRITICAL', async () => {
    const dir = tempDir();
    const { bavail, bsize } = statfsSync(dir);
    const free = bavail * bsize;
    // Twice what the disk has free: below the minimum but above a quarter of it.
    const warn = engineFor(localStorage({ dir }), {
      health: { maxAgeHours: 25, minFreeBytes: free * 2 },
    });
    await warn.engine.backup();
    let report = await warn.engine.health();
    expect(report.status).toBe('WARNING');
    const space = check(report, 'free-space');
    expect(space.status).toBe('warning');
    expect(space.message).toMatch(/GiB free of .* GiB \(minimum .* GiB\)/);
    expect(space.details!.minFreeBytes).toBe(free * 2);

    const crit = engineFor(localStorage({ dir }), {
      health: { maxAgeHours: 25, minFreeBytes: free * 8 },
    });
    report = await crit.engine.health();
    expect(check(report, 'free-space').status).toBe('critical');
    expect(report.status).toBe('CRITICAL');

    const fine = engineFor(localStorage({ dir }), {
      health: { maxAgeHours: 25, minFreeBytes: 1024 },
    });
    report = await fine.engine.health();
    expect(check(report, 'free-space').status).toBe('ok');
  });

  it('a source whose health check throws is CRITICAL, with its password redacted', async () => {
    const s = switchableSource();
    const database: Source = {
      ...s.source,
      async health() {
        throw new Error(
          'could not connect to postgres://backup:Sup3rS3cret@db.internal:5432/app (password=Sup3rS3cret)',
        );
      },
    };
    const engine = createEngine({ sources: [database], storage: memoryStorage() });
    const report = await engine.health();
    expect(report.status).toBe('CRITICAL');
    const c = check(report, 'switchable');
    expect(c.status).toBe('critical');
    expect(c.message).toContain('SOURCE_FAILED');
    expect(c.message).toContain('postgres://backup:***@db.internal:5432/app');
    expect(JSON.stringify(report)).not.toContain('Sup3rS3cret');
  });

  it('a source’s own check messages are redacted too', async () => {
    const s = switchableSource();
    const database: Source = {
      ...s.source,
      async health() {
        return [
          {
            name: 'database',
            status: 'ok',
            message: 'reachable at postgres://backup:Sup3rS3cret@db:5432/app',
          },
        ];
      },
    };
    const engine = createEngine({ sources: [database], storage: memoryStorage() });
    const report = await engine.health();
    expect(JSON.stringify(report)).not.toContain('Sup3rS3cret');
    expect(check(report, 'database').status).toBe('ok');
  });

  it('a mail server that is down is only a WARNING', async () => {
    const { notifier } = recordingNotifier('smtp', async () => [
      { name: 'smtp', status: 'critical', message: 'connect ECONNREFUSED 127.0.0.1:25' },
    ]);
    const down = recordingNotifier('smtp2', async () => {
      throw new Error('getaddrinfo ENOTFOUND mail.example');
    }).notifier;
    const { engine } = engineFor(memoryStorage(), { notifiers: [notifier, down] });
    await engine.backup();
    const report = await engine.health();
    expect(report.status).toBe('WARNING');
    expect(check(report, 'smtp').status).toBe('warning');
    expect(check(report, 'smtp2')).toMatchObject({
      status: 'warning',
      message: expect.stringContaining('NOTIFY_FAILED'),
    });
  });

  it('sends an alert through the notifiers when asked and not OK, and never when OK', async () => {
    const rec = recordingNotifier();
    const { engine, clock } = engineFor(memoryStorage(), { notifiers: [rec.notifier] });
    // Not OK, but no alert asked for.
    await engine.health();
    expect(rec.events).toEqual([]);
    const report = await engine.health({ alert: true });
    expect(rec.events).toEqual([{ kind: 'health:alert', report }]);
    await engine.backup();
    rec.events.length = 0;
    clock.advance(HOUR);
    expect((await engine.health({ alert: true })).status).toBe('OK');
    expect(rec.events).toEqual([]);
  });

  it('CRITICAL when backups ran but their archives are gone', async () => {
    const storage = memoryStorage();
    const { engine } = engineFor(storage);
    const result = await engine.backup();
    await storage.delete(result.file);
    const report = await engine.health();
    expect(report.status).toBe('CRITICAL');
    expect(check(report, 'last-backup').message).toMatch(
      /^No archive in memory, although backups ran \(the last at 2026-03-10T02:00:00.000Z\)/,
    );
  });

  it('the age comes from the newest archive when the history lags behind it', async () => {
    const storage = memoryStorage();
    const { engine, clock } = engineFor(storage);
    await storage.connect();
    // The history knows of a success 40 h ago only; a newer archive exists (its record was lost).
    await recordRun(storage, {
      kind: 'backup',
      ok: true,
      id: 'critical_backup_20260308_100000',
      startedAt: '2026-03-08T10:00:00.000Z',
      durationMs: 5,
    });
    await putIndexedArchive(storage, 'critical_backup_20260310_010000.tar.gz');
    clock.advance(0);
    const report = await engine.health();
    expect(check(report, 'last-backup')).toMatchObject({
      status: 'ok',
      details: { lastSuccessAt: '2026-03-10T01:00:00.000Z' },
    });
  });
});

async function localStorageKeys(engine: ReturnType<typeof createEngine>) {
  return (await engine.context.storage.list('')).map((o) => o.key);
}
