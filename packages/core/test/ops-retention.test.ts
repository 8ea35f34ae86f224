import { Readable } from 'node:stream';
import {
  archiveBaseName,
  createEngine,
  LifeboatError,
  memoryStorage,
  parseArchiveName,
  planRetention,
  type RetentionPolicy,
  recordRun,
  type Source,
  type Storage,
} from '@lifeboat/core';
import { faultyStorage, putIndexedArchive } from '@lifeboat/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fileSource } from './helpers.js';

const DAY = 86400_000;
const at = (iso: string) => new Date(iso);

/** Daily archive names `critical_backup_YYYYMMDD_020000.tar.gz` from `from` to `to` (UTC dates). */
function dailyNames(from: string, to: string, prefix = 'critical_backup', hour = '02'): string[] {
  const out: string[] = [];
  for (
    let t = Date.parse(`${from}T${hour}:00:00Z`);
    t <= Date.parse(`${to}T${hour}:00:00Z`);
    t += DAY
  )
    out.push(`${archiveBaseName(prefix, new Date(t))}.tar.gz`);
  return out;
}

const candidates = (names: string[]) =>
  names.map((file) => {
    const p = parseArchiveName(file)!;
    return { id: p.id, createdAt: p.createdAt.toISOString() };
  });

/** `critical_backup_20260531_020000` → `2026-05-31`. */
const dayOf = (id: string) => {
  const m = /_(\d{4})(\d{2})(\d{2})_/.exec(id)!;
  return `${m[1]}-${m[2]}-${m[3]}`;
};

const keptDays = (plan: { keep: { id: string }[] }) => plan.keep.map((k) => dayOf(k.id)).sort();

// A year of nightly archives, across a year boundary, the last one on Sunday 2026-05-31.
const YEAR = dailyNames('2025-06-01', '2026-05-31');
const NOW = at('2026-05-31T12:00:00Z');

describe('planRetention over a year of daily archives', () => {
  it('has a year of archives to work on', () => {
    expect(YEAR).toHaveLength(365);
  });

  it('days only: keeps the last 30 days and says why the rest goes', () => {
    const plan = planRetention(candidates(YEAR), { days: 30 }, NOW);
    const expected = dailyNames('2026-05-02', '2026-05-31')
      .map((n) => dayOf(n))
      .sort();
    expect(keptDays(plan)).toEqual(expected);
    expect(plan.remove).toHaveLength(335);
    for (const k of plan.keep) expect(k.reasons).toContain('younger than 30 days');
    const oldest = plan.remove.find((r) => r.id === 'critical_backup_20250601_020000')!;
    expect(oldest.reason).toBe('364 days old and kept by no rule');
    const justOut = plan.remove.find((r) => r.id === 'critical_backup_20260501_020000')!;
    expect(justOut.reason).toBe('30 days old and kept by no rule');
    // Keep and remove are a partition of the archives.
    expect(new Set([...plan.keep.map((k) => k.id), ...plan.remove.map((r) => r.id)]).size).toBe(
      365,
    );
  });

  it('keep-last keeps exactly the newest N', () => {
    const plan = planRetention(candidates(YEAR), { keepLast: 10 }, NOW);
    expect(keptDays(plan)).toEqual(dailyNames('2026-05-22', '2026-05-31').map(dayOf).sort());
    expect(plan.keep[0]!.reasons).toEqual(['newest archive (always kept)', 'one of the last 10']);
    expect(plan.keep[9]!.reasons).toEqual(['one of the last 10']);
  });

  it('daily/weekly/monthly combined with days: a backup kept by any rule stays (ISO weeks, month ends)', () => {
    const policy: RetentionPolicy = { days: 3, keepDaily: 7, keepWeekly: 4, keepMonthly: 12 };
    const plan = planRetention(candidates(YEAR), policy, NOW);
    // Computed independently (Python's date.isocalendar()).
    expect(keptDays(plan)).toEqual([
      '2025-06-30',
      '2025-07-31',
      '2025-08-31',
      '2025-09-30',
      '2025-10-31',
      '2025-11-30',
      '2025-12-31',
      '2026-01-31',
      '2026-02-28',
      '2026-03-31',
      '2026-04-30',
      '2026-05-10',
      '2026-05-17',
      '2026-05-24',
      '2026-05-25',
      '2026-05-26',
      '2026-05-27',
      '2026-05-28',
      '2026-05-29',
      '2026-05-30',
      '2026-05-31',
    ]);
    const reasons = new Map(plan.keep.map((k) => [dayOf(k.id), k.reasons]));
    expect(reasons.get('2026-05-31')).toEqual([
      'newest archive (always kept)',
      'younger than 3 days',
      'daily 2026-05-31',
      'weekly 2026-W22',
      'monthly 2026-05',
    ]);
    expect(reasons.get('2026-05-24')).toEqual(['weekly 2026-W21']);
    expect(reasons.get('2026-05-25')).toEqual(['daily 2026-05-25']);
    expect(reasons.get('2026-02-28')).toEqual(['monthly 2026-02']);
    expect(reasons.get('2025-12-31')).toEqual(['monthly 2025-12']);
  });

  it('weekly buckets are ISO weeks across a year boundary (2026-W53 spans into 2027)', () => {
    const names = dailyNames('2026-12-01', '2027-01-10');
    const plan = planRetention(candidates(names), { keepWeekly: 3 }, at('2027-01-10T12:00:00Z'));
    // Sun 2027-01-10 (2027-W01), Sun 2027-01-03 (2026-W53), Sun 2026-12-27 (2026-W52);
    // a per-calendar-year week would keep Thu 2026-12-31 instead of 2026-12-27.
    expect(keptDays(plan)).toEqual(['2026-12-27', '2027-01-03', '2027-01-10']);
    expect(plan.keep.map((k) => k.reasons.at(-1))).toEqual([
      'weekly 2027-W01',
      'weekly 2026-W53',
      'weekly 2026-W52',
    ]);
  });

  it('monthly buckets end on each month’s last backup, across the year boundary', () => {
    const names = dailyNames('2026-10-15', '2027-01-10');
    const plan = planRetention(candidates(names), { keepMonthly: 3 }, at('2027-01-10T12:00:00Z'));
    expect(keptDays(plan)).toEqual(['2026-11-30', '2026-12-31', '2027-01-10']);
  });

  it('several archives in one day: the newest of the day is the daily one', () => {
    const names = [
      'critical_backup_20260530_020000.tar.gz',
      'critical_backup_20260530_080000.tar.gz',
      'critical_backup_20260530_200000.tar.gz',
      'critical_backup_20260530_140000.tar.gz',
      'critical_backup_20260531_020000.tar.gz',
      // Two backups in the same second: the `_2` one is the later.
      'critical_backup_20260531_020000_2.tar.gz',
      'critical_backup_20260529_235959.tar.gz',
    ];
    const plan = planRetention(candidates(names), { keepDaily: 2 }, NOW);
    expect(plan.keep.map((k) => k.id)).toEqual([
      'critical_backup_20260531_020000_2',
      'critical_backup_20260530_200000',
    ]);
    expect(plan.keep[1]!.reasons).toEqual(['daily 2026-05-30']);
    expect(plan.remove.map((r) => r.id).sort()).toEqual([
      'critical_backup_20260529_235959',
      'critical_backup_20260530_020000',
      'critical_backup_20260530_080000',
      'critical_backup_20260530_140000',
      'critical_backup_20260531_020000',
    ]);
  });

  it('always keeps the newest, even when every rule would drop it', () => {
    // The last backup ran 60 days ago: `days: 30` alone would delete every archive.
    const names = dailyNames('2026-01-01', '2026-04-01');
    const plan = planRetention(candidates(names), { days: 30 }, NOW);
    expect(plan.keep).toEqual([
      { id: 'critical_backup_20260401_020000', reasons: ['newest archive (always kept)'] },
    ]);
    expect(plan.remove).toHaveLength(names.length - 1);
  });

  it('a policy without any rule removes nothing', () => {
    const plan = planRetention(candidates(YEAR), {}, NOW);
    expect(plan.remove).toEqual([]);
    expect(plan.keep).toHaveLength(365);
  });

  it('the same backup stored twice (plain and .age copy) is planned once', () => {
    const names = [
      'critical_backup_20260101_020000.tar.gz',
      'critical_backup_20260101_020000.tar.gz.age',
      'critical_backup_20260102_020000.tar.gz',
    ];
    const plan = planRetention(candidates(names), { keepLast: 1 }, NOW);
    expect(plan.keep.map((k) => k.id)).toEqual(['critical_backup_20260102_020000']);
    expect(plan.remove.map((r) => r.id)).toEqual(['critical_backup_20260101_020000']);
  });

  it('never deletes everything and partitions the archives, whatever the policy (property)', () => {
    const policyArb = fc.record(
      {
        days: fc.integer({ min: 1, max: 400 }),
        keepLast: fc.integer({ min: 1, max: 50 }),
        keepDaily: fc.integer({ min: 1, max: 50 }),
        keepWeekly: fc.integer({ min: 1, max: 20 }),
        keepMonthly: fc.integer({ min: 1, max: 24 }),
      },
      { requiredKeys: [] },
    );
    const archivesArb = fc.uniqueArray(
      fc.integer({ min: Date.parse('2024-01-01T00:00:00Z') / 1000, max: NOW.getTime() / 1000 }),
      { minLength: 1, maxLength: 120 },
    );
    fc.assert(
      fc.property(
        archivesArb,
        policyArb,
        fc.integer({ min: 0, max: 800 }),
        (secs, policy, ahead) => {
          const list = secs.map((s) => {
            const d = new Date(s * 1000);
            return { id: archiveBaseName('critical_backup', d), createdAt: d.toISOString() };
          });
          const uniqueIds = new Set(list.map((a) => a.id));
          const plan = planRetention(list, policy, new Date(NOW.getTime() + ahead * DAY));
          const newest = [...list].sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0]!;
          expect(plan.keep.length).toBeGreaterThan(0);
          expect(plan.keep.map((k) => k.id)).toContain(newest.id);
          const kept = new Set(plan.keep.map((k) => k.id));
          for (const r of plan.remove) expect(kept.has(r.id)).toBe(false);
          expect(plan.keep.length + plan.remove.length).toBe(uniqueIds.size);
          if (policy.keepLast)
            expect(plan.keep.length).toBeGreaterThanOrEqual(
              Math.min(policy.keepLast, uniqueIds.size),
            );
        },
      ),
      { numRuns: 300 },
    );
  });
});

/* ------------------------------------------------------------- engine.prune */

const ARCHIVE = /^critical_backup_\d{8}_\d{6}\.tar\.gz$/;

async function keysOf(storage: Storage) {
  return (await storage.list('')).map((o) => o.key).sort();
}

/** Files that are not this engine's archives: prune must never touch them. */
const FOREIGN = [
  'notes.txt',
  'critical_backup_latest.tar.gz',
  'critical_backup_20250601_020000.tar.gz.partial',
  'critical_backup_eu_20250601_020000.tar.gz',
  'other_app_20250601_020000.tar.gz',
  'old/critical_backup_20250101_020000.tar.gz',
  '.lifeboat/notes.json',
];

async function fill(storage: Storage, names: string[]) {
  await storage.connect();
  // Each archive with the index record its backup would have written beside it.
  for (const name of names) await putIndexedArchive(storage, name, `x ${name}`);
  for (const name of FOREIGN) await storage.put(name, Buffer.from(`x ${name}`));
  // An old history record, as a backup a year ago left it.
  await recordRun(storage, {
    kind: 'backup',
    ok: true,
    id: 'critical_backup_20250601_020000',
    startedAt: '2025-06-01T02:00:00.000Z',
    durationMs: 10,
  });
}

function engineOn(storage: Storage, retention: RetentionPolicy, now: Date, source?: Source) {
  return createEngine({
    sources: [source ?? fileSource({ 'a.txt': 'alpha' }).source],
    storage,
    retention,
    now: () => now,
  });
}

describe('engine.prune', () => {
  it('applies the policy to a year of archives in a storage, and nothing else', async () => {
    const storage = memoryStorage();
    await fill(storage, YEAR);
    const historyBefore = await storage.list('.lifeboat/history/');
    const engine = engineOn(storage, { days: 30 }, NOW);
    const deletedEvents: string[] = [];
    engine.events.on('prune:deleted', (e) => deletedEvents.push(e.id));
    const result = await engine.prune();
    expect(result.dryRun).toBe(false);
    expect(result.deleted).toHaveLength(335);
    expect(deletedEvents).toHaveLength(335);
    const left = (await storage.list(''))
      .map((o) => o.key)
      .filter((n) => !n.includes('/') && ARCHIVE.test(n));
    expect(left.sort()).toEqual(dailyNames('2026-05-02', '2026-05-31').sort());
    for (const f of FOREIGN) expect((await storage.stat(f)).bytes).toBeGreaterThan(0);
    // The old record is still there, and the prune recorded itself.
    const history = await storage.list('.lifeboat/history/');
    expect(history.map((o) => o.key)).toEqual(
      expect.arrayContaining(historyBefore.map((o) => o.key)),
    );
    const runs = await engine.history();
    const pruneRun = runs.find((r) => r.kind === 'prune')!;
    expect(pruneRun.deleted).toHaveLength(335);
    // No lock left behind.
    await expect(storage.stat('.lifeboat/lock')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // A second prune has nothing left to do.
    expect((await engine.prune()).deleted).toEqual([]);
    await engine.close();
  });

  it('records every prune it runs, also one with nothing to delete and one that fails', async () => {
    const inner = memoryStorage();
    await fill(inner, YEAR);
    const storage = faultyStorage(inner);
    const engine = engineOn(storage, { days: 400 }, NOW);
    // Nothing is old enough: monitoring must still see that retention ran (before: no record).
    expect((await engine.prune()).deleted).toEqual([]);
    const [quiet] = (await engine.history()).filter((r) => r.kind === 'prune');
    expect(quiet).toMatchObject({ kind: 'prune', ok: true, deleted: [] });
    // A storage that refuses deletes: the prune fails and says so in the history.
    const strict = engineOn(storage, { days: 30 }, NOW);
    storage.setFaults({ failDelete: true, match: (k) => k.endsWith('.tar.gz') });
    await expect(strict.prune()).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
    storage.setFaults({});
    const failed = (await strict.history()).find((r) => r.kind === 'prune' && !r.ok);
    expect(failed).toMatchObject({ kind: 'prune', ok: false, error: { code: 'STORAGE_FAILED' } });
    await engine.close();
    await strict.close();
  });

  it('forgets run records older than every kept archive and 90 days, never the newest 100', async () => {
    const storage = memoryStorage();
    await fill(storage, YEAR);
    // Three runs a day for the year before NOW, and a record not named by Lifeboat.
    for (let d = 0; d < 365; d++) {
      for (const hour of [2, 10, 18]) {
        await recordRun(storage, {
          kind: 'verify',
          ok: true,
          startedAt: new Date(NOW.getTime() - d * DAY - hour * 3600_000).toISOString(),
          durationMs: 1,
        });
      }
    }
    await storage.put('.lifeboat/history/imported.json', Buffer.from('{}'));
    const engine = engineOn(storage, { days: 30 }, NOW);
    const dry = await engine.prune({ dryRun: true });
    expect(dry.historyDeleted).toBe(0);
    const result = await engine.prune();
    const left = (await storage.list('.lifeboat/history/')).map((o) => o.key);
    const times = left
      .map((k) => /(\d{8}T\d{6}Z)/.exec(k)?.[1])
      .filter((t): t is string => Boolean(t))
      .map((t) =>
        Date.parse(
          `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}T${t.slice(9, 11)}:${t.slice(11, 13)}:${t.slice(13, 15)}Z`,
        ),
      );
    // Archives kept reach back 30 days, so the 90-day floor decides: nothing older is left
    // (the year-old record of fill() included), everything younger is.
    expect(Math.min(...times)).toBeGreaterThanOrEqual(NOW.getTime() - 90 * DAY);
    expect(times.filter((t) => t >= NOW.getTime() - 89 * DAY).length).toBe(89 * 3 + 1);
    expect(result.historyDeleted).toBe(365 * 3 + 1 - (times.length - 1));
    expect(left).toContain('.lifeboat/history/imported.json');
    await engine.close();

    // A policy that keeps an archive from 200 days ago keeps the history since then; and with
    // only a few records, none goes, whatever their age.
    const monthly = memoryStorage();
    await fill(monthly, YEAR);
    for (let d = 0; d < 365; d++) {
      await recordRun(monthly, {
        kind: 'verify',
        ok: true,
        startedAt: new Date(NOW.getTime() - d * DAY).toISOString(),
        durationMs: 1,
      });
    }
    const kept = createEngine({
      sources: [fileSource({ 'a.txt': 'alpha' }).source],
      storage: monthly,
      retention: { keepMonthly: 7 },
      now: () => NOW,
    });
    const plan = await kept.prune();
    const oldest = plan.keep.map((k) => k.id).sort()[0]!;
    const oldestAt = Date.parse(
      `${oldest.slice(16, 20)}-${oldest.slice(20, 22)}-${oldest.slice(22, 24)}T00:00:00Z`,
    );
    const stamps = (await monthly.list('.lifeboat/history/')).map((o) => o.key).sort();
    expect(stamps.length).toBeGreaterThan(100);
    const first = /(\d{8})T/.exec(stamps[0]!)![1]!;
    expect(
      Date.parse(`${first.slice(0, 4)}-${first.slice(4, 6)}-${first.slice(6, 8)}T00:00:00Z`),
    ).toBe(oldestAt);
    await kept.close();
    const few = memoryStorage();
    await fill(few, YEAR);
    const quiet = engineOn(few, { days: 30 }, NOW);
    expect((await quiet.prune()).historyDeleted).toBe(0);
    await quiet.close();
  });

  it('--dry-run deletes nothing and lists what would go and why', async () => {
    const storage = memoryStorage();
    await fill(storage, YEAR);
    const before = await keysOf(storage);
    const engine = engineOn(storage, { keepDaily: 7, keepWeekly: 4, keepMonthly: 12 }, NOW);
    const result = await engine.prune({ dryRun: true });
    expect(result.dryRun).toBe(true);
    expect(result.deleted).toEqual([]);
    expect(result.keep).toHaveLength(7 + 3 + 11);
    expect(result.remove).toHaveLength(365 - 21);
    for (const r of result.remove) expect(r.reason).toMatch(/^\d+ days old and kept by no rule$/);
    expect(await keysOf(storage)).toEqual(before);
    // A dry run writes nothing, not even a history record or a lock.
    expect((await engine.history()).filter((r) => r.kind === 'prune')).toEqual([]);
  });

  it('leaves archives of another prefix alone, and prunes its own prefix only', async () => {
    const storage = memoryStorage();
    await fill(storage, [...YEAR, ...dailyNames('2025-06-01', '2025-06-10', 'tenant_b')]);
    const engine = createEngine({
      sources: [fileSource({ 'a.txt': 'alpha' }).source],
      storage,
      prefix: 'tenant_b',
      retention: { days: 30 },
      now: () => NOW,
    });
    const result = await engine.prune();
    // All ten tenant_b archives are old; only its newest stays.
    expect(result.keep.map((k) => k.id)).toEqual(['tenant_b_20250610_020000']);
    expect(result.deleted).toHaveLength(9);
    expect((await keysOf(storage)).filter((k) => ARCHIVE.test(k))).toHaveLength(365);
  });

  it('never runs after a failed backup', async () => {
    const old = dailyNames('2026-03-01', '2026-03-31');
    let fail = true;
    const flaky: Source = {
      ...fileSource({}).source,
      id: 'flaky',
      async backup(ctx) {
        if (fail) throw new Error('the database went away');
        await ctx.emit({ path: 'a.txt', type: 'file', size: 1, body: () => Readable.from(['a']) });
        return { files: 1 };
      },
    };
    const storage = memoryStorage();
    await fill(storage, old);
    const engine = engineOn(storage, { days: 30 }, NOW, flaky);
    const pruneEvents: unknown[] = [];
    engine.events.on('prune:planned', (p) => pruneEvents.push(p));
    const error = await engine.backup().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LifeboatError);
    expect((error as LifeboatError).code).toBe('SOURCE_FAILED');
    expect(pruneEvents).toEqual([]);
    expect((await engine.list()).map((a) => a.id).sort()).toEqual(
      old.map((n) => n.replace('.tar.gz', '')).sort(),
    );
    // The same policy does delete them once a backup succeeds.
    fail = false;
    const result = await engine.backup();
    expect(result.pruned.sort()).toEqual(old.sort());
    expect((await engine.list()).map((a) => a.id)).toEqual([result.id]);
    for (const f of FOREIGN) await expect(storage.stat(f)).resolves.toBeDefined();
  });

  it('a policy that would delete every archive still leaves the newest', async () => {
    const storage = memoryStorage();
    const names = dailyNames('2025-06-01', '2025-12-31');
    await fill(storage, names);
    const engine = engineOn(storage, { days: 1, keepLast: 1 }, NOW);
    const result = await engine.prune();
    expect(result.deleted).toHaveLength(names.length - 1);
    expect((await engine.list()).map((a) => a.id)).toEqual(['critical_backup_20251231_020000']);
  });

  it('deletes both copies of a removed backup', async () => {
    const storage = memoryStorage();
    await fill(storage, [
      'critical_backup_20260101_020000.tar.gz',
      'critical_backup_20260101_020000.tar.gz.age',
      'critical_backup_20260102_020000.tar.gz',
    ]);
    const engine = engineOn(storage, { keepLast: 1 }, NOW);
    const result = await engine.prune();
    expect(result.deleted.sort()).toEqual([
      'critical_backup_20260101_020000.tar.gz',
      'critical_backup_20260101_020000.tar.gz.age',
    ]);
  });
});
