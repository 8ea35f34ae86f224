import {
  createEngine,
  type Engine,
  type EngineConfig,
  LifeboatError,
  memoryStorage,
  type NotificationEvent,
  type Notifier,
  type Source,
} from '@lifeboat/core';
import { faultyStorage, putIndexedArchive } from '@lifeboat/core/testing';
import { describe, expect, it } from 'vitest';
import { notifyAll } from '../src/engine/notify.js';
import { fileSource } from './helpers.js';

function clock(start: string) {
  let t = Date.parse(start);
  return {
    now: () => new Date(t),
    set: (iso: string) => {
      t = Date.parse(iso);
    },
  };
}

/** A source that fails on demand; each success writes `size` bytes. */
function switchableSource() {
  const state = { fail: false, size: 100 };
  const source: Source = {
    ...fileSource({}).source,
    id: 'switchable',
    async backup(ctx) {
      if (state.fail) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      const body = Buffer.alloc(state.size, 'x');
      await ctx.emit({ path: 'a.txt', type: 'file', size: body.length, body });
      return { files: 1 };
    },
  };
  return { source, state };
}

function recordingNotifier(id = 'recorder') {
  const events: NotificationEvent[] = [];
  const notifier: Notifier = {
    id,
    describe: () => id,
    async notify(event) {
      events.push(event);
    },
  };
  return { notifier, events };
}

const brokenNotifier = (id = 'smtp'): Notifier => ({
  id,
  describe: () => id,
  async notify() {
    throw new Error('535 auth failed for smtp://mailer:Hunter22@mail.example:587');
  },
});

function setup(over: Partial<EngineConfig> = {}) {
  const c = clock('2026-03-01T02:00:00Z');
  const s = switchableSource();
  const engine = createEngine({
    sources: [s.source],
    storage: memoryStorage(),
    now: c.now,
    retention: { days: 30 },
    ...over,
  });
  return { engine, clock: c, state: s.state };
}

async function failOnce(engine: Engine, state: { fail: boolean }) {
  state.fail = true;
  const e = await engine.backup().catch((error: unknown) => error as LifeboatError);
  state.fail = false;
  expect(e).toBeInstanceOf(LifeboatError);
  return e as LifeboatError;
}

describe('status and report', () => {
  it('status after a mix of successes, failures and a verify', async () => {
    const { engine, clock, state } = setup();
    const empty = await engine.status();
    expect(empty.lastSuccess).toBeUndefined();
    expect(empty.successRate).toEqual({ days: 30, runs: 0, succeeded: 0, rate: null });
    expect(empty.archives).toEqual({ count: 0, totalBytes: 0, untrusted: [] });

    state.size = 100;
    const first = await engine.backup();
    clock.set('2026-03-01T14:00:00Z');
    const failure = await failOnce(engine, state);
    expect(failure.code).toBe('SOURCE_FAILED');
    clock.set('2026-03-03T02:00:00Z');
    state.size = 5000;
    await engine.backup();
    clock.set('2026-03-03T09:00:00Z');
    const last = await engine.backup();
    clock.set('2026-03-03T10:00:00Z');
    const verified = await engine.verify('latest');
    expect(verified.ok).toBe(true);
    clock.set('2026-03-04T02:00:00Z');
    await failOnce(engine, state);
    clock.set('2026-03-04T05:30:00Z');

    const s = await engine.status();
    expect(s.lastSuccess).toEqual({
      id: last.id,
      at: '2026-03-03T09:00:00.000Z',
      ageHours: 20.5,
      bytes: last.bytes,
      durationMs: last.durationMs,
    });
    expect(s.lastFailure).toEqual({
      at: '2026-03-04T02:00:00.000Z',
      code: 'SOURCE_FAILED',
      message: expect.stringContaining('ECONNREFUSED'),
    });
    expect(s.lastVerify).toEqual({
      id: last.id,
      at: '2026-03-03T10:00:00.000Z',
      ok: true,
      deep: false,
    });
    const list = await engine.list();
    expect(s.archives).toEqual({
      count: 3,
      totalBytes: list.reduce((n, a) => n + a.bytes, 0),
      newest: last.id,
      oldest: first.id,
      untrusted: [],
    });
    expect(s.successRate).toEqual({ days: 30, runs: 5, succeeded: 3, rate: 0.6 });
    // Newest first; the verify is among the recent runs.
    expect(s.recentRuns.map((r) => `${r.kind}:${r.ok}`)).toEqual([
      'backup:false',
      'verify:true',
      'backup:true',
      'backup:true',
      'backup:false',
      'backup:true',
    ]);
    // A shorter window counts only the runs in it.
    const day = await engine.status({ days: 1 });
    expect(day.successRate).toMatchObject({ runs: 2, succeeded: 1, rate: 0.5 });
    expect(day.lastSuccess?.id).toBe(last.id);
  });

  it('report: one row per day, days without runs included, with averages of the successful runs', async () => {
    const { engine, clock, state } = setup();
    clock.set('2026-03-01T02:00:00Z');
    state.size = 1000;
    await engine.backup();
    clock.set('2026-03-01T14:00:00Z');
    await failOnce(engine, state);
    // 2026-03-02: nothing ran.
    clock.set('2026-03-03T02:00:00Z');
    state.size = 2000;
    await engine.backup();
    clock.set('2026-03-03T09:00:00Z');
    state.size = 4000;
    await engine.backup();
    clock.set('2026-03-04T02:00:00Z');
    await failOnce(engine, state);
    clock.set('2026-03-04T23:59:00Z');

    const runs = (await engine.history()).filter((r) => r.kind === 'backup');
    const on = (day: string) => runs.filter((r) => r.startedAt.startsWith(day));
    const ok3 = on('2026-03-03');
    expect(ok3).toHaveLength(2);

    const rows = await engine.report({ days: 5 });
    expect(rows.map((r) => r.day)).toEqual([
      '2026-02-28',
      '2026-03-01',
      '2026-03-02',
      '2026-03-03',
      '2026-03-04',
    ]);
    expect(rows[0]).toEqual({
      day: '2026-02-28',
      runs: 0,
      succeeded: 0,
      successRate: null,
      avgDurationMs: null,
      maxDurationMs: null,
      avgBytes: null,
    });
    const ok1 = on('2026-03-01').find((r) => r.ok)!;
    expect(rows[1]).toEqual({
      day: '2026-03-01',
      runs: 2,
      succeeded: 1,
      successRate: 0.5,
      avgDurationMs: ok1.durationMs,
      maxDurationMs: ok1.durationMs,
      avgBytes: ok1.bytes,
    });
    expect(rows[2]).toMatchObject({ runs: 0, successRate: null, avgBytes: null });
    expect(rows[3]).toEqual({
      day: '2026-03-03',
      runs: 2,
      succeeded: 2,
      successRate: 1,
      avgDurationMs: Math.round((ok3[0]!.durationMs + ok3[1]!.durationMs) / 2),
      maxDurationMs: Math.max(ok3[0]!.durationMs, ok3[1]!.durationMs),
      avgBytes: Math.round((ok3[0]!.bytes! + ok3[1]!.bytes!) / 2),
    });
    // The two archives differ in size, so the average is between them.
    expect(ok3[0]!.bytes).not.toBe(ok3[1]!.bytes);
    expect(rows[4]).toEqual({
      day: '2026-03-04',
      runs: 1,
      succeeded: 0,
      successRate: 0,
      avgDurationMs: null,
      maxDurationMs: null,
      avgBytes: null,
    });
    // A window that starts after the runs holds only empty days.
    clock.set('2026-03-20T12:00:00Z');
    const later = await engine.report({ days: 3 });
    expect(later.map((r) => r.runs)).toEqual([0, 0, 0]);
  });

  it('rejects a window that is not a whole number of days', async () => {
    const { engine } = setup();
    await expect(engine.report({ days: 0 })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(engine.report({ days: 2.5 })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(engine.status({ days: -1 })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('the history is shared through the storage: a fresh engine on the same storage sees it', async () => {
    const storage = memoryStorage();
    const a = setup({ storage });
    await a.engine.backup();
    const b = setup({ storage });
    b.clock.set('2026-03-01T05:00:00Z');
    const s = await b.engine.status();
    expect(s.lastSuccess).toMatchObject({ at: '2026-03-01T02:00:00.000Z', ageHours: 3 });
    // A damaged record does not hide the others.
    await storage.put('.lifeboat/history/20260301T030000Z_backup_x_abc.json', Buffer.from('{'));
    expect((await b.engine.history()).length).toBe(1);
  });
});

describe('notifications', () => {
  it('a failing notifier never fails the backup; it is reported everywhere, redacted', async () => {
    const rec = recordingNotifier();
    const { engine, clock } = setup({ notifiers: [brokenNotifier(), rec.notifier] });
    const failed: unknown[] = [];
    engine.events.on('notify:failed', (e) => failed.push(e));
    const result = await engine.backup();
    expect(result.notifications).toEqual([
      {
        notifier: 'smtp',
        ok: false,
        error: expect.stringContaining('smtp://mailer:***@mail.example:587'),
      },
      { notifier: 'recorder', ok: true },
    ]);
    expect(rec.events).toHaveLength(1);
    expect(rec.events[0]).toMatchObject({ kind: 'backup:succeeded', result: { id: result.id } });
    expect(failed).toEqual([
      {
        notifier: 'smtp',
        kind: 'backup:succeeded',
        error: expect.objectContaining({ code: 'NOTIFY_FAILED' }),
      },
    ]);
    expect(JSON.stringify(failed)).not.toContain('Hunter22');
    const record = (await engine.history()).find((r) => r.kind === 'backup')!;
    expect(record.ok).toBe(true);
    expect(record.notifications).toEqual(result.notifications);
    clock.set('2026-03-01T03:00:00Z');
    const s = await engine.status();
    expect(s.notificationFailures).toEqual([
      {
        at: '2026-03-01T02:00:00.000Z',
        notifier: 'smtp',
        error: expect.stringContaining('535 auth failed'),
      },
    ]);
    expect(JSON.stringify(s)).not.toContain('Hunter22');
  });

  it('a failed backup is notified with its error code, and recorded with the notification outcome', async () => {
    const rec = recordingNotifier();
    const { engine, state } = setup({ notifiers: [rec.notifier, brokenNotifier()] });
    const e = await failOnce(engine, state);
    expect(rec.events).toEqual([
      {
        kind: 'backup:failed',
        error: { code: 'SOURCE_FAILED', message: e.message, hint: e.hint },
        at: new Date('2026-03-01T02:00:00Z'),
        storage: 'memory',
      },
    ]);
    const record = (await engine.history())[0]!;
    expect(record).toMatchObject({
      kind: 'backup',
      ok: false,
      error: { code: 'SOURCE_FAILED' },
      notifications: [
        { notifier: 'recorder', ok: true },
        { notifier: 'smtp', ok: false },
      ],
    });
  });

  it('a storage that cannot be reached fails the backup and is still notified', async () => {
    const rec = recordingNotifier();
    const { engine } = setup({
      storage: faultyStorage(memoryStorage(), {
        failConnect: true,
        error: () => new LifeboatError('STORAGE_FAILED', 'Cannot reach the storage'),
      }),
      notifiers: [rec.notifier],
    });
    const failedEvents: unknown[] = [];
    engine.events.on('backup:failed', (e) => failedEvents.push(e));
    await expect(engine.backup()).rejects.toBeInstanceOf(LifeboatError);
    expect(rec.events.map((e) => e.kind)).toEqual(['backup:failed']);
    expect(failedEvents).toHaveLength(1);
  });

  it('notifyTest reaches every notifier and reports each outcome', async () => {
    const rec = recordingNotifier();
    const { engine } = setup({ notifiers: [rec.notifier, brokenNotifier()] });
    const outcomes = await engine.notifyTest();
    expect(outcomes.map((o) => [o.notifier, o.ok])).toEqual([
      ['recorder', true],
      ['smtp', false],
    ]);
    expect(rec.events).toEqual([{ kind: 'test', at: new Date('2026-03-01T02:00:00Z') }]);
  });

  it('a notifier that never answers is given up after the timeout, and told to stop', async () => {
    let aborted = false;
    const hanging: Notifier = {
      id: 'hanging',
      describe: () => 'hanging',
      notify: (_event, options) =>
        new Promise<void>(() => {
          options?.signal?.addEventListener('abort', () => {
            aborted = true;
          });
        }),
    };
    const rec = recordingNotifier();
    const { engine } = setup({ notifiers: [hanging, rec.notifier] });
    const started = Date.now();
    const outcomes = await notifyAll(
      engine.context,
      { kind: 'test', at: new Date() },
      { timeoutMs: 200 },
    );
    expect(Date.now() - started).toBeLessThan(2000);
    expect(outcomes).toEqual([
      { notifier: 'hanging', ok: false, error: 'hanging did not deliver within 200 ms' },
      { notifier: 'recorder', ok: true },
    ]);
    expect(aborted).toBe(true);
  });

  it('a notifier that throws synchronously is reported like any other failure', async () => {
    const sync: Notifier = {
      id: 'sync',
      describe: () => 'sync',
      notify: () => {
        throw new Error('boom');
      },
    };
    const { engine } = setup({ notifiers: [sync] });
    const result = await engine.backup();
    expect(result.notifications).toEqual([
      { notifier: 'sync', ok: false, error: 'A notification could not be delivered: boom' },
    ]);
  });
});

describe('low free space after a backup', () => {
  it('warns with LOW_FREE_SPACE, and the prune deletes nothing beyond the policy', async () => {
    const storage = memoryStorage({ freeBytes: 10 * 1024 * 1024 });
    await storage.connect();
    // 40 nightly archives; with `days: 30`, exactly the 10 oldest are beyond the policy.
    const names: string[] = [];
    for (let i = 40; i >= 1; i--) {
      const d = new Date(Date.parse('2026-03-01T02:00:00Z') - i * 86400_000);
      const name = `critical_backup_${d.toISOString().slice(0, 10).replaceAll('-', '')}_020000.tar.gz`;
      names.push(name);
      await putIndexedArchive(storage, name, Buffer.alloc(1000));
    }
    const { engine } = setup({ storage, health: { maxAgeHours: 25, minFreeBytes: 1024 ** 3 } });
    const warnings: { code: string }[] = [];
    engine.events.on('warning', (w) => warnings.push(w));
    const result = await engine.backup();
    expect(result.warnings).toEqual([
      {
        code: 'LOW_FREE_SPACE',
        message: 'Only 0.01 GiB free in memory (minimum 1.00 GiB)',
      },
    ]);
    expect(warnings.map((w) => w.code)).toEqual(['LOW_FREE_SPACE']);
    expect(result.pruned.sort()).toEqual(names.slice(0, 10).sort());
    expect(await engine.list()).toHaveLength(31);
    // The warning is in the history record too.
    const record = (await engine.history()).find((r) => r.kind === 'backup')!;
    expect(record.problems).toEqual(result.warnings);
  });
});
