import { createEngine, LifeboatError, LOCK_KEY, memoryStorage, type Storage } from '@lifeboat/core';
import { describe, expect, it } from 'vitest';
import { fileSource } from './helpers.js';

/**
 * A backup's source checks (a database that answers) run while the storage is readied and
 * locked (issue 16: both are waits on other machines). A check that fails still fails the backup
 * once, under the lock: nothing is stored, the lock is released, the check is not run twice.
 */
function recordingStorage(events: string[]): Storage {
  const storage = memoryStorage();
  const put = storage.put.bind(storage);
  return Object.assign(storage, {
    put: async (...args: Parameters<Storage['put']>) => {
      if (args[0] === LOCK_KEY) {
        events.push('lock asked');
        await new Promise((r) => setTimeout(r, 20));
        const result = await put(...args);
        events.push('lock stored');
        return result;
      }
      return put(...args);
    },
  });
}

describe('source checks beside the lock', () => {
  it('a source is checked while the lock is taken, and backed up after it', async () => {
    const events: string[] = [];
    const { source } = fileSource({ 'a.txt': 'alpha' });
    const checked = Object.assign(source, {
      async connect() {
        events.push('check started');
        await new Promise((r) => setTimeout(r, 5));
        events.push('check done');
      },
    });
    const storage = recordingStorage(events);
    const result = await createEngine({ sources: [checked], storage }).backup();
    expect(result.files).toBe(1);
    expect(events.indexOf('check started')).toBeLessThan(events.indexOf('lock stored'));
    expect(events.filter((e) => e === 'check started')).toHaveLength(1);
  });

  it('a failed check fails the backup once: nothing stored, the lock released', async () => {
    const events: string[] = [];
    let checks = 0;
    const { source } = fileSource({ 'a.txt': 'alpha' });
    const failing = Object.assign(source, {
      async connect() {
        checks++;
        throw new LifeboatError('DATABASE_UNREACHABLE', 'the database does not answer');
      },
    });
    const storage = recordingStorage(events);
    const engine = createEngine({ sources: [failing], storage });
    await expect(engine.backup()).rejects.toMatchObject({ code: 'DATABASE_UNREACHABLE' });
    expect(checks).toBe(1);
    // The failure came under the lock (after it was stored), as when the check ran after it.
    expect(events).toContain('lock stored');
    const keys = (await storage.list()).map((o) => o.key);
    expect(keys.filter((k) => k.endsWith('.tar.gz'))).toEqual([]);
    expect(keys).not.toContain(LOCK_KEY);
    const history = await engine.history();
    expect(history[0]).toMatchObject({ ok: false, error: { code: 'DATABASE_UNREACHABLE' } });
  });
});
