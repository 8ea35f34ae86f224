import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine } from '@lifeboat/core';
import { localStorage } from '@lifeboat/storage-local';
import { fileSource } from '@lifeboat/test-support/sources';
import { afterAll, describe, expect, it } from 'vitest';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const HOUR = 3600_000;
const DAY = 24 * HOUR;

/** Real backups and real drills (verify --deep) in a real folder, on a clock the test moves. */
function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-drill-'));
  dirs.push(dir);
  let t = Date.parse('2026-03-10T02:00:00Z');
  const engine = createEngine({
    sources: [fileSource({ 'a.txt': 'alpha'.repeat(1000) }).source],
    storage: localStorage({ dir }),
    now: () => new Date(t),
    health: { maxAgeHours: 25, minFreeBytes: 0 },
    retention: { days: 30 },
    pruneAfterBackup: false,
  });
  const drill = async () => (await engine.health()).checks.find((c) => c.name === 'restore-drill');
  return {
    dir,
    engine,
    drill,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

describe('health judges the restore drills (verify --deep)', () => {
  it('a failed drill newer than the last good one is CRITICAL, until a drill passes again', async () => {
    const s = setup();
    const backup = await s.engine.backup();
    expect(await s.drill()).toMatchObject({ status: 'ok' });
    expect((await s.engine.verify('latest', { deep: true })).ok).toBe(true);
    expect(await s.drill()).toMatchObject({ status: 'ok' });
    // The archive is damaged on disk: the next drill fails.
    const path = join(s.dir, backup.file);
    const good = readFileSync(path);
    const bad = Buffer.from(good);
    bad[Math.floor(bad.length / 2)]! ^= 0xff;
    writeFileSync(path, bad);
    s.advance(HOUR);
    expect((await s.engine.verify('latest', { deep: true })).ok).toBe(false);
    const failed = await s.engine.health();
    expect(failed.checks.find((c) => c.name === 'restore-drill')).toMatchObject({
      status: 'critical',
      details: { code: 'DRILL_FAILED', lastFailedId: backup.id },
    });
    expect(failed.status).toBe('CRITICAL');
    expect((await s.engine.status()).drill).toMatchObject({ status: 'critical' });
    // A quick verify that passes is no drill: still CRITICAL.
    writeFileSync(path, good);
    s.advance(HOUR);
    expect((await s.engine.verify('latest')).ok).toBe(true);
    expect(await s.drill()).toMatchObject({ status: 'critical' });
    // A drill that passes again clears it.
    expect((await s.engine.verify('latest', { deep: true })).ok).toBe(true);
    expect(await s.drill()).toMatchObject({ status: 'ok' });
    expect((await s.engine.health()).status).toBe('OK');
  });

  it('no good drill for HEALTH_MAX_DRILL_AGE_DAYS (35) is a WARNING, also when none ever ran', async () => {
    const s = setup();
    await s.engine.backup();
    await s.engine.verify('latest', { deep: true });
    s.advance(34 * DAY);
    await s.engine.backup();
    expect(await s.drill()).toMatchObject({ status: 'ok' });
    s.advance(2 * DAY);
    await s.engine.backup();
    const late = await s.engine.health();
    expect(late.checks.find((c) => c.name === 'restore-drill')).toMatchObject({
      status: 'warning',
      details: { code: 'DRILL_OVERDUE' },
    });
    expect(late.checks.find((c) => c.name === 'last-backup')?.status).toBe('ok');
    expect(late.status).toBe('WARNING');
    expect((await s.engine.status()).drill.status).toBe('warning');

    // Never drilled: fine for a new setup, overdue once backups ran longer than the limit, also
    // when retention (30 days) has removed the first archives: the run history remembers them.
    const fresh = setup();
    await fresh.engine.backup();
    fresh.advance(30 * DAY);
    await fresh.engine.backup();
    expect(await fresh.drill()).toMatchObject({ status: 'ok' });
    fresh.advance(6 * DAY);
    await fresh.engine.backup();
    await fresh.engine.prune();
    expect(await fresh.engine.list()).toHaveLength(2);
    expect(await fresh.drill()).toMatchObject({
      status: 'warning',
      details: { code: 'DRILL_OVERDUE' },
    });
  });
});
