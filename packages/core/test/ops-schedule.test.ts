import { createEngine, LifeboatError, memoryStorage, type Source } from '@lifeboat/core';
import { describe, expect, it } from 'vitest';
import { schedule } from '../src/engine/schedule.js';
import { fileSource } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A source that takes `delayMs` and counts how many backups run at the same time. */
function countingSource(delayMs: number) {
  const stats = { running: 0, maxRunning: 0, started: 0 };
  const source: Source = {
    ...fileSource({}).source,
    id: 'counting',
    async backup(ctx) {
      stats.started++;
      stats.running++;
      stats.maxRunning = Math.max(stats.maxRunning, stats.running);
      try {
        await sleep(delayMs);
        await ctx.emit({ path: 'a.txt', type: 'file', size: 1, body: Buffer.from('a') });
        return { files: 1 };
      } finally {
        stats.running--;
      }
    },
  };
  return { source, stats };
}

describe('engine.schedule', () => {
  it('runs backups on a cron schedule (seconds) until stopped', async () => {
    const { source, stats } = countingSource(0);
    const engine = createEngine({ sources: [source], storage: memoryStorage() });
    const done: string[] = [];
    engine.events.on('backup:succeeded', (r) => done.push(r.id));
    const errors: unknown[] = [];
    const s = engine.schedule('* * * * * *', { onError: (e) => errors.push(e) });
    const next = s.nextRun();
    expect(next).toBeInstanceOf(Date);
    expect(next!.getTime() - Date.now()).toBeLessThanOrEqual(1000);
    await sleep(2600);
    await s.stop();
    expect(errors).toEqual([]);
    expect(done.length).toBeGreaterThanOrEqual(2);
    expect(new Set(done).size).toBe(done.length);
    expect(await engine.list()).toHaveLength(done.length);
    const count = stats.started;
    await sleep(1300);
    expect(stats.started).toBe(count);
    expect(s.nextRun()).toBeNull();
  });

  it('never overlaps a slow backup: the due run is skipped with RUN_SKIPPED', async () => {
    const { source, stats } = countingSource(2300);
    const engine = createEngine({ sources: [source], storage: memoryStorage() });
    const skipped: string[] = [];
    engine.events.on('warning', (w) => {
      if (w.code === 'RUN_SKIPPED') skipped.push(w.message);
    });
    const errors: unknown[] = [];
    const s = engine.schedule('* * * * * *', { onError: (e) => errors.push(e) });
    await sleep(1100);
    expect(s.isBusy()).toBe(true);
    await sleep(2000);
    expect(stats.maxRunning).toBe(1);
    expect(skipped.length).toBeGreaterThanOrEqual(1);
    expect(skipped[0]).toContain('still running');
    // stop() waits for the run in progress.
    await s.stop();
    expect(s.isBusy()).toBe(false);
    expect(stats.running).toBe(0);
    expect(errors).toEqual([]);
    expect(stats.maxRunning).toBe(1);
  });

  it('a signal stops the schedule and cancels the backup under way; afterRun follows each run', async () => {
    let started = 0;
    const source: Source = {
      ...fileSource({}).source,
      id: 'waits',
      async backup(ctx) {
        started++;
        // Runs until cancelled: only the schedule's signal can end it.
        await new Promise((_, reject) =>
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true }),
        );
        return { files: 0 };
      },
    };
    const storage = memoryStorage();
    const engine = createEngine({ sources: [source], storage });
    const controller = new AbortController();
    const errors: unknown[] = [];
    let after = 0;
    const s = engine.schedule('* * * * * *', {
      signal: controller.signal,
      onError: (e) => errors.push(e),
      afterRun: () => {
        after++;
      },
    });
    for (let i = 0; i < 40 && !s.isBusy(); i++) await sleep(100);
    expect(s.isBusy()).toBe(true);
    controller.abort(new LifeboatError('ABORTED', 'Cancelled by SIGTERM'));
    await s.stop();
    expect(s.isBusy()).toBe(false);
    expect(started).toBe(1);
    expect(after).toBe(1);
    expect(errors).toHaveLength(1);
    expect((errors[0] as LifeboatError).code).toBe('ABORTED');
    expect(s.nextRun()).toBeNull();
    const history = await engine.history();
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ kind: 'backup', ok: false, cancelled: true });
    expect((await storage.list('')).map((o) => o.key)).not.toContain('.lifeboat/lock');
    // Only the history record: no partial archive was left.
    expect((await storage.list('')).filter((o) => !o.key.startsWith('.lifeboat/'))).toEqual([]);
    await sleep(1300);
    expect(started).toBe(1);
  });

  it('hands a failed run to onError and keeps the schedule going', async () => {
    let calls = 0;
    const errors: unknown[] = [];
    const s = schedule(
      '* * * * * *',
      async () => {
        calls++;
        throw new LifeboatError('SOURCE_FAILED', 'down');
      },
      {
        onError: (e) => {
          errors.push(e);
          throw new Error('a handler that throws');
        },
      },
    );
    await sleep(2300);
    await s.stop();
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(errors).toHaveLength(calls);
    expect((errors[0] as LifeboatError).code).toBe('SOURCE_FAILED');
  });

  it('an invalid cron expression or time zone is CONFIG_INVALID', () => {
    const engine = createEngine({
      sources: [fileSource({ a: 'a' }).source],
      storage: memoryStorage(),
    });
    for (const cron of ['not a cron', '61 * * * *', '* * * *']) {
      let error: unknown;
      try {
        engine.schedule(cron);
      } catch (e) {
        error = e;
      }
      expect(error, cron).toBeInstanceOf(LifeboatError);
      expect((error as LifeboatError).code).toBe('CONFIG_INVALID');
      expect((error as LifeboatError).message).toContain(`"${cron}"`);
    }
    expect(() => engine.schedule('0 2 * * *', { timezone: 'Mars/Olympus' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });

  it('runs in the given time zone', async () => {
    const s = schedule('0 0 2 * * *', async () => {}, { timezone: 'Asia/Tokyo' });
    const next = s.nextRun()!;
    await s.stop();
    // 02:00 in Tokyo is 17:00 UTC.
    expect(next.getUTCHours()).toBe(17);
    expect(next.getUTCMinutes()).toBe(0);
  });
});
